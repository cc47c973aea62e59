"""The configured city: its code, districts (with the names clerks use) and province.

The city is configuration, not code: it is read from the CSV seeds under
``dbt_project/seeds/city/``, which dbt also loads into ``dim_district``, so
the readers and the warehouse can never disagree about it.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _fold(name: str) -> str:
    """Compare names the way a clerk means them: NFKC, no spaces."""
    return "".join(unicodedata.normalize("NFKC", name).split())


@dataclass(frozen=True)
class District:
    code: str
    name: str
    short_name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class City:
    code: str
    name: str
    province_code: str
    province_name: str
    timezone: str
    districts: tuple[District, ...]
    province_cities: dict[str, str] = field(default_factory=dict)  # code -> name

    @property
    def district_codes(self) -> list[str]:
        return [d.code for d in self.districts]

    @property
    def short_name(self) -> str:
        return self.name.removesuffix("市")

    def district_code(self, text: str | None) -> str | None:
        """The 6-digit code of a district named as a clerk names it, or None.

        Accepts the full name (江都区), the name without its suffix (江都),
        configured aliases, the city-prefixed name (扬州市江都区) and the code.
        """
        if text is None:
            return None
        folded = _fold(str(text))
        return self._lookup.get(folded) or self._lookup.get(
            folded.removeprefix(self.name).removeprefix(self.short_name)
        )

    @cached_property
    def _lookup(self) -> dict[str, str]:
        lookup: dict[str, str] = {}
        for district in self.districts:
            for name in (district.code, district.name, district.short_name, *district.aliases):
                if name:
                    lookup[_fold(name)] = district.code
        return lookup

    def province_city_code(self, text: str | None) -> str | None:
        """The code of a prefecture city of the province named by ``text``, or None."""
        if text is None:
            return None
        folded = _fold(str(text))
        for code, name in self.province_cities.items():
            if folded in (code, _fold(name), _fold(name).removesuffix("市")):
                return code
        return None


@lru_cache(maxsize=4)
def load_city(folder: Path | None = None) -> City:
    if folder is None:
        from citydw.settings import get_settings

        folder = get_settings().city_dir
    (city_row,) = _read_csv(folder / "city.csv")
    districts = tuple(
        District(
            code=row["district_code"],
            name=row["district_name"],
            short_name=row["short_name"],
            aliases=tuple(a for a in (row.get("aliases") or "").split("|") if a),
        )
        for row in _read_csv(folder / "districts.csv")
    )
    province_cities = {row["city_code"]: row["city_name"] for row in _read_csv(folder / "province_cities.csv")}
    return City(
        code=city_row["city_code"],
        name=city_row["city_name"],
        province_code=city_row["province_code"],
        province_name=city_row["province_name"],
        timezone=city_row["timezone"],
        districts=districts,
        province_cities=province_cities,
    )
