"""Settings of the fake ONDE, read from ``ONDE_*`` environment variables."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from edusim_common.clock import ClockMode
from edusim_common.types import CorsOrigins

DEV_SERVICE_TOKEN = "onde-service-dev-token"
DEV_SECRET_KEY = "onde-dev-secret-change-me"


class OndeSettings(BaseSettings):
    """Every knob of the fake ONDE, with safe local defaults."""

    model_config = SettingsConfigDict(env_prefix="ONDE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./data/onde.db",
        description="Any SQLAlchemy URL: SQLite (WAL) by default, PostgreSQL via psycopg.",
    )
    service_token: str = Field(
        default=DEV_SERVICE_TOKEN,
        min_length=8,
        description="Bearer token of the sync service and administrators (all schools).",
    )
    cors_origins: CorsOrigins = Field(
        default_factory=list,
        description="Browser origins allowed to call the API from their pages (CORS), comma-"
        "separated (http://localhost:3000) or * for any; empty: none.",
    )
    secret_key: str = Field(
        default=DEV_SECRET_KEY,
        min_length=8,
        description="Secret from which each school's director token is derived (HMAC).",
    )
    clock_start: datetime = Field(
        default=datetime.fromisoformat("2026-09-01T08:00:00+02:00"),
        description="Simulated time at first start (later starts resume the saved clock).",
    )
    clock_mode: ClockMode = Field(default=ClockMode.manual)
    default_page_size: int = Field(default=100, ge=1, le=5000)
    max_page_size: int = Field(default=5000, ge=1, le=50000)
    echo_sql: bool = False
