"""The registry of departments and the datasets they deliver.

One YAML file per department under ``registry/`` describes, for each of its
datasets, how the delivery arrives (channel), when it is due, and how each
header of the department's template becomes a canonical field with a type
and a unit. The validation rules live in the dataset's Great Expectations
suite under ``expectations/``; the registry names the suite. Adding a
dataset is a registry entry, a suite and a staging model: no package code.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FieldType = Literal["text", "integer", "decimal", "percent", "date", "boolean", "district", "region_code"]

# Units a template may write, grouped by what they measure. The factor turns
# one unit of the key into the canonical unit named first in its group.
UNIT_FAMILIES: dict[str, dict[str, float]] = {
    "万元": {"万元": 1.0, "亿元": 10_000.0, "元": 0.0001, "千元": 0.1},
    "亩": {"亩": 1.0, "公顷": 15.0, "平方米": 0.0015},
    "万平方米": {"万平方米": 1.0, "平方米": 0.0001},
    "平方公里": {"平方公里": 1.0, "公顷": 0.01},
    "人": {"人": 1.0, "万人": 10_000.0},
}

# How clerks spell a unit, after NFKC (which turns "㎡" and "m²" into "m2"):
# every spelling becomes the name UNIT_FAMILIES uses, for every dataset alike.
UNIT_SPELLINGS: dict[str, str] = {
    "万m2": "万平方米",
    "万平米": "万平方米",
    "万平": "万平方米",
    "万平方": "万平方米",
    "m2": "平方米",
    "平米": "平方米",
    "平方": "平方米",
    "km2": "平方公里",
    "平方千米": "平方公里",
    "hm2": "公顷",
    "万元人民币": "万元",
    "元人民币": "元",
    "人民币万元": "万元",
    "人民币元": "元",
}


def canonical_unit(written: str) -> str:
    """A unit as UNIT_FAMILIES names it ("万m²" → 万平方米); a spelling it does not know stays as written."""
    folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", written))
    return UNIT_SPELLINGS.get(folded, folded)


POSTGRES_TYPES: dict[str, str] = {
    "text": "text",
    "integer": "bigint",
    "decimal": "numeric",
    "percent": "numeric",
    "date": "date",
    "boolean": "boolean",
    "district": "text",
    "region_code": "text",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldSpec(_Frozen):
    """One column of a template: the header a department writes and what it becomes."""

    field: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Canonical field name, the raw column.")
    header: str | None = Field(default=None, description="Header as the template writes it, without unit.")
    pattern: str | None = Field(
        default=None,
        description="Regex for a header's real synonyms ('年度拆迁(任务|目标)'). Year and month prefixes "
        "('2022年度…', '8月…', '1-8月累计…' for '年度累计…'), trailing allowed values ('（是/否）') and "
        "unit spellings are understood for every field by citydw.parsing.grid, without a pattern.",
    )
    key: str | None = Field(default=None, description="Key of the field in a JSON API record.")
    type: FieldType = "text"
    unit: str | None = Field(default=None, description="Canonical unit; deliveries in another unit are converted.")
    true_values: tuple[str, ...] = ("是", "true", "True", "TRUE", "1", "Y", "y", "√")
    false_values: tuple[str, ...] = ("否", "false", "False", "FALSE", "0", "N", "n", "×")
    description: str | None = None
    values: tuple[str, ...] | None = Field(
        default=None,
        description=(
            "The values allowed, when the field is an enumeration: the template's drop-down list and, "
            "as the suite parameter values_<field>, the suite's in-set rule (one source of truth)."
        ),
    )
    hint: str | None = Field(
        default=None, description="Input hint the template shows on the column, e.g. a code format."
    )

    @model_validator(mode="after")
    def _has_a_source(self) -> FieldSpec:
        if not (self.header or self.pattern or self.key):
            raise ValueError(f"field {self.field!r} needs a header, a pattern or an API key")
        if self.unit is not None and self.unit not in UNIT_FAMILIES and self.unit != "%":
            known = ", ".join([*UNIT_FAMILIES, "%"])
            raise ValueError(f"field {self.field!r}: unknown canonical unit {self.unit!r} (known: {known})")
        return self

    @property
    def postgres_type(self) -> str:
        return POSTGRES_TYPES[self.type]

    def unit_factor(self, written_unit: str | None) -> float:
        """Factor that converts a value written in ``written_unit`` to the canonical unit."""
        if written_unit is None or self.unit is None:
            return 1.0
        written_unit = canonical_unit(written_unit)
        if written_unit == self.unit:
            return 1.0
        family = UNIT_FAMILIES.get(self.unit, {})
        if written_unit not in family:
            raise ValueError(f"{self.header or self.field}: unit {written_unit} cannot be converted to {self.unit}")
        return family[written_unit]


class Channel(_Frozen):
    """Where and in which format a delivery arrives."""

    kind: Literal["file", "api"]
    format: Literal["xlsx", "csv", "json"]
    # file: folder under the drop root, {month} is YYYY-MM (or YYYY for yearly
    # data); every file in it matching ``glob`` is a version of the delivery.
    path: str | None = None
    glob: str = "*"
    # api: endpoint under the department's base URL; {month} as above.
    endpoint: str | None = None

    @model_validator(mode="after")
    def _kind_has_location(self) -> Channel:
        if self.kind == "file" and not self.path:
            raise ValueError("a file channel needs a path")
        if self.kind == "api" and not self.endpoint:
            raise ValueError("an api channel needs an endpoint")
        return self


class Due(_Frozen):
    """When a delivery is due, counted on the official working-day calendar."""

    working_day: int | None = Field(default=None, ge=1, le=23, description="Nth working day of the next month.")
    month_day: tuple[int, int] | None = Field(
        default=None, description="Fixed (month, day) of the following year, for yearly reference data."
    )


class Contact(_Frozen):
    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = None
    wecom: str | None = None


AlertChannel = Literal["email", "wecom", "dingtalk", "slack", "webhook"]


class AlertRoute(_Frozen):
    """One way a department's alerts reach people (see citydw.alerts).

    An e-mail route lists who gets it: ``contacts`` (every contact with an
    e-mail), a contact's name, or an address; the SMTP server comes from
    settings. A chat or webhook route names where its secret lives, never the
    secret: ``secret_env``, a ``CITYDW_ALERT_…`` variable holding the bot key
    or the whole Apprise URL, and/or ``airflow_conn_id``, an Airflow connection
    whose password (or ``extra.url``) holds it, asked only when the variable
    is unset. ``name`` is what ``meta.alerts.recipient`` records for it.
    """

    channel: AlertChannel
    to: tuple[str, ...] = ()
    name: str | None = None
    secret_env: str | None = Field(default=None, pattern=r"^CITYDW_ALERT_[A-Z0-9_]+$")
    airflow_conn_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")

    @model_validator(mode="after")
    def _says_where_it_goes(self) -> AlertRoute:
        if self.channel == "email":
            if not self.to:
                raise ValueError("an email alert route needs `to`: [contacts], a contact's name or an address")
            if self.secret_env or self.airflow_conn_id:
                raise ValueError("an email alert route takes no secret: the SMTP server comes from CITYDW_SMTP_*")
        else:
            if self.to:
                raise ValueError(f"a {self.channel} alert route has no `to`; it posts to the group its key names")
            if not (self.secret_env or self.airflow_conn_id):
                raise ValueError(
                    f"a {self.channel} alert route needs secret_env (a CITYDW_ALERT_… variable) "
                    "or airflow_conn_id naming where its key or URL is kept"
                )
        return self


class DatasetSpec(_Frozen):
    department: str
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(description="The template's Chinese title.")
    description: str | None = None
    frequency: Literal["monthly", "yearly"] = "monthly"
    channel: Channel
    due: Due
    key: tuple[str, ...] = Field(description="Fields that identify a row within one delivery.")
    suite: str | None = Field(default=None, description="Suite file under expectations/; default <id>.json.")
    fields: tuple[FieldSpec, ...]
    running_ledger: bool = Field(
        default=False,
        description="Rows carry over from month to month (a project list, a register): the template is pre-filled "
        "with last month's accepted rows, so the clerk updates rather than retypes.",
    )
    # Rows whose first text cell matches this are totals, not data.
    total_row_pattern: str = r"^(合计|总计|全省合计|全市合计|小计|total)$"

    @property
    def id(self) -> str:
        """``department.dataset``, the name operators and reports use."""
        return f"{self.department}.{self.name}"

    def period_for(self, run_month: date) -> date:
        """The period a run for ``run_month`` ingests: that month, or for yearly reference data
        the year before (delivered by 31 March), stored as its 1 January."""
        if self.frequency == "yearly":
            return date(run_month.year - 1, 1, 1)
        return date(run_month.year, run_month.month, 1)

    @property
    def raw_table(self) -> str:
        return f"{self.department}__{self.name}"

    @property
    def suite_file(self) -> str:
        return self.suite or f"{self.id}.json"

    @property
    def field_names(self) -> list[str]:
        return [f.field for f in self.fields]

    @property
    def suite_parameters(self) -> dict[str, list[str]]:
        """``values_<field>`` for each enumerated field: what its suite's in-set rule refers to."""
        return {f"values_{spec.field}": list(spec.values) for spec in self.fields if spec.values}

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.field == name:
                return spec
        raise KeyError(f"{self.id} has no field {name!r}")

    @field_validator("fields")
    @classmethod
    def _unique_fields(cls, fields: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
        names = [f.field for f in fields]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"fields declared twice: {duplicates}")
        return fields

    @model_validator(mode="after")
    def _key_is_declared(self) -> DatasetSpec:
        missing = set(self.key) - set(self.field_names)
        if missing:
            raise ValueError(f"{self.id}: key fields not declared: {sorted(missing)}")
        for spec in self.fields:
            if spec.pattern:
                re.compile(spec.pattern)
        return self


