"""The dashboards of bi/ read the marts only, and every column they need is a mart column dbt declares.

A chart names columns and metrics of its dataset; a dataset is SQL on
``marts.*`` naming mart columns as ``<mart>.<column>``. Both are checked here
against the marts' YAML, whose columns are the models' enforced contracts
(dbt fails a build whose table differs from them), so renaming or dropping a
mart column a chart needs fails this test, not a leader's morning. The same
SQL is run against a built warehouse in tests/bi/test_superset.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from citydw.bi.dashboards import read_files
from citydw.settings import get_settings

SUBJECTS = {"重大项目推进", "专项债券", "民生设施", "数据质量"}
MONTH_COLUMN = "month_label"
MONTH_DATASET = "报告月份"

# `from marts.fct_x` / `join marts.dim_y`: every relation a dataset's SQL reads.
_RELATION = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)", re.IGNORECASE)


def bi_files() -> dict[str, dict[str, Any]]:
    return read_files(get_settings().dashboards_dir)


def mart_columns() -> dict[str, set[str]]:
    """Each mart's columns as its dbt YAML declares them (contracts enforced)."""
    marts: dict[str, set[str]] = {}
    for path in sorted((get_settings().dbt_project_path / "models" / "marts").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            marts[model["name"]] = {column["name"] for column in model.get("columns", [])}
    return marts


def datasets() -> dict[str, dict[str, Any]]:
    return {config["uuid"]: config for name, config in bi_files().items() if name.startswith("datasets/")}


def charts() -> dict[str, dict[str, Any]]:
    return {name: config for name, config in bi_files().items() if name.startswith("charts/")}


def dashboards() -> dict[str, dict[str, Any]]:
    return {name: config for name, config in bi_files().items() if name.startswith("dashboards/")}


def missing_mart_columns(dataset: dict[str, Any], marts: dict[str, set[str]]) -> list[str]:
    """``<mart>.<column>`` names the dataset's SQL reads that the marts do not have (or a mart that is gone)."""
    sql = dataset.get("sql") or ""
    problems = []
    for schema, relation in _RELATION.findall(sql):
        if schema != "marts" or relation not in marts:
            problems.append(f"{schema}.{relation}")
    for mart, columns in marts.items():
        for column in re.findall(rf"\b{mart}\.([a-z_][a-z0-9_]*)", sql):
            if column not in columns:
                problems.append(f"{mart}.{column}")
    return problems


def names_a_chart_needs(params: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The dataset columns and saved metrics a chart's form data names."""
    columns: set[str] = set()
    metrics: set[str] = set()
    for key in ("groupby", "columns", "all_columns", "series_columns"):
        columns |= {c for c in params.get(key) or [] if isinstance(c, str)}
    if isinstance(params.get("x_axis"), str):
        columns.add(params["x_axis"])
    columns |= set(params.get("column_config") or {})
    for key in ("metrics", "percent_metrics"):
        metrics |= {m for m in params.get(key) or [] if isinstance(m, str)}
    for key in ("metric", "timeseries_limit_metric", "x_axis_sort"):
        if isinstance(params.get(key), str):
            metrics.add(params[key])
    for entry in params.get("order_by_cols") or []:
        columns.add(yaml.safe_load(entry)[0])
    for condition in params.get("adhoc_filters") or []:
        if condition.get("expressionType") == "SIMPLE":
            columns.add(condition["subject"])
        else:
            columns |= set(re.findall(r"[a-z_][a-z0-9_]*", condition.get("sqlExpression", ""))) - _SQL_WORDS
    # A table's column formats name its metrics too.
    return columns - metrics, metrics


_SQL_WORDS = {"and", "or", "not", "is", "null", "true", "false", "in", "between", "like"}


def test_the_four_subjects_are_dashboards() -> None:
    assert {config["dashboard_title"] for config in dashboards().values()} == SUBJECTS


def test_superset_connects_as_the_bi_role_and_no_password_is_in_the_repository() -> None:
    (database,) = [config for name, config in bi_files().items() if name.startswith("databases/")]
    address = urlsplit(database["sqlalchemy_uri"])
    assert address.username == "citydw_bi"
    assert address.password == "XXXXXXXXXX"  # Superset's mask: the real one is given at import
    # Superset exports the upload switch under its old name.
    assert database["allow_dml"] is False and database["allow_csv_upload"] is False


def test_every_dataset_reads_the_marts_only_and_names_columns_they_have() -> None:
    marts = mart_columns()
    assert {"fct_project_progress_monthly", "dim_report_month"} <= set(marts)
    problems = {}
    for dataset in datasets().values():
        assert dataset["schema"] == "marts", dataset["table_name"]
        assert dataset.get("sql") or dataset["table_name"] in marts, dataset["table_name"]
        assert _RELATION.findall(dataset.get("sql") or ""), f"{dataset['table_name']} reads no mart"
        if missing := missing_mart_columns(dataset, marts):
            problems[dataset["table_name"]] = missing
    assert problems == {}, f"datasets name mart columns dbt does not declare: {problems}"


def test_a_mart_column_that_disappears_is_caught() -> None:
    """The check above fails when a column a dataset reads leaves its mart (here, removed from the YAML's view)."""
    marts = mart_columns()
    dataset = next(d for d in datasets().values() if "marts.fct_project_progress_monthly" in (d.get("sql") or ""))
    assert missing_mart_columns(dataset, marts) == []
    marts["fct_project_progress_monthly"] = marts["fct_project_progress_monthly"] - {"is_start_overdue"}
    assert missing_mart_columns(dataset, marts) == ["fct_project_progress_monthly.is_start_overdue"]


def test_every_column_and_metric_a_chart_names_is_in_its_dataset() -> None:
    by_uuid = datasets()
    problems = {}
    for name, chart in charts().items():
        dataset = by_uuid[chart["dataset_uuid"]]
        columns, metrics = names_a_chart_needs(chart["params"])
        missing = (columns - {c["column_name"] for c in dataset["columns"]}) | (
            metrics - {m["metric_name"] for m in dataset["metrics"]}
        )
        if missing:
            problems[name] = sorted(missing)
        assert chart["query_context"], f"{name}: no query context (open it in Explore and save it, then export)"
    assert problems == {}, problems


def test_every_dashboard_filters_on_the_month_defaulting_to_the_latest_certified() -> None:
    by_uuid = datasets()
    month_dataset = next(d for d in by_uuid.values() if d["table_name"] == MONTH_DATASET)
    assert "is_certified" in month_dataset["sql"] and "default_order" in month_dataset["sql"]
    assert "（临时）" in month_dataset["sql"], "a provisional month is marked in its label"
    chart_datasets = {chart["uuid"]: chart["dataset_uuid"] for chart in charts().values()}
    for name, dashboard in dashboards().items():
        (month,) = [f for f in dashboard["metadata"]["native_filter_configuration"] if f["name"] == "月份"]
        assert month["filterType"] == "filter_select"
        assert month["targets"] == [{"column": {"name": MONTH_COLUMN}, "datasetUuid": month_dataset["uuid"]}]
        # The first option is the default, ordered by default_order: the latest certified month first.
        assert month["controlValues"]["defaultToFirstItem"] and month["requiredFirst"], name
        assert month["sortMetric"] == "default_order" and month["controlValues"]["sortAscending"], name
        assert month["controlValues"]["multiSelect"] is False, name
        in_layout = [
            c["meta"]["uuid"]
            for c in dashboard["position"].values()
            if isinstance(c, dict) and c.get("type") == "CHART"
        ]
        assert len(in_layout) >= 6, name
        for chart_uuid in in_layout:
            columns = {c["column_name"] for c in by_uuid[chart_datasets[chart_uuid]]["columns"]}
            assert MONTH_COLUMN in columns, f"{name}: a chart's dataset has no {MONTH_COLUMN} to filter on"


@pytest.mark.parametrize("path", sorted(Path(get_settings().dashboards_dir).rglob("*.yaml")), ids=lambda p: p.name)
def test_files_are_superset_export_yaml(path: Path) -> None:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert config["version"] == "1.0.0" and config["uuid"]
