"""Settings read from ``LINEWISE_*`` environment variables; only adapters read them."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_FILE", "Settings"]

DEFAULT_DATABASE_FILE = "linewise.db"


class Settings(BaseSettings):
    """Runtime settings.

    ``database_url`` defaults to a SQLite file ``linewise.db`` in the working
    directory; ``product_file`` optionally points at a product definition (JSON).
    """

    model_config = SettingsConfigDict(env_prefix="LINEWISE_", extra="ignore")

    database_url: str = ""
    product_file: Path | None = None

    def resolved_database_url(self) -> str:
        """The database URL, the SQLite default when none is set."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}"
