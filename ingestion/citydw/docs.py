"""Documents generated from the registry, so they cannot drift from what the pipeline reads.

``python -m citydw.docs`` writes:

- ``docs/departments.md``: each department's datasets and templates (the header a
  clerk writes, the field it becomes, its type and unit, and the rules of the
  dataset's suite that check it, with their severity), from ``registry/`` and
  ``expectations/``;
- ``docs/marts.md``: every mart BI reads, its grain and each column's type, Chinese
  label and description, from the marts' dbt YAML (which the contracts enforce
  and PostgreSQL's column comments repeat);
- ``dbt_project/seeds/registry/departments.csv`` and ``datasets.csv``: the
  departments' and datasets' Chinese names, which the marts carry beside
  their codes (``marts.dim_department``, ``marts.dim_dataset``) so that BI
  tools label charts without the registry.

``python -m citydw.docs --check`` exits 1 when a committed file differs from
what would be written (tests/ingestion/test_docs.py holds the same check).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import yaml

from citydw.registry import DatasetSpec, Department, Registry, load_registry
from citydw.settings import get_settings

SEVERITY_NAMES = {"blocking": "退回", "row": "隔离该行", "warning": "提示"}
"""What a rule's failure does, in the clerks' words: the delivery is rejected, the row quarantined, or a warning."""

CHANNEL_NAMES = {"file": "文件报送", "api": "接口报送"}
TYPE_NAMES = {
    "text": "文本",
    "integer": "整数",
    "decimal": "数值",
    "percent": "百分比",
    "date": "日期",
    "boolean": "是/否",
    "district": "区县名称",
    "region_code": "行政区划代码",
}


def repository_root() -> Path:
    return get_settings().registry_path.parent


def _due_text(spec: DatasetSpec) -> str:
    if spec.due.working_day is not None:
        return f"次月第 {spec.due.working_day} 个工作日"
    if spec.due.month_day is not None:
        month, day = spec.due.month_day
        return f"次年 {month} 月 {day} 日"
    return "—"


def _cell(text: object) -> str:
    """A Markdown table cell: pipes escaped, line breaks folded."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _suite_rules(repository: Path, spec: DatasetSpec) -> list[dict]:
    path = repository / "expectations" / spec.suite_file
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8")).get("expectations", [])


def _rule_columns(rule: dict) -> set[str]:
    kwargs = rule.get("kwargs", {})
    columns = {kwargs[name] for name in ("column", "column_A", "column_B") if isinstance(kwargs.get(name), str)}
    columns |= {column for column in kwargs.get("column_list", []) or [] if isinstance(column, str)}
    return columns


def _rule_text(rule: dict) -> str:
    severity = rule.get("meta", {}).get("severity", "warning")
    return f"{rule.get('description') or rule.get('type')}（{SEVERITY_NAMES.get(severity, severity)}）"


def _dataset_section(repository: Path, department: Department, spec: DatasetSpec) -> list[str]:
    rules = _suite_rules(repository, spec)
    lines = [
        f"### {spec.id} — {spec.title}",
        "",
    ]
    if spec.description:
        lines += [" ".join(spec.description.split()), ""]
    channel = CHANNEL_NAMES[spec.channel.kind]
    where = spec.channel.path or spec.channel.endpoint
    lines += [
        f"- 报送单位 department: {department.name} (`{department.code}`)",
        f"- 报送方式 channel: {channel}, {spec.channel.format} (`{where}`)",
        f"- 报送频率 frequency: {'每月' if spec.frequency == 'monthly' else '每年'} ({spec.frequency})",
        f"- 报送时限 due: {_due_text(spec)}",
        f"- 行的标识 key: {', '.join(f'`{field}`' for field in spec.key)}",
        f"- 入库表 raw table: `raw.{spec.raw_table}`; 校验规则 suite: `expectations/{spec.suite_file}`",
        "",
        "| 表头 header | 字段 field | 类型 type | 单位 unit | 校验规则 rules |",
        "|---|---|---|---|---|",
    ]
    for field in spec.fields:
        header = field.header or (f"匹配 `{field.pattern}`" if field.pattern else "")
        if field.key:
            header = f"{header}（接口字段 `{field.key}`）" if header else f"接口字段 `{field.key}`"
        if field.pattern and field.header:
            header = f"{field.header}（或匹配 `{field.pattern}`）"
        field_rules = [_rule_text(rule) for rule in rules if field.field in _rule_columns(rule)]
        lines.append(
            "| "
            + " | ".join(
                _cell(text)
                for text in (
                    header,
                    f"`{field.field}`",
                    TYPE_NAMES.get(field.type, field.type),
                    field.unit or "",
                    "；".join(field_rules),
                )
            )
            + " |"
        )
    known = set(spec.field_names)
    table_rules = [_rule_text(rule) for rule in rules if not (_rule_columns(rule) & known)]
    if table_rules:
        lines += ["", "整表规则 rules on the whole delivery:", ""]
        lines += [f"- {_cell(text)}" for text in table_rules]
    lines.append("")
    return lines


