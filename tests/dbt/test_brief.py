"""The leaders' brief of a built month: every figure checked against the marts and the ten questions.

The sample city (tests/dbt/conftest.py) is loaded for 2021-12 to 2022-07 and
built by dbt; the brief of July is made from it, HTML and PDF. Each figure
the brief prints is then looked up independently — in the mart, or by
running the ten questions' SQL files as a BI user would — and formatted here,
without the brief's wording module, so a wrong query, a wrong rounding or a
wrong comparative fails. The page is opened in a real Chromium with every
request that is not a file of the brief's folder aborted, and the PDF's text
is read back with pdftotext.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from psycopg import sql

from citydw.brief.figures import collect
from citydw.brief.render import make_brief
from citydw.months import month_range
from citydw.quality import ledger
from citydw.registry import load_registry
from citydw.settings import get_settings
from citydw.transform import ensure_raw_tables, run_dbt

pytestmark = pytest.mark.slow

JULY = date(2022, 7, 1)
TEN_QUESTIONS = Path(__file__).resolve().parents[2] / "dbt_project" / "analyses" / "ten_questions"


def _sample_city() -> Any:
    """tests/dbt/conftest.py's loaders, for a module-wide fixture (its ``sample`` fixture is per test)."""
    spec = importlib.util.spec_from_file_location("brief_sample_city", Path(__file__).with_name("conftest.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def july(new_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The sample city to July 2022, built, and its July brief (HTML and PDF)."""
    sample = _sample_city()
    home = tmp_path_factory.mktemp("brief-home")
    with new_database() as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITYDW_HOME", str(home))
        patch.setenv("CITYDW_WAREHOUSE_URL", url)
        get_settings.cache_clear()
        ensure_raw_tables(url, get_settings())
        with psycopg.connect(url, autocommit=True) as conn:
            sample.load_reference_year(conn, 2021)
            for month in month_range(date(2021, 12, 1), JULY):
                sample.load_month(conn, month)
            ledger.refresh_schedule(conn, load_registry(), up_to=JULY)
        result = run_dbt(["build"], url=url)
        assert result.success, "\n".join(result.failures)
        with psycopg.connect(url, autocommit=True) as conn:
            brief = make_brief(JULY, conn=conn)
            yield SimpleNamespace(conn=conn, brief=brief, sample=sample, url=url)
    get_settings.cache_clear()


class BriefPage:
    """The brief as a leader opens it: a file in a browser that may not reach anything outside its folder."""

    def __init__(self, browser, index: Path):
        self.folder = index.parent.resolve()
        self.outside: list[str] = []
        self.page = browser.new_page()
        self.page.route("**/*", self._only_the_folder)
        self.page.goto(index.resolve().as_uri(), wait_until="load")

    def _only_the_folder(self, route) -> None:
        url = route.request.url
        if url.startswith(self.folder.as_uri() + "/"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    @property
    def text(self) -> str:
        return self.page.inner_text("body")

    def broken_images(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "img", "images => images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )


@pytest.fixture(scope="module")
def page(july, browser) -> Iterator[BriefPage]:
    brief_page = BriefPage(browser, july.brief.index)
    yield brief_page
    brief_page.page.close()


@pytest.fixture(scope="module")
def pdf_text(july) -> str:
    done = subprocess.run(["pdftotext", "-raw", str(july.brief.pdf), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def one(conn: psycopg.Connection, query: str) -> dict[str, Any]:
    cursor = conn.execute(query, {"month": JULY})
    names = [column.name for column in cursor.description]
    (row,) = cursor.fetchall()
    return dict(zip(names, row, strict=True))


def ask(conn: psycopg.Connection, number: int) -> list[dict[str, Any]]:
    """Question ``number``'s SQL file as a BI user runs it, July's rows (whether it returns one month or all)."""
    (path,) = TEN_QUESTIONS.glob(f"q{number:02d}_*.sql")
    conn.execute(sql.SQL("set citydw.report_month = {}").format(sql.Literal(JULY.isoformat())))
    cursor = conn.execute(path.read_text(encoding="utf-8"))
    names = [column.name for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return [row for row in rows if row["report_month"] == JULY]


def fixed(value: Decimal, places: int = 2) -> str:
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):.{places}f}"


def grouped(value: Decimal) -> str:
    """Thousands separators, no trailing zeros: 1,989,900 · 1,837.5."""
    text = f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    return text.rstrip("0").rstrip(".")


def flat(text: str) -> str:
    """The PDF's or page's text without line breaks, as a sentence reads."""
    return re.sub(r"\s+", "", text)


def test_the_bond_sentence_is_the_marts_with_the_right_words(july, page):
    city = one(july.conn, "select * from marts.bond_city_vs_province_monthly where report_month = %(month)s")
    growth = Decimal(city["issued_yoy_growth"]) * 100
    gap = Decimal(city["spending_progress_gap_pp"])
    rank_words = {1: "（全省最高）", city["province_city_count"]: "（全省最低）"}
    expected = (
        f"1-7月全市新增专项债券发行{grouped(city['issued_ytd_wan'])}万元，"
        f"同比{'增长' if growth > 0 else '下降'}{fixed(abs(growth))}%，"
        f"总额列全省第{city['province_rank_by_issued']}位{rank_words.get(city['province_rank_by_issued'], '')}，"
        f"增幅列全省第{city['province_rank_by_growth']}位{rank_words.get(city['province_rank_by_growth'], '')}；"
        f"支出进度{fixed(Decimal(city['spending_progress']) * 100)}%，"
        f"{'高于' if gap > 0 else '低于'}全省平均{fixed(abs(gap))}个百分点。"
    )
    # The sample city's bulletin: 6th by amount, 1st by growth (+32.66 %), below the provincial average.
    assert (city["province_rank_by_issued"], city["province_rank_by_growth"]) == (6, 1)
    assert "增长32.66%" in expected and "低于全省平均" in expected
    assert expected in flat(page.text)


def test_the_districts_spread_and_idle_money_are_q3s(july, page):
    districts = [row for row in ask(july.conn, 3) if row["rank_in_city"] is not None]
    best = [row["district_name"] for row in districts if row["rank_in_city"] == 1]
    worst = [
        row["district_name"] for row in districts if row["rank_in_city"] == max(r["rank_in_city"] for r in districts)
    ]
    assert len(best) == len(worst) == 1
    text = flat(page.text)
    assert (
        f"支出进度最快的是{best[0]}（{fixed(districts[0]['spending_progress'] * 100)}%），"
        f"最慢的是{worst[0]}（{fixed(districts[-1]['spending_progress'] * 100)}%），"
        f"相差{fixed(districts[0]['spread_pp'])}个百分点"
    ) in text
    idle = sum(row["idle_allocation_count"] for row in districts)
    unspent = sum(row["idle_unspent_wan"] for row in districts)
    assert f"有{idle}笔专项债券资金连续3个月未形成支出，未支出金额合计{grouped(unspent)}万元" in text


def test_the_projects_not_started_are_q4s(july, page):
    answers = ask(july.conn, 4)
    names = [name for row in answers for name in row["project_names"].split("、")]
    total = sum(row["projects_not_started"] for row in answers)
    investment = sum(row["total_investment_wan"] for row in answers)
    text = flat(page.text)
    assert total == 2
    assert f"尚有{total}个未按计划开工，总投资{grouped(investment)}万元" in text
    for name in names:
        assert name in text
    causes = {row["cause"] for row in answers}
    assert "要素保障" in causes and "要素保障1个" in text


def test_demolition_is_q5s_against_last_year_and_the_target(july, page):
    (city,) = [row for row in ask(july.conn, 5) if row["district_code"] is None]
    ytd, previous = city["ytd_demolished"], city["prev_year_total_demolished"]
    word = "已超过" if ytd > previous else "已达到" if ytd == previous else "尚未达到"
    assert word == "尚未达到"  # the sample city: 73.5 of last year's 126
    assert (
        f"1-7月全市完成拆迁{grouped(ytd)}万平方米，{word}上年全年总量（上年全年{grouped(previous)}万平方米，"
        f"为其{fixed(city['prev_year_total_rate'] * 100)}%），完成全年目标任务（{grouped(city['annual_target'])}万平方米）"
        f"的{fixed(city['target_completion_rate'] * 100)}%；征收土地{grouped(city['ytd_land_mu'])}亩"
    ) in flat(page.text)


def test_facilities_coverage_and_look_back_are_q6_and_q7s(july, page):
    text = flat(page.text)
    carried = ask(july.conn, 6)
    count = sum(row["carried_over_not_started"] for row in carried)
    assert count == 1
    listed = {row["facility_type"]: row["carried_over_not_started"] for row in carried}
    assert listed == {"kindergarten": 1}
    assert "至今仍未开工的民生设施幼儿园1个" in text
    assert "邗江区西湖幼儿园（规划）" in text
    coverage = ask(july.conn, 7)
    types = {row["facility_type"] for row in coverage}
    below = {row["facility_type"] for row in coverage if not row["meets_standard"]}
    # City level: Σ capacity ÷ Σ residents, checked on the districts' answers.
    city_below = {
        kind
        for kind in types
        if sum(r["capacity_in_service"] for r in coverage if r["facility_type"] == kind) * 1000
        < sum(r["standard_per_1000"] * r["resident_population"] for r in coverage if r["facility_type"] == kind)
    }
    assert city_below <= below
    assert f"{len(types)}类民生设施中{len(city_below)}类低于标准" in text


def test_the_look_back_list_of_every_month_is_q6s(july):
    """Each built month's 回头看 list, facility by type, adds up to question 6 of that month (a past month too)."""
    (path,) = TEN_QUESTIONS.glob("q06_*.sql")
    cursor = july.conn.execute(path.read_text(encoding="utf-8"))
    names = [column.name for column in cursor.description]
    answers = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    months = [month for (month,) in july.conn.execute(
        "select distinct report_month from marts.fct_facility_coverage_monthly order by report_month"
    )]  # fmt: skip
    assert len(months) >= 7
    carried_over = 0
    for month in months:
        q6 = Counter()
        for row in answers:
            if row["report_month"] == month:
                q6[row["facility_type_name"]] += row["carried_over_not_started"]
        listed = Counter()
        for row in collect(july.conn, month)["facilities_carried_over"]:
            for name in row["facility_type_names"].split("、"):
                listed[name] += 1
        assert listed == q6, month
        carried_over += sum(q6.values())
    assert carried_over > 0  # not a comparison of empty lists


def test_drainage_plans_and_deliveries_are_q8_q9_and_q10s(july, page):
    text = flat(page.text)
    behind = ask(july.conn, 8)
    assert behind
    assert f"{len(behind)}个滞后于计划" in text
    for row in behind:
        assert row["zone_name"] in text
    plans = ask(july.conn, 9)
    assert f"国土空间规划{sum(row['plans'] for row in plans)}项" in text
    departments = {row["department"] for row in ask(july.conn, 10) if row["report_month"] == JULY}
    names = dict(july.conn.execute("select department, department_name from marts.fct_department_delivery_monthly"))
    assert departments
    for department in departments:
        assert names[department] in text


def test_the_first_page_says_whether_the_figures_are_final(july, page):
    certified = july.conn.execute(
        "select is_certified from marts.dim_report_month where report_month = %s", (JULY,)
    ).fetchone()[0]
    status = page.page.inner_text("#status")
    assert status == ("正式数" if certified else "初步数（未确认）")
    assert page.page.inner_text("h1") == "扬州市2022年1-7月城乡建设运行简报"


def test_the_page_needs_nothing_outside_its_folder(july, page, tmp_path):
    assert page.outside == []
    assert page.broken_images() == []
    assert page.page.locator("img").count() >= 5  # three charts, the city map and the districts
    html = july.brief.index.read_text(encoding="utf-8")
    links = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    assert links and all(not re.match(r"^([a-z]+:|/|\.\.)", link) for link in links), links
    page.page.screenshot(path=tmp_path / "brief-first-page.png")


def test_the_map_draws_every_facility_with_coordinates(july):
    svg = (july.brief.folder / "charts" / "map.svg").read_text(encoding="utf-8")
    facilities = july.conn.execute(
        "select count(distinct (source_dataset, facility_id)) from marts.fct_facility_register_monthly"
        " where report_month = %s and lat is not null",
        (JULY,),
    ).fetchone()[0]
    assert facilities > 0
    assert svg.count("<title>") >= facilities
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_pdf_is_a4_with_page_numbers_embedded_fonts_and_the_headline(july, pdf_text):
    info = subprocess.run(["pdfinfo", str(july.brief.pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+59[45](\.\d+)? x 84[12](\.\d+)? pts \(A4\)", info), info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 3
    fonts = subprocess.run(["pdffonts", str(july.brief.pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(re.search(r"\byes\s+(yes|no)\s+yes\b", row) for row in rows), fonts  # embedded, unicode
    text = flat(pdf_text)
    city = one(july.conn, "select * from marts.bond_city_vs_province_monthly where report_month = %(month)s")
    assert "扬州市2022年1-7月城乡建设运行简报" in text
    assert f"同比增长{fixed(Decimal(city['issued_yoy_growth']) * 100)}%" in text
    assert f"总额列全省第{city['province_rank_by_issued']}位" in text
    assert f"增幅列全省第{city['province_rank_by_growth']}位（全省最高）" in text
    assert f"低于全省平均{fixed(abs(Decimal(city['spending_progress_gap_pp'])))}个百分点" in text
    for number in range(1, pages + 1):
        assert f"—{number}—" in text  # the footer's page number on every page


def test_citydw_brief_writes_both_files(july, tmp_path):
    import os
    import sys

    env = {**os.environ, "CITYDW_WAREHOUSE_URL": july.url, "CITYDW_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "citydw.cli", "brief", "--month", "2022-07"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    folder = tmp_path / "reports" / "2022-07" / "brief"
    assert (folder / "index.html").stat().st_size > 0 and (folder / "brief.pdf").read_bytes().startswith(b"%PDF")
    assert "nothing sent" in done.stdout and july.brief.fingerprint[:12] in done.stdout


def test_only_a_correction_that_changes_a_figure_changes_the_fingerprint(july):
    """Runs last: it corrects the warehouse. The same rows delivered again (a new version) and rebuilt leave
    the brief's fingerprint as it was, so nothing is sent again; the demolition office's corrected
    December changes last year's total in July's brief, and with it the fingerprint."""
    december = date(2021, 12, 1)
    july.sample.load_month(july.conn, december, only={"expropriation.demolition_progress"})
    assert run_dbt(["build"], url=july.url).success
    assert collect(july.conn, JULY).fingerprint == july.brief.fingerprint

    july.sample.load_month(july.conn, december, corrected=True, only={"expropriation.demolition_progress"})
    assert run_dbt(["build"], url=july.url).success
    corrected = collect(july.conn, JULY)
    assert corrected.fingerprint != july.brief.fingerprint
    (city,) = [row for row in corrected["demolition"] if row["district_code"] is None]
    assert city["prev_year_total_demolished"] != Decimal(126)
