"""Airflow as a service on this machine: Redis, PostgreSQL metadata, the scheduler and Celery workers.

:class:`LocalCluster` (``citydw cluster up``, ``make cluster``, tests/cluster)
runs the deployment's topology (docker/compose.yaml) as plain processes, so a
real distributed run needs no Docker engine. :class:`AirflowApi` is the small
REST client that it, and ``citydw backfill``, use to talk to any Airflow 3.
"""

from citydw.cluster.api import AirflowApi, AirflowApiError
from citydw.cluster.local import (
    MONTHLY_DAG,
    REPORT_DAG,
    ClusterConfig,
    ClusterError,
    LocalCluster,
    api_for,
    local_cluster,
    logical_date_for_month,
    stop_detached,
)
from citydw.cluster.redis import RedisNotAvailableError, ensure_redis_server

__all__ = [
    "MONTHLY_DAG",
    "REPORT_DAG",
    "AirflowApi",
    "AirflowApiError",
    "ClusterConfig",
    "ClusterError",
    "LocalCluster",
    "RedisNotAvailableError",
    "api_for",
    "ensure_redis_server",
    "local_cluster",
    "logical_date_for_month",
    "stop_detached",
]
