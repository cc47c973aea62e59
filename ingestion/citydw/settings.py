"""Every setting citydw reads from the environment, in one place.

Commands, DAG tasks and tests call :func:`get_settings` and pass the values
on; nothing else in the package reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYDW_", extra="ignore")

    project_dir: Path = Field(default=_REPO_ROOT, description="Root of the citydw repository.")
    home: Path | None = Field(
        default=None, description="Working data (warehouse, archive, reports); default <project>/.citydw."
    )
    warehouse_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means the embedded warehouse."
    )
    warehouse_port: int = Field(default=55432, description="TCP port of the embedded warehouse.")
    registry_dir: Path | None = Field(default=None, description="Department registry; default <project>/registry.")
    expectations_dir: Path | None = Field(default=None, description="GX suites; default <project>/expectations.")
    drop_url: str | None = Field(
        default=None, description="fsspec URL of the file-drop root; default <home>/drop."
    )
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
    demo_api_token: SecretStr | None = Field(
        default=None, description="Token the demo API server (citydw demo serve) requires; never a real one."
    )

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