class Department(_Frozen):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str
    contacts: tuple[Contact, ...] = ()
    datasets: tuple[DatasetSpec, ...]
    alerts: tuple[AlertRoute, ...] = Field(default=(), description="Where the department's alerts go.")


class Registry:
    """All departments and datasets found in a registry folder."""

    def __init__(self, departments: list[Department]):
        self.departments = {d.code: d for d in departments}

    @classmethod
    def load(cls, folder: Path) -> Registry:
        departments = []
        for path in sorted(folder.glob("*.yaml")):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            code = document.get("code")
            for dataset in document.get("datasets", []):
                dataset.setdefault("department", code)
            try:
                departments.append(Department.model_validate(document))
            except ValueError as error:
                raise ValueError(f"registry file {path}: {error}") from error
        if not departments:
            raise FileNotFoundError(f"no department files (*.yaml) in registry folder {folder}")
        return cls(departments)

    @cached_property
    def datasets(self) -> dict[str, DatasetSpec]:
        return {ds.id: ds for dept in self.departments.values() for ds in dept.datasets}

    def dataset(self, dataset_id: str) -> DatasetSpec:
        try:
            return self.datasets[dataset_id]
        except KeyError:
            known = ", ".join(sorted(self.datasets))
            raise KeyError(f"unknown dataset {dataset_id!r}; the registry has: {known}") from None

    def department(self, code: str) -> Department:
        return self.departments[code]


