"""Settings of the sync service, read from ``SYNC_*`` environment variables."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from edusim_common.clock import ClockMode

DEV_SERVICE_TOKEN = "sync-service-dev-token"


class SyncSettings(BaseSettings):
    """Every knob of the sync service, with safe local defaults."""

    model_config = SettingsConfigDict(env_prefix="SYNC_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///./data/sync.db")
    service_token: str = Field(
        default=DEV_SERVICE_TOKEN,
        min_length=8,
        description="Bearer token of administrators (clock, runs).",
    )
    clock_start: datetime = Field(default=datetime.fromisoformat("2026-09-01T08:00:00+02:00"))
    clock_mode: ClockMode = ClockMode.manual
    echo_sql: bool = False
