"""The fake ONDE application: ``create_app(settings) -> FastAPI``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

from edusim_common.clock_api import clock_router, clock_table, load_clock
from edusim_common.db import make_engine
from edusim_common.problems import install_problem_handlers
from fake_onde.config import OndeSettings
from fake_onde.deps import get_clock, require_service
from fake_onde.models import OndeModel
from fake_onde.routes import changes, pupils, responsables, schools

API_PREFIX = "/api/v1"
ONDE_LOCK_KEY = 0x4F4E4445  # "ONDE": the advisory lock serialising writers on PostgreSQL
CLOCK_TABLE = clock_table(OndeModel.metadata)

DESCRIPTION = """
The fake **ONDE** (Outil Numérique pour la Direction d'École): the primary schools' pupil database.

* A **director** reads and writes only their own school with its bearer token
  (`onde-dir-<UAI>-…`); the **service token** (sync, administrators) reaches every school.
* Every change is recorded in the **change log** (`GET /api/v1/changes`), in order, with its
  simulated time: the sync reads "everything after my cursor, up to my cut-off".
* Errors are RFC 9457 `application/problem+json` bodies naming the field and the reason.
"""


def create_app(settings: OndeSettings | None = None) -> FastAPI:
    """Build the fake ONDE; the lifespan opens the database and restores the clock."""
    settings = settings or OndeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, echo=settings.echo_sql, lock_key=ONDE_LOCK_KEY)
        OndeModel.metadata.create_all(engine)
        app.state.engine = engine
        app.state.clock = load_clock(engine, CLOCK_TABLE, settings.clock_start, settings.clock_mode)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Fake ONDE",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    for module in (schools, pupils, responsables, changes):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(clock_router(get_clock, require_service), prefix=API_PREFIX)

    @app.get("/health", tags=["health"], summary="Liveness and readiness")
    def health(request: Request) -> dict[str, Any]:
        return {"status": "ok", "service": "onde", "now": request.app.state.clock.now()}

    return app
