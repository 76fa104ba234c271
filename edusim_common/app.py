"""The skeleton every service shares: lifespan (engine, tables, clock), errors, health, clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import MetaData

from edusim_common.clock import ClockMode
from edusim_common.clock_api import clock_router, clock_table, get_clock, load_clock
from edusim_common.db import make_engine
from edusim_common.problems import install_problem_handlers

API_PREFIX = "/api/v1"


class ServiceSettings(Protocol):
    """What the skeleton reads from a service's settings."""

    database_url: str
    echo_sql: bool
    clock_start: datetime
    clock_mode: ClockMode
    service_token: str


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    settings: ServiceSettings,
    metadata: MetaData,
    lock_key: int,
    require_admin: Callable[..., object],
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """Build a service: its database and clock opened in the lifespan, its routers mounted."""
    clock_store = clock_table(metadata)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, echo=settings.echo_sql, lock_key=lock_key)
        metadata.create_all(engine)
        app.state.engine = engine
        app.state.clock = load_clock(engine, clock_store, settings.clock_start, settings.clock_mode)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(title=title, version="1.0.0", description=description, lifespan=lifespan)
    app.state.settings = settings
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(clock_router(get_clock, require_admin), prefix=API_PREFIX)

    @app.get("/health", tags=["health"], summary="Liveness and readiness")
    def health(request: Request) -> dict[str, Any]:
        return {"status": "ok", "service": name, "now": request.app.state.clock.now()}

    return app
