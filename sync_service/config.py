"""Settings of the sync service, read from ``SYNC_*`` environment variables."""

from __future__ import annotations

from datetime import datetime, time

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from edusim_common.clock import ClockMode
from edusim_common.types import CorsOrigins

DEV_SERVICE_TOKEN = "sync-service-dev-token"


class SyncSettings(BaseSettings):
    """Every knob of the sync service, with safe local defaults."""

    model_config = SettingsConfigDict(env_prefix="SYNC_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///./data/sync.db")
    service_token: str = Field(
        default=DEV_SERVICE_TOKEN, min_length=8, description="Bearer token of administrators."
    )
    cors_origins: CorsOrigins = Field(
        default_factory=list,
        description="Browser origins allowed to call the API from their pages (CORS), comma-"
        "separated (http://localhost:3000) or * for any; empty: none.",
    )
    clock_start: datetime = Field(default=datetime.fromisoformat("2026-09-01T08:00:00+02:00"))
    clock_mode: ClockMode = ClockMode.manual
    echo_sql: bool = False
    onde_url: str = Field(default="http://127.0.0.1:8001")
    onde_token: str = Field(default="onde-service-dev-token")
    educonnect_url: str = Field(default="http://127.0.0.1:8002")
    educonnect_token: str = Field(default="educonnect-service-dev-token")
    nightly_at: time = Field(
        default=time(2, 0), description="Local time (Europe/Paris) of the nightly run."
    )
    page_size: int = Field(default=5000, ge=1, le=50000, description="Change-log page size.")
    batch_size: int = Field(
        default=10000,
        ge=1,
        le=50000,
        description="Import batch size (responsables per call; EduConnect takes 50,000 at most). "
        "Bigger batches import faster at scale but hold EduConnect's write lock longer "
        "(docs/sync.md).",
    )
    deactivation_max_count: int = Field(
        default=500, ge=0, description="A run deactivating more accounts waits for approval."
    )
    deactivation_max_percent: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="… or more than this share of the responsables (when at least "
        "`deactivation_percent_min_count` would go).",
    )
    deactivation_percent_min_count: int = Field(
        default=10, ge=1, description="Below this many, the percentage does not hold a run."
    )
    retry_attempts: int = Field(default=5, ge=1, le=20, description="Tries of one remote call.")
    retry_backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    http_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    scheduler_enabled: bool = Field(default=True, description="Run the nightly scheduler.")
    max_nights_per_move: int = Field(
        default=366,
        ge=1,
        le=3660,
        description="A clock move (PUT, advance) crossing more nights than this is refused (422): "
        "each night crossed runs a sync.",
    )
    tick_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="How often the scheduler looks at the clock."
    )
