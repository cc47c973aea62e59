"""Every setting citydw reads from the environment, in one place.

Commands, DAG tasks and tests call :func:`get_settings` and pass the values
on; nothing else in the package reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The package is installed editable from ``ingestion/``, so the repository
# root is two levels above this file; a deployment that installs the package
# elsewhere sets CITYDW_PROJECT_DIR instead.
_REPO_ROOT = Path(__file__).resolve().parents[2]

_DEPARTMENT_VARIABLE = re.compile(r"^CITYDW_API_(?P<department>[A-Z][A-Z0-9_]*)_(?P<what>URL|TOKEN)$", re.IGNORECASE)


def _department_variables(what: str) -> dict[str, str]:
    """``CITYDW_API_<DEPT>_<WHAT>`` variables by department code: one variable per department,
    because departments are registry data, not settings fields."""
    found = {}
    for name, value in os.environ.items():
        match = _DEPARTMENT_VARIABLE.match(name)
        if match and match["what"].upper() == what and value.strip():
            found[match["department"].lower()] = value.strip()
    return found


# Settings fields whose names share the alert-secret prefix.
_ALERT_SETTINGS = {"CITYDW_ALERT_DATA_TEAM_URLS", "CITYDW_ALERT_DATA_TEAM_EMAILS", "CITYDW_ALERT_SECRETS"}


def _alert_secret_variables() -> dict[str, SecretStr]:
    """``CITYDW_ALERT_…`` variables by name: a registry alert route names one (``secret_env``)
    for its bot key or webhook URL, so the secret stays out of the repository."""
    return {
        name.upper(): SecretStr(value.strip())
        for name, value in os.environ.items()
        if name.upper().startswith("CITYDW_ALERT_") and name.upper() not in _ALERT_SETTINGS and value.strip()
    }


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYDW_", extra="ignore")

    project_dir: Path = Field(default=_REPO_ROOT, description="Root of the citydw repository.")
    home: Path | None = Field(
        default=None, description="Working data (warehouse, archive, reports); default <project>/.citydw."
    )
    warehouse_url: str | None = Field(default=None, description="PostgreSQL URL; unset means the embedded warehouse.")
    warehouse_port: int = Field(default=55432, description="TCP port of the embedded warehouse.")
    registry_dir: Path | None = Field(default=None, description="Department registry; default <project>/registry.")
    chromium: str = Field(
        default="/usr/bin/chromium", description="Headless Chromium that prints the leaders' brief to PDF."
    )
    expectations_dir: Path | None = Field(default=None, description="GX suites; default <project>/expectations.")
    drop_url: str | None = Field(default=None, description="fsspec URL of the file-drop root; default <home>/drop.")
    archive_url: str | None = Field(
        default=None, description="fsspec URL of the content-addressed archive; default <home>/archive."
    )
    timezone: str = "Asia/Shanghai"
    # Department APIs. Inside Airflow the connection ``citydw_api_<dept>`` may
    # give either instead (see citydw.sources.api.resolve_access).
    api_urls: dict[str, str] = Field(
        default_factory=lambda: _department_variables("URL"),
        description="Base URL of each department's API by department code, from CITYDW_API_<DEPT>_URL.",
    )
    api_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {dept: SecretStr(v) for dept, v in _department_variables("TOKEN").items()},
        description="Bearer token of each department's API by department code, from CITYDW_API_<DEPT>_TOKEN.",
    )
    api_connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for a department API to accept.")
    api_read_timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for a page once connected.")
    api_retries: int = Field(default=4, ge=0, description="Retries of a page on timeouts, 429 and 5xx answers.")
    # Limits of one delivery, checked before it is read (citydw.parsing.limits).
    max_file_bytes: int = Field(
        default=1024 * 1024 * 1024, gt=0, description="Largest delivery file, in bytes, refused before reading."
    )
    xlsx_max_unpacked_bytes: int = Field(
        default=200 * 1024 * 1024, gt=0, description="Largest total of an .xlsx's inflated parts (zip bombs)."
    )
    xlsx_max_cells: int = Field(
        default=5_000_000, gt=0, description="Largest sheet, in cells from A1 to its last filled cell (rows × columns)."
    )
    ingest_block_rows: int = Field(
        default=100_000,
        gt=0,
        description="Rows of a delivery converted and handed to the load's COPY at a time (memory per step).",
    )
    api_request_deadline: float = Field(
        default=120.0, gt=0, description="Seconds one request to a department API may take in all, answer included."
    )
    api_max_bytes: int = Field(
        default=100 * 1024 * 1024, gt=0, description="Largest answer (one page) a department API may send, in bytes."
    )
    demo_api_token: SecretStr | None = Field(
        default=None, description="Token the demo API server (citydw demo serve) requires; never a real one."
    )
    bi_password: SecretStr | None = Field(
        default=None,
        description=(
            "Password of the read-only BI role citydw_bi, applied after migrating (citydw.warehouse.roles); "
            "unset leaves the role as it is: without a password on a new server, so nobody logs in as it."
        ),
    )
    # Alerts (citydw.alerts). E-mail routes go through this SMTP server; a chat
    # or webhook route in the registry names its own CITYDW_ALERT_… variable.
    smtp_host: str | None = Field(default=None, description="SMTP server of e-mail alerts.")
    smtp_port: int | None = Field(
        default=None, ge=1, le=65535, description="SMTP port; default 587 (starttls), 465 (ssl) or 25 (none)."
    )
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls, ssl (implicit TLS) or none (a relay on a trusted network only)."
    )
    smtp_user: str | None = Field(default=None, description="SMTP login; unset means no login.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password, from CITYDW_SMTP_PASSWORD.")
    smtp_from: str | None = Field(default=None, description="Sender address of e-mail alerts.")
    alert_data_team_urls: SecretStr | None = Field(
        default=None,
        description="The data team's Apprise URLs, comma- or space-separated: task failures and run summaries.",
    )
    alert_data_team_emails: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="The data team's e-mail addresses, comma-separated, sent through the SMTP server."
    )
    alert_secrets: dict[str, SecretStr] = Field(
        default_factory=_alert_secret_variables,
        description="Every CITYDW_ALERT_… variable by name: the keys and URLs registry alert routes name.",
    )

    # Airflow as a service (citydw.cluster, citydw.backfill): the local cluster
    # of `citydw cluster up`, or a deployment's API server.
    airflow_api_url: str | None = Field(
        default=None,
        description="Airflow API server `citydw backfill` talks to; default the running local cluster's.",
    )
    airflow_api_token: SecretStr | None = Field(default=None, description="Bearer token for the Airflow API.")
    airflow_username: str | None = Field(default=None, description="Airflow user, when no token is given.")
    airflow_password: SecretStr | None = Field(default=None, description="That user's password.")
    airflow_database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the local cluster's Airflow metadata; default database airflow beside the warehouse.",
    )
    cluster_api_port: int | None = Field(
        default=8080, ge=0, le=65535, description="Port of the local cluster's API server (UI); 0 means any free port."
    )
    redis_server: Path | None = Field(
        default=None, description="redis-server binary for the local cluster; default found on PATH or installed."
    )
    task_retry_delay_seconds: int = Field(
        default=30, ge=0, description="Delay before a failed DAG task is retried (the DAG's retry_delay)."
    )

    # The department portal (citydw.portal).
    portal_port: int = Field(default=8090, ge=1, le=65535, description="Port of `citydw portal` on 127.0.0.1.")
    portal_host: str = Field(
        default="127.0.0.1", description="Address the portal listens on; 0.0.0.0 only inside a container."
    )
    portal_secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs the portal's session cookies; unset: one kept in <home>/portal-secret-key.",
    )
    portal_max_upload_mb: float = Field(default=20, gt=0, description="Largest file the portal accepts, in MB.")
    portal_login_attempts: int = Field(
        default=5, ge=1, description="Failed logins per account (or client) in 15 minutes before logins are refused."
    )
    portal_https: bool = Field(default=False, description="Mark session cookies Secure (behind an HTTPS proxy).")

    # Superset, the laptop BI tool (citydw.bi): its own environment, metadata and port.
    bi_port: int = Field(default=8088, ge=1, le=65535, description="Port of Superset on 127.0.0.1 (citydw bi up).")
    bi_admin_password: SecretStr | None = Field(
        default=None,
        description="Password of Superset's user admin; unset, one is made up and kept in <home>/bi/admin-password.",
    )
    bi_metadata_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of Superset's own metadata; default SQLite in <home>/bi/superset.db.",
    )
    bi_venv: Path | None = Field(
        default=None, description="Superset's virtual environment, never .venv; default <project>/.venv-bi."
    )

    @field_validator("alert_data_team_emails", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in re.split(r"[,;\s]+", value) if part.strip())
        return value

    @property
    def home_dir(self) -> Path:
        return self.home or self.project_dir / ".citydw"

    @property
    def registry_path(self) -> Path:
        return self.registry_dir or self.project_dir / "registry"

    @property
    def expectations_path(self) -> Path:
        return self.expectations_dir or self.project_dir / "expectations"

    @property
    def dbt_project_path(self) -> Path:
        return self.project_dir / "dbt_project"

    @property
    def city_dir(self) -> Path:
        """The configured city: the dbt seeds the warehouse and the readers share."""
        return self.dbt_project_path / "seeds" / "city"

    @property
    def drop_root(self) -> str:
        return self.drop_url or str(self.home_dir / "drop")

    @property
    def archive_root(self) -> str:
        return self.archive_url or str(self.home_dir / "archive")

    @property
    def reports_dir(self) -> Path:
        return self.home_dir / "reports"

    @property
    def bi_dir(self) -> Path:
        """Superset's working data: its config, secret key, metadata, log and pid file."""
        return self.home_dir / "bi"

    @property
    def bi_venv_path(self) -> Path:
        return self.bi_venv or self.project_dir / ".venv-bi"

    @property
    def dashboards_dir(self) -> Path:
        """The dashboards as code, in Superset's export format."""
        return self.project_dir / "bi"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
