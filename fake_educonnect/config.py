"""Settings of the fake EduConnect, read from ``EDUCONNECT_*`` environment variables."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from edusim_common.clock import ClockMode
from edusim_common.types import CorsOrigins

DEV_SERVICE_TOKEN = "educonnect-service-dev-token"
DEV_SECRET_KEY = "educonnect-dev-secret-change-me"


class EduConnectSettings(BaseSettings):
    """Every knob of the fake EduConnect, with safe local defaults."""

    model_config = SettingsConfigDict(env_prefix="EDUCONNECT_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///./data/educonnect.db")
    service_token: str = Field(
        default=DEV_SERVICE_TOKEN, min_length=8, description="Bearer token of the sync service."
    )
    cors_origins: CorsOrigins = Field(
        default_factory=list,
        description="Browser origins allowed to call the API from their pages (CORS), comma-"
        "separated (http://localhost:3000) or * for any; empty: none.",
    )
    secret_key: str = Field(
        default=DEV_SECRET_KEY,
        min_length=8,
        description="Secret for director tokens and one-time code hashes.",
    )
    clock_start: datetime = Field(default=datetime.fromisoformat("2026-09-01T08:00:00+02:00"))
    clock_mode: ClockMode = ClockMode.manual
    echo_sql: bool = False
    identifiant_seed: int = Field(
        default=2026, description="Seed of the identifiant digits: same seed, same identifiants."
    )
    birthdate_tries: int = Field(
        default=1, ge=1, le=10, description="Birth-date tries before an attachment is blocked."
    )
    code_ttl_minutes: int = Field(default=15, ge=1, le=1440, description="Life of a code.")
    code_max_tries: int = Field(
        default=3, ge=1, le=10, description="Wrong tries before a code dies."
    )
    letter_validity_days: int = Field(
        default=92, ge=1, le=366, description="Life of a school letter's password (3 months)."
    )
    session_ttl_minutes: int = Field(default=60, ge=1, le=10080)
    argon2_time_cost: int = Field(default=2, ge=1, le=10)
    argon2_memory_kib: int = Field(default=19456, ge=8, le=1048576)
    login_limit_per_account: int = Field(
        default=5, ge=1, description="Failed logins per account per window before refusing."
    )
    requests_limit_per_client: int = Field(
        default=30, ge=1, description="Self-service and login tries per client per window."
    )
    rate_window_minutes: int = Field(default=15, ge=1, le=1440)
