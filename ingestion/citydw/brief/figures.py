"""The brief's figures: every query of ``queries/`` run for one month, and nothing else.

Each ``queries/<name>.sql`` is plain SQL on the marts with one parameter,
``%(report_month)s``; its rows become ``figures[<name>]``. The template,
the sentences, the charts and the map read only these, so a number on the
page is traceable to one query, and the fingerprint of all of them says
whether a correction changed anything the leaders read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row

Row = dict[str, Any]


def query_names() -> list[str]:
    """The queries kept beside the template, by name (file name without ``.sql``)."""
    folder = resources.files("citydw.brief") / "queries"
    return sorted(entry.name.removesuffix(".sql") for entry in folder.iterdir() if entry.name.endswith(".sql"))


def query_text(name: str) -> str:
    return (resources.files("citydw.brief") / "queries" / f"{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Figures:
    """The month's query results: ``figures["bonds_city"]`` is that query's rows."""

    month: date
    results: dict[str, list[Row]]

    def __getitem__(self, name: str) -> list[Row]:
        return self.results[name]

    def one(self, name: str) -> Row | None:
        """The single row of a one-row query, or None when it returned nothing (no data for the month)."""
        rows = self.results[name]
        if len(rows) > 1:
            raise ValueError(f"brief query {name}.sql returned {len(rows)} rows where one was expected")
        return rows[0] if rows else None

    def to_json(self) -> str:
        """Every figure as JSON (decimals as strings, exactly as PostgreSQL gave them), keys sorted."""
        return json.dumps(
            {"report_month": self.month.isoformat(), "queries": self.results},
            default=_json_value,
            ensure_ascii=False,
            sort_keys=True,
            indent=1,
        )

    @property
    def fingerprint(self) -> str:
        """sha256 of :meth:`to_json`: equal exactly when every figure of the brief is equal."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()


def collect(conn: psycopg.Connection, month: date) -> Figures:
    """Run every brief query for ``month`` in one read-only snapshot, so the figures agree with each other."""
    results: dict[str, list[Row]] = {}
    try:
        with conn.transaction():
            conn.execute("set transaction isolation level repeatable read, read only")
            with conn.cursor(row_factory=dict_row) as cursor:
                for name in query_names():
                    cursor.execute(query_text(name), {"report_month": month})
                    results[name] = cursor.fetchall()
    except psycopg.errors.UndefinedTable as error:
        raise RuntimeError(
            f"brief query {name}.sql: {error.diag.message_primary}; build the marts first (citydw build)"
        ) from error
    return Figures(month=month, results=results)


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"brief figure of type {type(value).__name__} cannot be fingerprinted")
