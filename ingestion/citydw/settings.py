"""Every setting citydw reads from the environment, in one place.

Commands, DAG tasks and tests call :func:`get_settings` and pass the values
on; nothing else in the package reads ``os.environ`` for configuration.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The package is installed editable from ``ingestion/``, so the repository
# root is two levels above this file; a deployment that installs the package
# elsewhere sets CITYDW_PROJECT_DIR instead.
_REPO_ROOT = Path(__file__).resolve().parents[2]


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
