"""What the generator asks a department writer for, and what the writer hands back.

``generate`` decides, for a dataset and a month, when the delivery arrives
and which of the year's defects fall on it (an :class:`Order`); the
department's writer renders the file (a :class:`Rendered`). Writers never
decide lateness or whether a delivery arrives at all, so those defects work
the same for every department.

:data:`CATALOGUE` lists the fourteen datasets as DEPARTMENTS.md describes
them: channel, due day and the department's name. It is the fallback for a
dataset the registry does not have yet; where the registry has the dataset,
its channel path and contacts win.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from citydw.demo.manifest import Defect
from citydw.registry import Contact, DatasetSpec, Department


@dataclass(frozen=True)
class CatalogueEntry:
    dataset: str  # department.dataset
    department_name: str
    channel: Literal["file", "api"]
    format: Literal["xlsx", "csv", "json"]
    due_working_day: int | None = 5  # None for yearly data, due 31 March of the next year
    yearly: bool = False

    @property
    def department(self) -> str:
        return self.dataset.split(".")[0]

    @property
    def name(self) -> str:
        return self.dataset.split(".")[1]

    @property
    def default_path(self) -> str:
        return f"{self.department}/{self.name}/{{month}}"


CATALOGUE: dict[str, CatalogueEntry] = {
    entry.dataset: entry
    for entry in (
        CatalogueEntry("drc.major_projects", "市发展和改革委员会", "file", "xlsx"),
        CatalogueEntry("finance.bond_allocations", "市财政局", "file", "csv"),
        CatalogueEntry("finance.province_bond_bulletin", "市财政局", "file", "xlsx", due_working_day=10),
        CatalogueEntry("nrp.spatial_plans", "市自然资源和规划局", "file", "xlsx"),
        CatalogueEntry("housing.renovation_projects", "市住房和城乡建设局", "file", "xlsx"),
        CatalogueEntry("housing.drainage_zones", "市住房和城乡建设局", "file", "xlsx"),
        CatalogueEntry("transport.transport_projects", "市交通运输局", "api", "json"),
        CatalogueEntry("water.water_projects", "市水利局", "file", "csv"),
        CatalogueEntry("education.schools", "市教育局", "api", "json"),
        CatalogueEntry("health.clinics", "市卫生健康委员会", "api", "json"),
        CatalogueEntry("civil_affairs.elderly_care", "市民政局", "api", "json"),
        CatalogueEntry("urban_mgmt.parking_lots", "市城市管理局", "file", "csv"),
        CatalogueEntry("expropriation.demolition_progress", "市房屋征收办公室", "file", "xlsx"),
        CatalogueEntry("stats.population", "市统计局", "file", "csv", due_working_day=None, yearly=True),
        CatalogueEntry("stats.residential_communities", "市统计局", "file", "csv", due_working_day=None, yearly=True),
    )
}
YEARLY_DUE = (3, 31)
"""Yearly reference data is due on 31 March of the year after the one it describes."""

# A clerk to sign a department's notes when the registry has no contact for it yet.
FALLBACK_CONTACTS: dict[str, Contact] = {
    "finance": Contact(name="陈晓燕", phone="0514-87360201"),
    "nrp": Contact(name="刘志强", phone="0514-87360301"),
    "housing": Contact(name="张丽华", phone="0514-87360401"),
    "transport": Contact(name="赵海军", phone="0514-87360501"),
    "water": Contact(name="孙玉梅", phone="0514-87360601"),
    "education": Contact(name="周文静", phone="0514-87360701"),
    "health": Contact(name="吴国庆", phone="0514-87360801"),
    "civil_affairs": Contact(name="郑秀英", phone="0514-87360901"),
    "urban_mgmt": Contact(name="钱伟", phone="0514-87361001"),
    "expropriation": Contact(name="冯建华", phone="0514-87361101"),
    "stats": Contact(name="何静", phone="0514-87361201"),
}


@dataclass(frozen=True)
class Order:
    """One delivery to render: a dataset's report month and what is wrong with it."""

    dataset: str
    month: date  # the report month; for yearly data, January of the year described
    delivered_at: datetime  # aware, the city's time zone; the file's mtime
    due_date: date
    department_name: str  # 市财政局
    contact: Contact | None
    spec: DatasetSpec | None  # the registry's, once it has the dataset
    defect_rate: float
    row_defects: tuple[str, ...] = ()  # kinds of row defects to put in (see manifest.DEFECT_KINDS)
    drop_field: str | None = None  # render the version rejected for lacking this column
    money_unit: str = "万元"  # 元: the month the department reports in 元 (and says so)
    unit_slip: bool = False  # amounts 10,000× with the header still saying 万元

    @property
    def month_text(self) -> str:
        return f"{self.month:%Y}" if CATALOGUE[self.dataset].yearly else f"{self.month:%Y-%m}"

    @property
    def signature(self) -> str:
        """The 填报单位/填报人 line clerks put under a table."""
        contact = self.contact
        line = f"填报单位：{self.department_name}"
        if contact:
            line += f"  填报人：{contact.name}  联系电话：{contact.phone or ''}"
        return line


@dataclass
class Rendered:
    """A department writer's file: its name and bytes, data rows, defects put in, layout chosen."""

    file_name: str
    content: bytes
    rows: int
    defects: list[Defect] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)


def department_of(registry_department: Department | None, dataset: str) -> tuple[str, Contact | None]:
    """The department's name and first contact: the registry's, else the catalogue's."""
    code = CATALOGUE[dataset].department
    if registry_department is not None:
        contact = registry_department.contacts[0] if registry_department.contacts else FALLBACK_CONTACTS.get(code)
        return registry_department.name, contact
    return CATALOGUE[dataset].department_name, FALLBACK_CONTACTS.get(code)