def departments_markdown(registry: Registry, repository: Path) -> str:
    """docs/departments.md: every department's templates, from the registry and the suites."""
    lines = [
        "# Departments and their templates",
        "",
        "<!-- Generated by `python -m citydw.docs` from registry/ and expectations/: do not edit by hand. -->",
        "",
        "What each department delivers every month, and the template it fills in:",
        "the header a clerk writes, the canonical field it becomes (the column of",
        "`raw.<department>__<dataset>`), its type and canonical unit (other units",
        "are converted), and the rules of the dataset's Great Expectations suite",
        "that check it. A rule's failure rejects the delivery (退回), quarantines",
        "the row (隔离该行) or is reported only (提示). How the files may look",
        "(title and unit rows, merged headers, 合计 rows, full-width digits, GB18030)",
        "and how a dataset is added are in [architecture.md](architecture.md) and",
        "the [README](../README.md#how-to-add-a-dataset).",
        "",
        "| 部门 department | code | 数据集 dataset | 报送方式 channel | 报送时限 due |",
        "|---|---|---|---|---|",
    ]
    for department in registry.departments.values():
        for spec in department.datasets:
            lines.append(
                f"| {department.name} {department.name_en} | `{department.code}` | "
                f"[`{spec.name}`](#{_anchor(spec)}) {spec.title} | "
                f"{CHANNEL_NAMES[spec.channel.kind]} ({spec.channel.format}) | {_due_text(spec)} |"
            )
    lines.append("")
    for department in registry.departments.values():
        lines += [f"## {department.name} — {department.name_en} (`{department.code}`)", ""]
        for spec in department.datasets:
            lines += _dataset_section(repository, department, spec)
    return "\n".join(lines).rstrip("\n") + "\n"


def _anchor(spec: DatasetSpec) -> str:
    """GitHub's anchor of the dataset's heading ``### drc.major_projects — 重大项目月度调度表``."""
    heading = f"{spec.id} — {spec.title}".lower()
    kept = "".join(char for char in heading if char.isalnum() or char in " -_")
    return kept.replace(" ", "-")


def _csv(header: list[str], rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def departments_seed(registry: Registry) -> str:
    return _csv(
        ["department", "department_name", "department_name_en"],
        ([d.code, d.name, d.name_en] for d in registry.departments.values()),
    )


def datasets_seed(registry: Registry) -> str:
    return _csv(
        ["dataset", "department", "dataset_name", "dataset_title", "frequency"],
        (
            [spec.id, spec.department, spec.name, spec.title, spec.frequency]
            for department in registry.departments.values()
            for spec in department.datasets
        ),
    )


DOC_BLOCK = re.compile(r"\{%\s*docs\s+(\w+)\s*%\}(.*?)\{%\s*enddocs\s*%\}", re.DOTALL)
DOC_CALL = re.compile(r"\{\{\s*doc\(\s*'(\w+)'\s*\)\s*\}\}")


def _doc_blocks(repository: Path) -> dict[str, str]:
    blocks = {}
    for path in sorted((repository / "dbt_project" / "models").rglob("*.md")):
        for name, text in DOC_BLOCK.findall(path.read_text(encoding="utf-8")):
            blocks[name] = " ".join(text.split())
    return blocks


def _described(text: object, blocks: dict[str, str]) -> str:
    return _cell(DOC_CALL.sub(lambda match: blocks.get(match.group(1), match.group(0)), str(text or "")))


def marts_markdown(repository: Path) -> str:
    """docs/marts.md: the marts' contracts as BI users read them, from the marts' dbt YAML."""
    blocks = _doc_blocks(repository)
    lines = [
        "# The marts, column by column",
        "",
        "<!-- Generated by `python -m citydw.docs` from dbt_project/models/marts/: do not edit by hand. -->",
        "",
        "Every table and view of the `marts` schema, the only schema the BI role",
        "`citydw_bi` reads: its grain, its keys, and each column's type, Chinese",
        "label and meaning. The same text is each column's PostgreSQL comment",
        "(`\\d+ marts.<table>` in psql, or a BI tool's column browser), and dbt",
        "enforces the names and types (model contracts). Units and conventions are",
        "in [contracts.md](contracts.md).",
        "",
    ]
    models = []
    for path in sorted((repository / "dbt_project" / "models" / "marts").glob("*/_*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            models.append((path.parent.name, model))
    lines += ["| mart | area | what it is |", "|---|---|---|"]
    for area, model in models:
        summary = _described(model.get("description"), blocks)
        lines.append(f"| [`marts.{model['name']}`](#marts{model['name']}) | {area} | {summary} |")
    lines.append("")
    for _area, model in models:
        lines += [f"## marts.{model['name']}", "", _described(model.get("description"), blocks), ""]
        for constraint in model.get("constraints", []) or []:
            columns = ", ".join(f"`{column}`" for column in constraint.get("columns", []))
            if constraint["type"] == "primary_key":
                lines.append(f"- primary key `{constraint.get('name', '')}` ({columns})")
            elif constraint["type"] == "foreign_key":
                target = re.sub(r"ref\('(\w+)'\)", r"marts.\1", str(constraint.get("to", "")))
                to_columns = ", ".join(constraint.get("to_columns", []))
                lines.append(f"- foreign key `{constraint.get('name', '')}` ({columns}) → `{target}` ({to_columns})")
        lines += ["", "| column | type | 中文 | description |", "|---|---|---|---|"]
        for column in model.get("columns", []):
            description = _described(column.get("description"), blocks)
            label, _, rest = description.partition("。")
            if not rest:
                label, rest = "", description
            lines.append(f"| `{column['name']}` | {column.get('data_type', '')} | {label} | {rest.strip()} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def generated_files(registry: Registry | None = None, repository: Path | None = None) -> dict[Path, str]:
    """Every generated file (relative to the repository) and the text it must hold."""
    registry = registry or load_registry()
    repository = repository or repository_root()
    seeds = Path("dbt_project/seeds/registry")
    return {
        Path("docs/departments.md"): departments_markdown(registry, repository),
        Path("docs/marts.md"): marts_markdown(repository),
        seeds / "departments.csv": departments_seed(registry),
        seeds / "datasets.csv": datasets_seed(registry),
    }


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    repository = repository_root()
    stale = []
    for relative, text in generated_files(repository=repository).items():
        path = repository / relative
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if check:
            stale.append(str(relative))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {relative}")
    if stale:
        print("out of date (run `python -m citydw.docs`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
