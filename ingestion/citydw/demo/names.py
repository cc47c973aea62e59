"""The demo city's local colour: places, project kinds, units, wordings.

Everything here is flavour for :mod:`citydw.demo.world`: what a Yangzhou
project is called, who is responsible for it, how long it takes and what a
clerk writes about it. Tables are keyed by district code; a district missing
from a table falls back to generic names, so the generator still works for a
city configured differently (it just reads less like Yangzhou).
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = ("基础设施", "先进制造业", "现代服务业", "民生", "区域开发", "生态环境", "水利和农业休闲")
BLOCKER_TYPES: tuple[str, ...] = ("要素保障", "征地拆迁", "行政审批", "考古勘探", "资金", "其他")

# Share of the list by category, roughly that of Jiangsu cities' published lists.
CATEGORY_WEIGHTS: dict[str, float] = {
    "基础设施": 0.24,
    "先进制造业": 0.26,
    "现代服务业": 0.12,
    "民生": 0.15,
    "区域开发": 0.06,
    "生态环境": 0.09,
    "水利和农业休闲": 0.08,
}

# Towns (镇/街道), roads, areas, rivers and lakes, development zones, per district.
TOWNS: dict[str, tuple[str, ...]] = {
    "321002": ("湾头", "杭集", "沙头", "头桥", "李典", "汤汪", "曲江"),
    "321003": ("瓜洲", "甘泉", "杨庙", "公道", "方巷", "槐泗", "汊河", "蒋王"),
    "321012": ("仙女", "邵伯", "小纪", "真武", "宜陵", "大桥", "丁沟", "郭村", "樊川", "武坚"),
    "321023": ("安宜", "氾水", "射阳湖", "曹甸", "范水", "夏集", "柳堡", "广洋湖", "鲁垛", "山阳"),
    "321081": ("真州", "青山", "新集", "新城", "刘集", "陈集", "月塘", "马集", "大仪"),
    "321084": ("界首", "临泽", "三垛", "汤庄", "卸甲", "送桥", "菱塘", "车逻", "甘垛", "龙虬"),
}
ROADS: dict[str, tuple[str, ...]] = {
    "321002": ("文昌东路", "运河南路", "沙湾路", "渡江南路", "广陵路", "杭集大道", "万福路", "解放南路"),
    "321003": ("扬子江北路", "邗江路", "文昌西路", "维扬路", "润扬路", "念四路", "平山堂路", "开发西路"),
    "321012": ("龙川路", "长江路", "舜天路", "工农路", "滨江路", "文昌东路江都段", "大桥路"),
    "321023": ("安宜路", "叶挺路", "白田路", "苏中路", "宝应大道", "城北路"),
    "321081": ("真州路", "大庆路", "胥浦路", "扬子路", "新城大道", "仪征大道"),
    "321084": ("海潮路", "盂城路", "屏淮路", "北海路", "武安路", "文游路"),
}
AREAS: dict[str, tuple[str, ...]] = {
    "321002": ("广陵新城", "曲江", "湾头", "杭集", "沙头", "运河三湾"),
    "321003": ("西区新城", "蜀冈", "瘦西湖", "甘泉", "汊河", "新盛"),
    "321012": ("龙川", "滨江新城", "仙城", "大桥", "邵伯湖"),
    "321023": ("安宜", "宝应湖", "射阳湖", "城南新区"),
    "321081": ("真州新城", "枣林湾", "青山", "扬子津", "天乐湖"),
    "321084": ("高邮湖", "盂城", "城南经济新区", "清水潭", "珠湖"),
}
WATERS: dict[str, tuple[str, ...]] = {
    "321002": ("古运河", "廖家沟", "夹江", "沙头河", "太平河"),
    "321003": ("仪扬河", "邗沟", "七里河", "沿山河", "新城河"),
    "321012": ("新通扬运河", "芒稻河", "三阳河", "邵仙河", "白塔河"),
    "321023": ("宝应湖", "潼河", "京杭大运河宝应段", "大三王河", "北澄子河"),
    "321081": ("仪扬河", "胥浦河", "龙河", "月塘水库", "铜山小河"),
    "321084": ("北澄子河", "南澄子河", "高邮湖", "横泾河", "东平河"),
}
ZONES: dict[str, tuple[str, ...]] = {
    "321002": ("扬州经济技术开发区", "广陵经济开发区", "扬州食品产业园"),
    "321003": ("扬州高新技术产业开发区", "邗江经济开发区", "扬州维扬经济开发区"),
    "321012": ("江都高新技术产业开发区", "江都经济开发区", "扬州沿江开发区"),
    "321023": ("宝应经济开发区", "宝应安宜工业园区"),
    "321081": ("仪征经济开发区", "仪征汽车工业园", "扬州化学工业园区"),
    "321084": ("高邮经济开发区", "高邮高新技术产业开发区", "高邮湖西新区"),
}
GENERIC_TOWNS = ("城东", "城西", "城南", "城北", "新港", "临江")
GENERIC_ROADS = ("迎宾大道", "滨江路", "工业大道", "人民路", "建设路", "友谊路")
GENERIC_AREAS = ("新城", "高新区", "滨江", "老城")
GENERIC_WATERS = ("城区主干河道", "护城河", "东干渠", "西干渠")
GENERIC_ZONES = ("经济开发区", "高新技术产业开发区")

# City-level state-owned groups and bureaux; {city} is the city's name.
CITY_GROUPS: dict[str, str] = {
    "urban": "{city}城建国有资产控股（集团）有限责任公司",
    "transport": "{city}交通产业集团有限责任公司",
    "river": "{city}扬子江投资发展集团有限责任公司",
    "culture": "{city}文化旅游集团有限公司",
    "ecology": "{city}生态科技新城管理委员会",
    "grid": "国网江苏省电力有限公司{city_short}供电分公司",
}

# Brand syllables for the enterprises behind manufacturing and service projects.
BRANDS = (
    "恒润",
    "华宇",
    "鑫源",
    "维扬",
    "广达",
    "金湾",
    "瑞峰",
    "天成",
    "泰德",
    "奥新",
    "嘉盛",
    "锦泰",
    "宏远",
    "海晨",
    "联创",
    "润昇",
    "中扬",
    "汇通",
    "佳禾",
    "远航",
    "晶诚",
    "博信",
    "东升",
    "亚星",
)


@dataclass(frozen=True)
class Kind:
    """A kind of project: how it is named, who runs it, its size and pace.

    ``sector`` says which later feed the project also belongs to (transport
    and water projects are reported by their bureaux too, schools by
    education …); ``family`` picks the wording of its 形象进度.
    """

    category: str
    sector: str
    family: str  # road, building, factory, water, generic
    names: tuple[str, ...]
    units: tuple[str, ...]
    industry: str  # GB/T 4754 division, the DD segment of the project code
    approval: str  # TT segment: 01 审批, 02 核准, 03 备案
    investment: tuple[int, int]  # 万元
    months: tuple[int, int]  # planned construction time
    bond_share: float
    weight: float = 1.0
    trade: str = ""  # what the enterprise behind it is called after ("新能源科技")


# Placeholders: {city} 扬州市, {city_short} 扬州, {district} 江都区, {district_short} 江都,
# {town}/{town2}, {road}, {area}, {water}, {zone}, {company} (华宇新能源科技), {company_full}
# (扬州华宇置业有限公司), {group_*} (CITY_GROUPS), {n} a count, {n3} a road number,
# {gw} GWh, {kv} a voltage, {year} the year the project is first listed.
KINDS: tuple[Kind, ...] = (
    # 基础设施
    Kind(
        category="基础设施",
        sector="transport",
        family="road",
        names=(
            "{road}快速化改造工程",
            "{town}至{town2}公路新建工程",
            "{road}（{town}段）改扩建工程",
            "G328国道{district_short}段改扩建工程",
            "S{n3}省道{district_short}段改扩建工程",
            "{town}互通立交工程",
            "{water}大桥新建工程",
        ),
        units=("{city}交通运输局", "{district}交通运输局", "{group_transport}", "{district}人民政府"),
        industry="48",
        approval="01",
        investment=(8_000, 320_000),
        months=(18, 36),
        bond_share=0.5,
        weight=3.0,
    ),
    Kind(
        category="基础设施",
        sector="transport",
        family="road",
        names=(
            "北沿江高铁{district_short}段配套工程",
            "北沿江高铁{district_short}站站前广场及配套工程",
            "{city_short}港{district_short}港区{n}号泊位工程",
        ),
        units=("{group_transport}", "{city}交通运输局"),
        industry="48",
        approval="01",
        investment=(60_000, 800_000),
        months=(30, 48),
        bond_share=0.45,
        weight=0.4,
    ),
    Kind(
        category="基础设施",
        sector="utility",
        family="building",
        names=(
            "{district_short}{town}{kv}千伏输变电工程",
            "{district_short}{town}天然气高压管网工程",
            "{district_short}{town}片区城乡供水一体化工程",
            "{city_short}市区{area}片区供水管网改造工程",
            "{district_short}{area}数据中心建设项目",
        ),
        units=("{group_grid}", "{group_urban}", "{district}住房和城乡建设局"),
        industry="44",
        approval="02",
        investment=(5_000, 120_000),
        months=(12, 24),
        bond_share=0.2,
        weight=1.2,
    ),
    # 先进制造业
    Kind(
        category="先进制造业",
        sector="industry",
        family="factory",
        names=(
            "{company}年产{gw}GWh动力电池项目",
            "{company}光伏电池片及组件项目",
            "{company}储能系统集成制造项目",
        ),
        units=("{zone}管理委员会", "{district}人民政府"),
        industry="38",
        approval="03",
        investment=(50_000, 600_000),
        months=(14, 30),
        bond_share=0.0,
        trade="新能源科技",
    ),
    Kind(
        category="先进制造业",
        sector="industry",
        family="factory",
        names=(
            "{company}新能源汽车零部件智能制造项目",
            "{company}年产{n}万套汽车轻量化部件项目",
        ),
        units=("{zone}管理委员会", "{district}人民政府"),
        industry="36",
        approval="03",
        investment=(20_000, 300_000),
        months=(12, 24),
        bond_share=0.0,
        trade="汽车部件",
    ),
    Kind(
        category="先进制造业",
        sector="industry",
        family="factory",
        names=(
            "{company}高端数控机床产业化项目",
            "{company}产业园项目",
            "{company}工业机器人生产基地",
        ),
        units=("{zone}管理委员会", "{district}人民政府"),
        industry="34",
        approval="03",
        investment=(10_000, 200_000),
        months=(12, 24),
        bond_share=0.0,
        trade="智能装备",
    ),
    Kind(
        category="先进制造业",
        sector="industry",
        family="factory",
        names=(
            "{company}集成电路封装测试项目",
            "{company}半导体材料产业化项目",
            "{company}高端传感器芯片项目",
        ),
        units=("{zone}管理委员会", "{district}人民政府"),
        industry="39",
        approval="03",
        investment=(30_000, 500_000),
        months=(14, 30),
        bond_share=0.0,
        trade="半导体",
    ),
    Kind(
        category="先进制造业",
        sector="industry",
        family="factory",
        names=(
            "{company}年产{n}万吨高性能膜材料项目",
            "{company}高端化学品项目",
        ),
        units=("{zone}管理委员会", "{district}人民政府"),
        industry="26",
        approval="02",
        investment=(20_000, 400_000),
        months=(14, 30),
        bond_share=0.0,
        trade="新材料",
    ),
    Kind(
        category="先进制造业",
        sector="industry",
        family="factory",
        names=(
            "{company}产业化基地",
            "{company}高端医疗器械生产项目",
        ),
        units=("{zone}管理委员会", "{district}人民政府"),
        industry="27",
        approval="03",
        investment=(10_000, 200_000),
        months=(12, 24),
        bond_share=0.0,
        trade="生物医药",
    ),
    Kind(
        category="先进制造业",
        sector="industry",
        family="factory",
        names=(
            "{company}海工配套设备项目",
            "{company}绿色智能船舶制造项目",
        ),
        units=("{zone}管理委员会", "{district}人民政府"),
        industry="37",
        approval="03",
        investment=(20_000, 300_000),
        months=(14, 30),
        bond_share=0.0,
        weight=0.6,
        trade="船舶重工",
    ),
    # 现代服务业
    Kind(
        category="现代服务业",
        sector="services",
        family="building",
        names=(
            "{area}商业综合体项目",
            "{district_short}{area}总部经济大楼",
            "{area}星级酒店项目",
            "{area}科创中心项目",
        ),
        units=("{district}人民政府", "{company_full}"),
        industry="70",
        approval="03",
        investment=(20_000, 300_000),
        months=(18, 36),
        bond_share=0.0,
        trade="置业",
    ),
    Kind(
        category="现代服务业",
        sector="services",
        family="building",
        names=(
            "{town}冷链物流园项目",
            "{district_short}{town}电商物流中心",
            "{zone}智慧物流园项目",
        ),
        units=("{district}人民政府", "{company_full}"),
        industry="59",
        approval="03",
        investment=(10_000, 150_000),
        months=(12, 24),
        bond_share=0.0,
        trade="物流",
    ),
    Kind(
        category="现代服务业",
        sector="services",
        family="building",
        names=(
            "{city_short}数字经济产业园（{area}）",
            "{district_short}{area}软件和信息服务产业园",
            "{area}文化创意产业园",
        ),
        units=("{district}人民政府", "{group_culture}"),
        industry="65",
        approval="01",
        investment=(10_000, 200_000),
        months=(14, 30),
        bond_share=0.15,
    ),
    Kind(
        category="现代服务业",
        sector="services",
        family="building",
        names=(
            "运河{area}文旅街区提升工程",
            "{district_short}{town}古镇文旅项目",
            "{water}风光带文旅综合体",
        ),
        units=("{group_culture}", "{district}人民政府", "{city}文化广电和旅游局"),
        industry="87",
        approval="01",
        investment=(10_000, 200_000),
        months=(14, 30),
        bond_share=0.25,
    ),
    # 民生
    Kind(
        category="民生",
        sector="education",
        family="building",
        names=(
            "{district_short}{area}小学新建工程",
            "{district_short}{town}中学改扩建工程",
            "{district_short}{area}幼儿园新建工程",
            "{city_short}市{area}九年一贯制学校新建工程",
        ),
        units=("{district}教育局", "{city}教育局"),
        industry="47",
        approval="01",
        investment=(5_000, 60_000),
        months=(12, 24),
        bond_share=0.5,
        weight=1.6,
    ),
    Kind(
        category="民生",
        sector="health",
        family="building",
        names=(
            "{district}人民医院新院区建设工程",
            "{district}中医院扩建工程",
            "{district_short}{town}社区卫生服务中心新建工程",
            "{district_short}{town}卫生院改扩建工程",
        ),
        units=("{district}卫生健康委员会", "{city}卫生健康委员会"),
        industry="47",
        approval="01",
        investment=(8_000, 150_000),
        months=(18, 36),
        bond_share=0.5,
        weight=1.2,
    ),
    Kind(
        category="民生",
        sector="elderly_care",
        family="building",
        names=(
            "{district_short}{town}街道养老服务综合体",
            "{district_short}{town}颐养中心建设工程",
            "{district_short}{area}日间照料中心",
        ),
        units=("{district}民政局", "{city}民政局"),
        industry="47",
        approval="01",
        investment=(5_000, 40_000),
        months=(12, 20),
        bond_share=0.4,
        weight=0.8,
    ),
    Kind(
        category="民生",
        sector="parking",
        family="building",
        names=(
            "{area}公共停车场建设工程",
            "{district_short}{road}智慧停车楼",
        ),
        units=("{city}城市管理局", "{district}城市管理局", "{group_urban}"),
        industry="47",
        approval="01",
        investment=(5_000, 30_000),
        months=(10, 18),
        bond_share=0.4,
        weight=0.6,
    ),
    Kind(
        category="民生",
        sector="housing",
        family="building",
        names=(
            "{area}保障性租赁住房项目",
            "{year}年{district}老旧小区改造工程",
            "{district_short}{town}安置房项目",
        ),
        units=("{district}住房和城乡建设局", "{group_urban}"),
        industry="47",
        approval="01",
        investment=(10_000, 200_000),
        months=(18, 36),
        bond_share=0.5,
        weight=1.2,
    ),
    Kind(
        category="民生",
        sector="sports",
        family="building",
        names=(
            "{district_short}{area}体育公园建设工程",
            "{district_short}{area}全民健身中心工程",
        ),
        units=("{district}人民政府", "{city}体育局"),
        industry="47",
        approval="01",
        investment=(5_000, 80_000),
        months=(12, 24),
        bond_share=0.3,
        weight=0.5,
    ),
    # 区域开发
    Kind(
        category="区域开发",
        sector="development",
        family="generic",
        names=(
            "{area}片区综合开发项目",
            "{district_short}{town}特色小镇建设项目",
            "{area}城中村改造项目",
            "{area}新城基础设施配套工程",
            "{zone}标准厂房建设项目",
        ),
        units=("{district}人民政府", "{group_urban}", "{group_ecology}", "{zone}管理委员会"),
        industry="70",
        approval="01",
        investment=(30_000, 800_000),
        months=(24, 48),
        bond_share=0.35,
    ),
    # 生态环境
    Kind(
        category="生态环境",
        sector="ecology",
        family="water",
        names=(
            "{water}水环境综合整治工程",
            "长江岸线{district_short}段生态修复工程",
            "{area}湿地公园建设工程",
        ),
        units=("{city}生态环境局", "{group_river}", "{district}人民政府"),
        industry="77",
        approval="01",
        investment=(5_000, 150_000),
        months=(12, 30),
        bond_share=0.45,
    ),
    Kind(
        category="生态环境",
        sector="drainage",
        family="building",
        names=(
            "{district_short}{town}污水处理厂扩建及提标改造工程",
            "{year}年{district}雨污分流改造工程",
            "{area}片区排水达标区建设工程",
        ),
        units=("{district}住房和城乡建设局", "{group_urban}", "{city}城市管理局"),
        industry="46",
        approval="01",
        investment=(5_000, 120_000),
        months=(12, 24),
        bond_share=0.45,
    ),
    Kind(
        category="生态环境",
        sector="ecology",
        family="building",
        names=(
            "{district_short}生活垃圾焚烧发电项目",
            "{district_short}餐厨废弃物处理中心",
            "{district_short}固体废物综合处置中心",
        ),
        units=("{city}城市管理局", "{group_urban}"),
        industry="78",
        approval="02",
        investment=(10_000, 200_000),
        months=(18, 30),
        bond_share=0.3,
        weight=0.6,
    ),
    # 水利和农业休闲
    Kind(
        category="水利和农业休闲",
        sector="water",
        family="water",
        names=(
            "{water}堤防加固工程",
            "{water}综合整治工程",
            "{district_short}{town}泵站更新改造工程",
            "{year}年{district}中小河流治理工程",
            "{year}年{district}灌区续建配套与节水改造工程",
            "{water}退圩还湖工程",
        ),
        units=("{city}水利局", "{district}水利局"),
        industry="76",
        approval="01",
        investment=(5_000, 150_000),
        months=(10, 24),
        bond_share=0.55,
        weight=1.4,
    ),
    Kind(
        category="水利和农业休闲",
        sector="agriculture",
        family="generic",
        names=(
            "{year}年{district_short}{town}高标准农田建设项目",
            "{district_short}{town}现代农业产业园",
            "{district_short}{town}农文旅融合发展项目",
            "{area}生态农业观光园",
        ),
        units=("{district}农业农村局", "{district}人民政府"),
        industry="01",
        approval="01",
        investment=(5_000, 60_000),
        months=(10, 20),
        bond_share=0.15,
    ),
)

# What clerks write under 存在问题 for each blocker type, before a project starts; {n} is a count.
BLOCKER_NOTES: dict[str, tuple[str, ...]] = {
    "要素保障": (
        "项目用地指标尚未落实，已申请省级用地指标",
        "用地报批材料已报省自然资源厅，等待批复",
        "耕地占补平衡指标不足",
        "能耗指标尚未落实",
        "砂石等主要建材供应紧张",
    ),
    "征地拆迁": (
        "红线范围内尚有{n}户居民未签订征收协议",
        "{n}亩集体土地征收尚未完成",
        "涉及{n}家企业搬迁，补偿协议正在协商",
        "杆线及管线迁改尚未完成",
    ),
    "行政审批": (
        "施工许可证正在办理",
        "环评报告待批复",
        "初步设计及概算尚未批复",
        "建设工程规划许可证办理中",
        "施工图审查尚未完成",
    ),
    "考古勘探": (
        "地块位于地下文物埋藏区，正在开展考古勘探",
        "考古勘探发现古墓葬，正在进行抢救性发掘",
    ),
    "资金": (
        "项目资本金未足额到位",
        "融资方案尚未落实",
        "企业投资计划调整，资金筹措困难",
        "上级补助资金尚未下达",
    ),
    "其他": (
        "设计方案调整，重新报审中",
        "与相关单位协调建设条件",
        "施工单位招标流标，重新组织招标",
    ),
}
# … and for a project that stalls while building.
STALL_NOTES: dict[str, tuple[str, ...]] = {
    "资金": (
        "工程款支付滞后，施工单位放缓进度",
        "项目资本金未足额到位",
        "后续建设资金缺口较大，融资尚未落实",
    ),
    "征地拆迁": (
        "红线范围内尚有{n}户未完成拆迁，影响施工作业面",
        "杆线及管线迁改尚未完成，影响施工",
    ),
    "要素保障": (
        "砂石等主要建材供应紧张",
        "临时用地手续尚未办结",
    ),
    "其他": (
        "设计方案调整，重新报审中",
        "受汛期影响，部分工序暂停",
        "受环保管控影响，土方作业暂停",
        "与相关单位协调交叉施工问题",
    ),
}
BOND_FUND_NOTE = "专项债券资金尚未拨付到位"

# 形象进度 before the start, by how many months are left until it.
PREPARATION_NOTES: tuple[tuple[int, str], ...] = (
    (12, "正在开展前期工作，项目建议书已批复"),
    (6, "可行性研究报告已批复，正在办理用地手续"),
    (3, "正在进行初步设计及施工图设计"),
    (1, "施工图审查完成，正在组织施工招标"),
    (0, "施工单位已确定，正在进行开工准备"),
)
START_NOTES: dict[str, str] = {
    "road": "已开工，正在进行场地清表及临时便道施工",
    "building": "已开工，正在进行场地平整及桩基施工",
    "factory": "已开工，正在进行厂房基础施工",
    "water": "已开工，正在进行施工导流及围堰施工",
    "generic": "已开工，正在进行场地平整",
}
# 形象进度 under construction: (share of the work done below which it applies, wording).
PROGRESS_NOTES: dict[str, tuple[tuple[float, str], ...]] = {
    "road": (
        (0.3, "路基施工"),
        (0.6, "桥梁下部结构施工"),
        (0.85, "路面工程施工"),
        (1.01, "交通安全设施及附属工程施工"),
    ),
    "building": (
        (0.25, "桩基及基础施工"),
        (0.6, "主体结构施工"),
        (0.85, "主体已封顶，正在进行装饰装修"),
        (1.01, "室外配套工程施工"),
    ),
    "factory": (
        (0.3, "厂房基础施工"),
        (0.6, "厂房主体钢结构施工"),
        (0.85, "设备采购及安装"),
        (1.01, "设备调试，准备试生产"),
    ),
    "water": (
        (0.3, "河道疏浚及土方施工"),
        (0.6, "护坡及堤防施工"),
        (0.85, "配套建筑物施工"),
        (1.01, "绿化及附属工程施工"),
    ),
    "generic": ((0.3, "基础工程施工"), (0.6, "主体工程施工"), (0.85, "配套工程施工"), (1.01, "收尾工程施工")),
}
COMPLETION_NOTES: dict[str, str] = {
    "road": "已建成通车",
    "building": "已竣工，正在办理竣工验收",
    "factory": "已建成投产",
    "water": "已完工，正在办理竣工验收",
    "generic": "已完工",
}
STALL_NOTE = "暂停施工"

# -- facilities, communities, plans: flavour for the other departments' worlds ------------

# Words schools, communities and parking lots are named after, besides roads and areas.
SCHOOL_WORDS = (
    "育才",
    "梅岭",
    "汶河",
    "东关",
    "琼花",
    "田家炳",
    "竹西",
    "新华",
    "解放桥",
    "维扬",
    "文津",
    "翠岗",
    "树人",
    "宏扬",
    "弘扬",
    "沙口",
    "花园",
    "启明",
    "博文",
    "红桥",
    "翠园",
    "朝阳",
    "实验",
    "八一",
)
PRIVATE_KINDERGARTEN_WORDS = ("小太阳", "金色童年", "贝贝", "七彩", "蓝天", "童心", "星星", "小天使", "爱儿", "未来星")
COMMUNITY_SUFFIXES = (
    "花园",
    "新村",
    "小区",
    "苑",
    "家园",
    "公寓",
    "名邸",
    "雅居",
    "嘉园",
    "华府",
    "一村",
    "二村",
    "三村",
    "城市花园",
    "锦苑",
    "佳苑",
    "华庭",
    "丽景",
    "新城",
    "世家",
)
VILLAGE_WORDS = (
    "王庄",
    "李庄",
    "新河",
    "张桥",
    "三里",
    "沙湾",
    "联合",
    "永安",
    "红星",
    "胜利",
    "建华",
    "双桥",
    "五里",
    "大兴",
    "长塘",
    "东湖",
    "西湖",
    "新桥",
    "陈庄",
    "刘庄",
    "薛家",
    "杨湾",
    "高桥",
    "黄珏",
)
# 市级相关专项规划 (the city's special plans of 三级三类).
CITY_SPECIAL_PLANS = (
    "综合交通体系规划",
    "历史文化名城保护规划",
    "市政基础设施专项规划",
    "综合防灾减灾规划",
    "生态空间保护规划",
    "公共服务设施专项规划",
    "地下空间开发利用规划",
    "海绵城市专项规划",
    "绿地系统专项规划",
    "城市更新专项规划",
    "养老服务设施布局专项规划",
    "教育设施布局专项规划",
)
COUNTY_SPECIAL_PLANS = ("综合交通专项规划", "市政基础设施专项规划", "历史文化保护专项规划", "教育设施布局专项规划")
