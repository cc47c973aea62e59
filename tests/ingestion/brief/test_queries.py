"""The brief reads the marts alone: no query beside the template names a relation of another schema.

Issue 13 asks for a brief "generated from the marts alone": what a leader reads
must be what BI users (``citydw_bi``, who reads ``marts`` only) can check. Each
file of ``citydw/brief/queries/`` is read as SQL text — comments and string
literals removed — and every dotted name ``a.b`` in it is either a column
qualified by a relation or CTE of the same query, or a ``schema.relation``,
whose schema must be ``marts``; every relation it selects from is a CTE of the
file or a ``marts.`` relation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from citydw.brief.figures import query_names, query_text

EXPOSURES = Path(__file__).resolve().parents[3] / "dbt_project" / "models" / "brief__exposures.yml"
COMMENTS_AND_STRINGS = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.S)
# `extract(year from x)`, `x is distinct from y`, `substring(x from 2)`: a `from` that reads no relation.
FROM_NOT_A_RELATION = re.compile(
    r"\bextract\s*\(\s*\w+\s+from\b|\bdistinct\s+from\b|\b(?:substring|trim|overlay|position)\s*\([^()]*\bfrom\b",
    re.I,
)
CTE = re.compile(r"(?:\bwith|,)\s*(?:recursive\s+)?([a-z_]\w*)\s+as\s+(?:not\s+)?(?:materialized\s+)?\(", re.I)
RELATION = re.compile(r"\b(?:from|join)\s+([a-z_][\w.]*)(?:\s+(?:as\s+)?([a-z_]\w*))?", re.I)
DOTTED = re.compile(r"(?<![\w.])([a-z_]\w*)\.([a-z_]\w*)", re.I)
NOT_AN_ALIAS = {
    "where", "inner", "left", "right", "full", "cross", "join", "on", "using", "group", "order", "having",
    "limit", "union", "window", "lateral", "natural", "offset", "fetch", "for", "except", "intersect",
}  # fmt: skip


def outside_marts(text: str) -> list[str]:
    """The relations a query names outside ``marts`` (``schema.relation`` or a bare name that is no CTE)."""
    code = FROM_NOT_A_RELATION.sub(" ", COMMENTS_AND_STRINGS.sub(" ", text)).lower()
    ctes = set(CTE.findall(code))
    qualifiers = set(ctes)
    found = []
    for relation, alias in RELATION.findall(code):
        schema, _, name = relation.rpartition(".")
        qualifiers.add(name)
        if alias and alias not in NOT_AN_ALIAS:
            qualifiers.add(alias)
        if schema != "marts" and not (not schema and name in ctes):
            found.append(relation)
    for first, second in DOTTED.findall(code):
        if first != "marts" and first not in qualifiers:
            found.append(f"{first}.{second}")
    return sorted(set(found))


@pytest.mark.parametrize("name", query_names())
def test_every_brief_query_reads_marts_alone(name: str) -> None:
    text = query_text(name)
    assert outside_marts(text) == [], f"queries/{name}.sql reads outside marts"
    assert "marts." in COMMENTS_AND_STRINGS.sub(" ", text), f"queries/{name}.sql reads no mart"


def test_a_query_reading_staging_or_intermediate_is_caught() -> None:
    """The check fails on what the brief's facility queries were before (issue 13): it can fail."""
    staging_join = """
        -- Type names from marts.dim_facility_type, not 'staging.facility_standards'
        select coverage.facility_type, facility_standards.facility_type_name
        from marts.fct_facility_coverage_monthly as coverage
        inner join staging.facility_standards
            on coverage.facility_type = facility_standards.facility_type
        where coverage.report_month = %(report_month)s
    """
    assert outside_marts(staging_join) == ["staging.facility_standards"]
    subquery = """
        with reference_year as (
            select max(reference_year) from staging.stg_stats__residential_communities
            where reference_year <= extract(year from %(report_month)s::date) - 1
        ),
        in_service as (select lat, lng from intermediate.int_facility_types_mapped)
        select * from in_service cross join reference_year
    """
    assert outside_marts(subquery) == [
        "intermediate.int_facility_types_mapped",
        "staging.stg_stats__residential_communities",
    ]
    assert outside_marts("select * from facility_standards") == ["facility_standards"]
    assert outside_marts("select x.a from marts.dim_district as x where x.a is distinct from 1") == []


def test_the_briefs_dbt_exposure_names_the_marts_its_queries_read() -> None:
    """dbt's lineage (exposure leaders_monthly_brief) lists exactly the marts the brief's queries read."""
    exposures = yaml.safe_load(EXPOSURES.read_text(encoding="utf-8"))["exposures"]
    (brief,) = [exposure for exposure in exposures if exposure["name"] == "leaders_monthly_brief"]
    declared = {re.fullmatch(r"ref\('(\w+)'\)", ref).group(1) for ref in brief["depends_on"]}
    read = {
        relation.removeprefix("marts.")
        for name in query_names()
        for relation in re.findall(r"\bmarts\.\w+", COMMENTS_AND_STRINGS.sub(" ", query_text(name)))
    }
    assert declared == read
