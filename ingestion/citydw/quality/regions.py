"""GB/T 2260 administrative division codes: which 6-digit region codes exist, and when.

The investment project code (GB/T 40058-2021, ``YYYY-AAAAAA-DD-TT-RRRRRR``)
has no public check digit, so its region segment ``AAAAAA`` is what can be
checked: it must be a real division code that existed in the year ``YYYY``
the code was issued.

The table ships as package data, ``data/gbt2260_regions.csv`` (code, name,
first_year, last_year; an empty year is an open end; a code reused for
another division has one line per period). It is generated from
python-stdnum's ``stdnum/cn/loc.dat`` (python-stdnum 2.2), itself compiled
from the Wikipedia lists "中华人民共和国行政区划代码 (1区 … 8区)", which
follow GB/T 2260 and the Ministry of Civil Affairs' yearly change notices.
To refresh it after a division change (a county becoming a district …),
upgrade python-stdnum and run ``python -m citydw.quality.regions``; review
the diff for the province of the configured city before committing.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

DATA_FILE = "gbt2260_regions.csv"
# ASCII digits only: a full-width "２０２２" is what the clerk must retype.
PROJECT_CODE = re.compile(
    r"^(?P<year>\d{4})-(?P<region>\d{6})-(?P<industry>\d{2})-(?P<kind>\d{2})-(?P<serial>\d{6})$", re.ASCII
)


@dataclass(frozen=True)
class RegionPeriod:
    code: str
    name: str
    first_year: int | None  # None: since before the records begin
    last_year: int | None  # None: still in use

    def covers(self, year: int) -> bool:
        return (self.first_year is None or self.first_year <= year) and (
            self.last_year is None or year <= self.last_year
        )


@lru_cache(maxsize=1)
def region_periods() -> dict[str, tuple[RegionPeriod, ...]]:
    """Every known code with the periods it was in use."""
    text = resources.files("citydw.quality").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    periods: dict[str, list[RegionPeriod]] = {}
    for row in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        period = RegionPeriod(
            code=row["code"],
            name=row["name"],
            first_year=int(row["first_year"]) if row["first_year"] else None,
            last_year=int(row["last_year"]) if row["last_year"] else None,
        )
        periods.setdefault(period.code, []).append(period)
    return {code: tuple(found) for code, found in periods.items()}


def region_name(code: str, year: int | None = None) -> str | None:
    """The division's name (in ``year`` if given), or None if the code is not a division then."""
    for period in region_periods().get(code, ()):
        if year is None or period.covers(year):
            return period.name
    return None


def is_region_code(code: str, year: int | None = None) -> bool:
    """Whether ``code`` is a GB/T 2260 division code (in use in ``year``, if given)."""
    return region_name(code, year) is not None


def project_code_problem(code: object) -> str | None:
    """What is wrong with an investment project code, in Chinese; None when it is valid.

    The year of a code must not lie in the future of the region table's
    knowledge, so a code's year beyond the last year the table describes is
    checked against the divisions in use now.
    """
    if code is None:
        return None
    text = str(code).strip()
    match = PROJECT_CODE.match(text)
    if match is None:
        return "格式应为“年份-行政区划代码-行业代码-类别-流水号”，如 2022-321002-48-01-123456"
    year, region = int(match["year"]), match["region"]
    if region not in region_periods():
        return f"行政区划代码“{region}”不是有效的GB/T 2260代码"
    if not is_region_code(region, year):
        return f"行政区划代码“{region}”在{year}年不是有效的行政区划"
    return None


def is_valid_project_code(code: object) -> bool:
    return project_code_problem(code) is None


# --- regenerating the table (maintainers only) ---------------------------------------

_PROVINCE = re.compile(r'^(\d{2}) province="(.*)"$')
_COUNTY = re.compile(r'^\s+(\d{4}) county="(.*)"$')
_PERIOD = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")


def rows_from_stdnum() -> list[tuple[str, str, str, str]]:
    """(code, name, first_year, last_year) rows from python-stdnum's ``cn/loc.dat``."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    rows: list[tuple[str, str, str, str]] = []
    province = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if found := _PROVINCE.match(line):
            province = found[1]
            continue
        found = _COUNTY.match(line)
        if found is None or province is None:
            raise ValueError(f"unexpected line in stdnum cn/loc.dat: {line!r}")
        # "[1983-2001]郊区,[2002-2010]维扬区": one period per name.
        for part in found[2].split(","):
            period = _PERIOD.match(part)
            first, last, name = (period[1] or "", period[2] or "", period[3]) if period else ("", "", part)
            rows.append((province + found[1], name, first, last))
    return rows


def write_table(path: Path) -> int:
    rows = rows_from_stdnum()
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(
            "# GB/T 2260 division codes and the years each was in use (empty: open end).\n"
            "# Generated by `python -m citydw.quality.regions` from python-stdnum's stdnum/cn/loc.dat,\n"
            "# compiled from Wikipedia's 中华人民共和国行政区划代码 lists (GB/T 2260, MCA change notices).\n"
        )
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "first_year", "last_year"])
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":  # pragma: no cover - maintainers' tool
    target = Path(__file__).with_name("data") / DATA_FILE
    count = write_table(target)
    print(f"wrote {count} periods to {target}", file=sys.stderr)
