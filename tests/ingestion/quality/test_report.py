"""``citydw report --month``: the HTML report with its charts, the Data Docs, workbooks and notices, offline."""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builders import drc_project, drc_workbook

from citydw.orchestration import ingest_dataset
from citydw.quality import report

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATASET = "drc.major_projects"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "img":
            self.images.append(values["src"])
        if tag == "a":
            self.links.append(values["href"])
        for name in ("src", "href"):
            if (values.get(name) or "").startswith(("http://", "https://", "//")):
                self.external.append(values[name])


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.mark.slow
def test_the_month_report_has_charts_on_disk_data_docs_and_workbooks_and_reads_offline(db, drop, citydw_home):
    rows = [drc_project(1), drc_project(2)]
    drop(date(2022, 6, 1), "june.xlsx", drc_workbook(rows, date(2022, 6, 1)), datetime(2022, 7, 7, 9, tzinfo=SHANGHAI))
    july = [*rows, drc_project(3, 所在地区="<img src=x onerror=alert(1)>"), drc_project(4, **{"总投资（万元）": -1})]
    drop(date(2022, 7, 1), "july.xlsx", drc_workbook(july, date(2022, 7, 1)), datetime(2022, 8, 9, 9, tzinfo=SHANGHAI))
    for month in ("2022-06", "2022-07"):
        ingest_dataset(DATASET, month)

    result = report.run("2022-07")

    folder = Path(citydw_home) / "reports" / "2022-07"
    assert result.index == folder / "index.html"
    page = parse(result.index)
    assert len(page.images) == 4 and page.external == []
    for source in page.images:
        chart = folder / source
        assert chart.is_file() and chart.suffix == ".svg"
        assert chart.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert "报送及时性" in (folder / "charts" / "timeliness.svg").read_text(encoding="utf-8")
    html = result.index.read_text(encoding="utf-8")
    assert "扬州市2022年7月城建数据质量月报" in html and "已确认" in html
    assert "所在地区须为本市所辖区县" in html  # among the rules failing most
    assert "onerror=alert" not in html

    # Correction workbook, linked from the report.
    assert (folder / "corrections" / "drc.xlsx").is_file()
    assert "corrections/drc.xlsx" in page.links

    # Data Docs: an index, one page per delivery version, no CDN, department text escaped.
    assert "datadocs/index.html" in page.links
    docs = parse(folder / "datadocs" / "index.html")
    pages = [link for link in docs.links if link.endswith(".html") and not link.startswith("..")]
    assert pages == ["drc.major_projects/v1.html"]
    version_page = folder / "datadocs" / pages[0]
    text = version_page.read_text(encoding="utf-8")
    assert parse(version_page).external == [] and "<script" not in text.lower()
    assert "所在地区须为本市所辖区县" in text and "Great Expectations" in text
    assert "<img src=x" not in text

    # The notice went out once; running the report again writes the same files and sends nothing.
    assert result.alerts == 1
    again = report.run("2022-07")
    assert again.alerts == 0 and again.workbooks == result.workbooks
    assert db.execute("select count(*) from meta.alerts").fetchone() == (1,)


def test_a_month_with_nothing_received_still_gets_a_report(db, citydw_home):
    result = report.run("2022-03", build=True, notify=False)

    html = result.index.read_text(encoding="utf-8")
    assert "暂定" in html and "缺报" in html
    assert re.search(r'<img class="chart" src="charts/timeliness.svg"', html)
    assert result.workbooks == {}
