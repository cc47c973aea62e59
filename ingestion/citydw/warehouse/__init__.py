"""The warehouse: where it is (a URL or the embedded server), connections, and its schema.

Everything else in citydw gets its database through :func:`connect` or
:func:`resolve_warehouse_url`, so ``CITYDW_WAREHOUSE_URL`` is honoured alike
by commands, DAG tasks and dbt (via :func:`dbt_env`).
"""

from __future__ import annotations

from citydw.warehouse.connect import (
    WarehouseConnectionError,
    connect,
    dbt_env,
    ensure_database,
    prepare_warehouse,
    redact_url,
    resolve_warehouse_url,
    url_with_database,
)
from citydw.warehouse.embedded import EmbeddedWarehouse, WarehouseError, WarehousePortInUseError, WarehouseStatus
from citydw.warehouse.migrations import MigrationError, migrate

__all__ = [
    "EmbeddedWarehouse",
    "MigrationError",
    "WarehouseConnectionError",
    "WarehouseError",
    "WarehousePortInUseError",
    "WarehouseStatus",
    "connect",
    "dbt_env",
    "ensure_database",
    "migrate",
    "prepare_warehouse",
    "redact_url",
    "resolve_warehouse_url",
    "url_with_database",
]