def load_registry(folder: Path | None = None) -> Registry:
    """The registry in ``folder`` (default: the configured one), parsed once per version of its files.

    Every ingest, every DAG task and several dataset rules ask for it; parsing
    and validating the YAML costs 0.1–0.25 s a time, most of a small delivery's
    fixed cost when a month's 15 ingests each paid it. An edited, added or
    removed file is a new version, so an edit is seen on the next call.
    """
    from citydw.settings import get_settings

    folder = folder or get_settings().registry_path
    return _load_registry_version(folder, _files_version(folder))


def _files_version(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """The department files' names, modification times and sizes: what a change to the registry changes."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        status = path.stat()
        found.append((path.name, status.st_mtime_ns, status.st_size))
    return tuple(found)


@lru_cache(maxsize=8)
def _load_registry_version(folder: Path, version: tuple[tuple[str, int, int], ...]) -> Registry:
    return Registry.load(folder)


class Audience(_Frozen):
    """People who receive a document rather than deliver data, e.g. the leaders' list of the monthly brief.

    Configured beside the departments, in ``registry/recipients/<code>.yaml``,
    with the same ``contacts`` and ``alerts`` routes as a department (see
    :class:`AlertRoute`), so it is reached through the same channels.
    """

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str | None = None
    contacts: tuple[Contact, ...] = ()
    alerts: tuple[AlertRoute, ...] = Field(default=(), description="How the audience is reached.")


RECIPIENTS_FOLDER = "recipients"


def load_audience(code: str, folder: Path | None = None) -> Audience:
    """``registry/recipients/<code>.yaml``; a missing file is an error that names it."""
    from citydw.settings import get_settings

    path = (folder or get_settings().registry_path) / RECIPIENTS_FOLDER / f"{code}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no recipient list {path}: write it as registry/recipients/leaders.yaml shows")
    try:
        return Audience.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValueError as error:
        raise ValueError(f"recipient list {path}: {error}") from error
