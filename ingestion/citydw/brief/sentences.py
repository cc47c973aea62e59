"""The sentences a leader reads out, one section per subject, written from the figures alone.

Each ``*_lead`` function takes the month's :class:`~citydw.brief.figures.Figures`
and returns the section's opening sentences; the first one is the section's
headline, which also goes to the chat routes. Numbers come from the query
results as they are (or counts of their rows), and every comparative comes
from :mod:`citydw.brief.wording`, chosen by the sign at the precision shown.
A query with no rows (a department has not delivered, the bulletin is not
out) gives a sentence that says so instead of a zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from citydw.brief import wording as w
from citydw.brief.figures import Figures, Row

BLOCKER_ORDER = ("要素保障", "征地拆迁", "行政审批", "考古勘探")
PLAN_STATUS_ORDER = ("已批复", "报批中", "编制中", "未启动")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lead: tuple[str, ...]

    @property
    def headline(self) -> str:
        return self.lead[0]


def month_end_label(month: date) -> str:
    return f"{month.month}月底"


def bonds_lead(figures: Figures) -> tuple[str, ...]:
    span = w.months_label(figures.month.month)
    city = figures.one("bonds_city")
    sentences = []
    if city is None:
        sentences.append(f"{span}全省新增专项债券发行使用情况通报尚未收到，全市发行额、全省排名及支出进度对比暂缺。")
    else:
        count = city["province_city_count"]
        sentences.append(
            f"{span}全市新增专项债券发行{w.wan(city['issued_ytd_wan'])}，{w.growth(city['issued_yoy_growth'])}，"
            f"总额{w.rank(city['province_rank_by_issued'], count)}，"
            f"增幅{w.rank(city['province_rank_by_growth'], count)}；"
            + (
                f"支出进度{w.percent(city['spending_progress'])}，{w.gap_to('全省平均', city['spending_progress_gap_pp'])}。"
                if city["spending_progress"] is not None
                else "全市专项债券资金使用情况表尚未报送，支出进度暂缺。"
            )
        )
    ranked = [row for row in figures["bonds_districts"] if row["rank_in_city"] is not None]
    if len(ranked) > 1:
        best = [row for row in ranked if row["rank_in_city"] == ranked[0]["rank_in_city"]]
        worst = [row for row in ranked if row["rank_in_city"] == ranked[-1]["rank_in_city"]]
        spread = ranked[0]["spread_pp"]
        if w.sign_at(spread, 2) == 0:
            sentences.append(f"分地区看，{len(ranked)}个地区支出进度均为{w.percent(ranked[0]['spending_progress'])}。")
        else:
            sentences.append(
                f"分地区看，支出进度最快的是{_named(best, w.percent(best[0]['spending_progress']))}，"
                f"最慢的是{_named(worst, w.percent(worst[0]['spending_progress']))}，"
                f"相差{w.points(spread)}。"
            )
    idle = figures["bonds_idle"]
    if idle:
        unspent = sum(row["unspent_wan"] for row in idle)
        districts = "、".join(dict.fromkeys(row["district_name"] or "未标明地区" for row in idle))
        sentences.append(
            f"有{len(idle)}笔专项债券资金连续3个月未形成支出，未支出金额合计{w.wan(unspent)}，涉及{districts}。"
        )
    elif ranked:
        sentences.append("未发现连续3个月未形成支出的专项债券资金。")
    return tuple(sentences)


def projects_lead(figures: Figures) -> tuple[str, ...]:
    summary = figures.one("projects_summary")
    if summary is None or not summary["projects"]:
        return (f"{figures.month.month}月重大项目调度表尚未报送，项目开工情况暂缺。",)
    label = month_end_label(figures.month)
    sentences = [
        f"全市纳入调度的重大项目{summary['projects']}个，计划{label}前开工{summary['planned_by_month_end']}个，"
        f"已开工{summary['started_of_planned']}个，开工率{w.percent(summary['start_rate'])}；"
        + (
            f"尚有{summary['not_started']}个未按计划开工，总投资{w.wan(summary['not_started_investment_wan'])}。"
            if summary["not_started"]
            else "计划开工项目均已开工。"
        )
    ]
    not_started = figures["projects_not_started"]
    if not_started:
        causes = Counter(row["cause"] for row in not_started)
        ordered = {cause: causes[cause] for cause in (*BLOCKER_ORDER, *sorted(set(causes) - set(BLOCKER_ORDER)))}
        sentences.append(f"未开工项目中，{w.count_list(ordered)}。")
    span = w.months_label(figures.month.month)
    sentences.append(
        f"{span}重大项目累计完成投资{w.wan(summary['ytd_investment_wan'])}，"
        f"占年度计划投资的{w.percent(summary['annual_investment_rate'])}。"
    )
    return tuple(sentences)


def demolition_lead(figures: Figures) -> tuple[str, ...]:
    rows = figures["demolition"]
    city = next((row for row in rows if row["district_code"] is None), None)
    if city is None or city["ytd_demolished"] is None:
        return (f"{figures.month.month}月征地拆迁进度表尚未报送，拆迁进度暂缺。",)
    span = w.months_label(figures.month.month)
    previous = city["prev_year_total_demolished"]
    done = (
        f"{span}全市完成拆迁{w.number(city['ytd_demolished'])}万平方米，"
        f"完成全年目标任务（{w.number(city['annual_target'])}万平方米）的{w.percent(city['target_completion_rate'])}"
    )
    if previous is None:
        sentences = [f"{done}；征收土地{w.number(city['ytd_land_mu'])}亩。上年全年拆迁量暂缺，暂无法与上年比较。"]
    else:
        sentences = [
            f"{span}全市完成拆迁{w.number(city['ytd_demolished'])}万平方米，"
            f"{w.against(city['ytd_demolished'], previous, '上年全年总量')}"
            f"（上年全年{w.number(previous)}万平方米，为其{w.percent(city['prev_year_total_rate'])}），"
            f"完成全年目标任务（{w.number(city['annual_target'])}万平方米）的{w.percent(city['target_completion_rate'])}；"
            f"征收土地{w.number(city['ytd_land_mu'])}亩。"
        ]
    districts = [row for row in rows if row["district_code"] is not None and row["target_completion_rate"] is not None]
    if len(districts) > 1:
        rates = [w.shown(row["target_completion_rate"] * 100, 2) for row in districts]
        if max(rates) == min(rates):
            sentences.append(
                f"分地区看，{len(districts)}个地区完成全年目标的比例均为{w.percent(districts[0]['target_completion_rate'])}。"
            )
        else:
            best = [row for row, rate in zip(districts, rates, strict=True) if rate == max(rates)]
            worst = [row for row, rate in zip(districts, rates, strict=True) if rate == min(rates)]
            sentences.append(
                f"分地区看，完成全年目标比例最高的是{_named(best, w.percent(best[0]['target_completion_rate']))}，"
                f"最低的是{_named(worst, w.percent(worst[0]['target_completion_rate']))}。"
            )
    return tuple(sentences)


def facilities_lead(figures: Figures) -> tuple[str, ...]:
    types = figures["facility_types"]
    if not types:
        return (f"{figures.month.month}月民生设施台账尚未报送，设施覆盖情况暂缺。",)
    meets = [row for row in types if _meets(row)]
    below = [row for row in types if not _meets(row)]
    parts = []
    if meets:
        parts.append(f"{len(meets)}类达到千人指标标准（{_type_names(meets)}）")
    if below:
        parts.append(f"{len(below)}类低于标准（{_type_names(below)}）")
    sentences = [f"按全市千人指标衡量，{len(types)}类民生设施中" + "，".join(parts) + "。"]
    shares = [row for row in figures["facility_districts"] if row["residents_within_radius_share"] is not None]
    if shares:
        lowest = min(w.shown(row["residents_within_radius_share"] * 100, 2) for row in shares)
        worst = [row for row in shares if w.shown(row["residents_within_radius_share"] * 100, 2) == lowest]
        named = "、".join(f"{row['district_name']}{row['facility_type_name']}" for row in worst[:4])
        more = f"等{len(worst)}项" if len(worst) > 4 else ""
        sentences.append(
            f"按服务半径衡量，居民覆盖比例最低的是{named}{more}（{w.percent(worst[0]['residents_within_radius_share'])}）。"
        )
    carried = figures["facilities_carried_over"]
    planned = sum(row["planned_this_year"] for row in types)
    started = sum(row["started_this_year"] for row in types)
    completed = sum(row["completed_this_year"] for row in types)
    if carried:
        # Counted by type, as fct_facility_coverage_monthly (Q6) counts: a nine-year school is a primary and a
        # middle school; the number of places is said too when the two differ.
        by_type = Counter(name for row in carried for name in row["facility_type_names"].split("、"))
        places = f"{len(carried)}处，按类型计" if sum(by_type.values()) != len(carried) else ""
        sentences.append(
            f"回头看：上年及以前计划建设、至今仍未开工的民生设施{places}{w.count_list(dict(by_type))}，须加快推进。"
        )
    else:
        sentences.append("回头看：上年及以前计划建设的民生设施均已开工。")
    sentences.append(
        f"今年计划建设民生设施{w.number(planned)}个，已开工{w.number(started)}个，已建成投用{w.number(completed)}个。"
    )
    return tuple(sentences)


def drainage_lead(figures: Figures) -> tuple[str, ...]:
    summary = figures.one("drainage")
    if summary is None or not summary["zones"]:
        return (f"{figures.month.month}月排水达标区建设进度表尚未报送，进度情况暂缺。",)
    text = f"全市排水达标区{summary['zones']}个，已达标{summary['zones_compliant']}个；"
    behind = figures["drainage_behind"]
    if not behind:
        return (text + "未达标的均按计划推进。",)
    overdue = [row for row in behind if row["is_overdue"]]
    text += f"{len(behind)}个滞后于计划"
    if overdue:
        text += f"，其中{len(overdue)}个已过计划年度仍未达标（{'、'.join(row['zone_name'] for row in overdue)}）"
    return (text + "。",)


def spatial_plans_lead(figures: Figures) -> tuple[str, ...]:
    rows = figures["spatial_plans"]
    if not rows:
        return (f"{figures.month.month}月“三级三类”国土空间规划编制进度尚未报送。",)
    total = sum(row["plans"] for row in rows)
    by_status = Counter[str]()
    for row in rows:
        by_status[row["status"]] += row["plans"]
    ordered = {s: by_status[s] for s in (*PLAN_STATUS_ORDER, *sorted(set(by_status) - set(PLAN_STATUS_ORDER)))}
    overdue = sum(row["plans_overdue"] for row in rows)
    tail = f"{overdue}项已超过计划批复时间仍未批复" if overdue else "没有超过计划批复时间未批复的规划"
    listed = w.count_list(ordered, "项", largest_first=False)
    return (f"全市“三级三类”国土空间规划{total}项，其中{listed}；{tail}。",)


def deliveries_lead(figures: Figures) -> tuple[str, ...]:
    status = figures.one("month_status")
    problems = figures["deliveries"]
    if status is None:
        return ("本月数据报送台账尚未生成。",)
    text = f"本月各部门应报数据{status['datasets_expected']}项，已接收{status['datasets_accepted']}项"
    counts = {
        "逾期报送": status["datasets_late"],
        "未报送": status["datasets_missing"],
        "被退回": status["datasets_rejected"],
        "已豁免": status["datasets_waived"],
    }
    listed = w.count_list(counts, "项")
    sentences = [text + (f"，其中{listed}。" if listed else "，均按时报送。")]
    for problem in ("未报送", "报送有误（被退回）", "逾期报送", "部分数据有误"):
        departments = list(dict.fromkeys(row["department_name"] for row in problems if row["problem"] == problem))
        if departments:
            sentences.append(f"本月{problem}的部门：{'、'.join(departments)}。")
    year = figures["deliveries_year"]
    totals = {
        "逾期报送": sum(row["late"] for row in year),
        "被退回": sum(row["rejected"] for row in year),
        "未报送": sum(row["missing"] for row in year),
    }
    if any(totals.values()):
        most = [row for row in year if row["late"] + row["rejected"] + row["missing"]][:3]
        sentences.append(
            f"{figures.month.year}年以来，各部门{w.count_list(totals, '项次')}，"
            f"较多的是{'、'.join(row['department_name'] for row in most)}。"
        )
    elif year:
        sentences.append(f"{figures.month.year}年以来，各部门均按时、按要求报送。")
    return tuple(sentences)


def status_line(figures: Figures) -> tuple[str, str]:
    """The first page's status: (``正式数`` or ``初步数（未确认）``, what is still missing)."""
    status = figures.one("month_status")
    if status is not None and status["is_certified"]:
        return "正式数", "本月各部门数据均已接收或经批准豁免，本简报数据为正式数。"
    outstanding = figures["month_outstanding"]
    if status is None:
        return "初步数（未确认）", "本月数据报送台账尚未生成，本简报数据为初步数，以正式数为准。"
    missing = "；".join(
        f"{row['department_name']}《{row['dataset_title']}》{row['what_is_missing']}" for row in outstanding
    )
    return "初步数（未确认）", f"本简报数据为初步数，以正式数为准。尚缺：{missing or '数据报送台账待更新'}。"


SECTIONS = (
    ("bonds", "一、专项债券发行和使用", bonds_lead),
    ("projects", "二、重大项目开工", projects_lead),
    ("demolition", "三、征地拆迁", demolition_lead),
    ("facilities", "四、民生设施建设和覆盖", facilities_lead),
    ("drainage", "五、排水达标区建设", drainage_lead),
    ("spatial_plans", "六、“三级三类”国土空间规划", spatial_plans_lead),
    ("deliveries", "七、部门数据报送", deliveries_lead),
)


def sections(figures: Figures) -> list[Section]:
    return [Section(key, title, lead(figures)) for key, title, lead in SECTIONS]


def _meets(row: Row) -> bool:
    per_1000 = row["capacity_per_1000"]
    return per_1000 is not None and per_1000 >= row["standard_per_1000"]


def _type_names(rows: list[Row]) -> str:
    return "、".join(row["facility_type_name"] for row in rows)


def _named(rows: list[Row], value: str) -> str:
    """``广陵区（48.00%）``, or for a tie ``广陵区、江都区（均为48.00%）``."""
    names = "、".join(row["district_name"] for row in rows)
    return f"{names}（均为{value}）" if len(rows) > 1 else f"{names}（{value}）"
