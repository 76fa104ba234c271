"""The skeleton every service shares: lifespan (engine, tables, clock), errors, health, clock."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine, MetaData
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edusim_common.clock import ClockMode, SimClock
from edusim_common.clock_api import (
    clock_router,
    clock_table,
    get_clock,
    load_clock,
    upgrade_clock_table,
)
from edusim_common.db import SchemaMismatch, check_schema, make_engine
from edusim_common.faults import FaultInjection, FaultRegistry, faults_router
from edusim_common.problems import (
    FieldError,
    as_page,
    install_problem_handlers,
    install_problem_openapi,
    problem_response,
)
from edusim_common.web import Pages

API_PREFIX = "/api/v1"
#: Allocations between two young collections (CPython's default is 700). A sync batch builds
#: hundreds of thousands of short-lived dicts, models and tuples: at 700 the collector ran so
#: often that many survived into the old generation and triggered ~70 full collections per full
#: sync, ~20 % of EduConnect's import time. The heap stays bounded: garbage cycles are still
#: collected, only in larger steps.
GC_THRESHOLDS = (10_000, 50, 50)


def tune_gc() -> None:
    """Collect less often, and never again scan what start-up built (modules, models, routes)."""
    gc.set_threshold(*GC_THRESHOLDS)
    gc.collect()
    gc.freeze()


class ServiceSettings(Protocol):
    """What the skeleton reads from a service's settings."""

    database_url: str
    echo_sql: bool
    clock_start: datetime
    clock_mode: ClockMode
    service_token: str
    cors_origins: list[str]


NUL_IN_URL_FR = "Cette adresse contient un caractère nul (%00) : vérifiez le lien."


class HeadAsGet:
    """Answer ``HEAD`` as ``GET`` without the body (RFC 9110): FastAPI's routes declare ``GET``
    only, so ``HEAD`` was a 405 everywhere. Same status and headers, ``Content-Length`` included.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a streamed body's chunks: none is sent
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class RefreshClock:
    """Before each request, take up the clock another process of the service may have moved.

    Every uvicorn worker and every replica holds the clock in memory; the record in the database
    is the one they share (see ``SimClock.refresh``). One read of a one-row table, in a thread.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            clock: SimClock | None = getattr(scope["app"].state, "clock", None)
            if clock is not None:
                await run_in_threadpool(clock.refresh)
        await self.app(scope, receive, send)


class RefuseNulInUrl:
    """Refuse NUL characters in the path or query: PostgreSQL text cannot hold them (no 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope.get("path", "")
            query: bytes = scope.get("query_string", b"")
            where = "path" if "\x00" in path else None
            if where is None and (b"%00" in query or b"\x00" in query):
                where = "query"
            if where is not None:
                reason = "must not contain NUL characters"
                problem = problem_response(
                    422,
                    "invalid-input",
                    "Invalid input",
                    f"{where}: {reason}",
                    path,
                    [FieldError(field=where, reason=reason)],
                )
                # A browser asking for a page gets the French error page, as for any refusal.
                response = as_page(Request(scope), 422, NUL_IN_URL_FR, problem)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


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
    clock_api: bool = True,
    on_start: Callable[[FastAPI], None] | None = None,
    on_stop: Callable[[FastAPI], None] | None = None,
    pages: Pages | None = None,
    upgrade_schema: Callable[[Engine], None] | None = None,
) -> FastAPI:
    """Build a service: its database and clock opened in the lifespan, its routers mounted.

    ``clock_api=False`` leaves the clock's routes to the service (the sync drives the clock);
    ``on_start``/``on_stop`` run after the database and clock are ready / before they close;
    ``pages`` are the service's HTML pages (French), mounted outside ``/api``;
    ``upgrade_schema`` brings a database of an older version up to date, before the check that
    refuses tables unlike the models (``check_schema``: no start rather than 500s later).
    """
    clock_store = clock_table(metadata)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, echo=settings.echo_sql, lock_key=lock_key)
        try:
            metadata.create_all(engine)
            upgrade_clock_table(engine, clock_store)
            if upgrade_schema is not None:
                upgrade_schema(engine)
            check_schema(engine, metadata, name)
        except SchemaMismatch as exc:
            logging.getLogger("uvicorn.error").error("%s", exc)
            engine.dispose()
            raise
        app.state.engine = engine
        app.state.clock = load_clock(engine, clock_store, settings.clock_start, settings.clock_mode)
        if on_start is not None:
            on_start(app)
        tune_gc()
        try:
            yield
        finally:
            if on_stop is not None:
                on_stop(app)
            simbar_client = getattr(app.state, "simbar_client", None)
            if simbar_client is not None:
                await simbar_client.aclose()
            engine.dispose()

    app = FastAPI(title=title, version="1.0.0", description=description, lifespan=lifespan)
    app.state.settings = settings
    install_problem_handlers(app)
    install_problem_openapi(app)
    app.state.faults = FaultRegistry()
    # Innermost first: fault rules see HEAD as HEAD (a GET rule is not used up by a HEAD).
    app.add_middleware(HeadAsGet)
    app.add_middleware(FaultInjection, registry=app.state.faults)
    app.add_middleware(RefuseNulInUrl)
    app.add_middleware(RefreshClock)
    if settings.cors_origins:  # outermost: a preflight is answered before anything else runs
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Prefer"],
            expose_headers=["Location", "Retry-After", "Preference-Applied", "Content-Disposition"],
        )
    app.include_router(faults_router(require_admin), prefix=API_PREFIX)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    if clock_api:
        app.include_router(clock_router(get_clock, require_admin), prefix=API_PREFIX)
    if pages is not None:
        pages.install(app)

    @app.get("/health", tags=["health"], summary="Liveness and readiness")
    def health(request: Request) -> dict[str, Any]:
        return {"status": "ok", "service": name, "now": request.app.state.clock.now()}

    return app
