"""The J+1 sync service: ``create_app(settings) -> FastAPI``.

It holds the master clock (pushed to ONDE and EduConnect), the nightly scheduler, the runs and their
reports. ``onde_client``/``educonnect_client`` let tests hand it in-process clients of the fakes.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from edusim_common.app import create_service_app
from edusim_common.problems import map_exception
from edusim_common.service_auth import require_service_token
from sync_service import routes, snapshot_routes
from sync_service.config import SyncSettings
from sync_service.models import SyncModel, upgrade_schema
from sync_service.pages import local_status
from sync_service.pages import pages as sync_pages
from sync_service.remote import EduConnectApi, OndeApi, RemoteError, RetryPolicy
from sync_service.runner import SyncContext
from sync_service.scheduler import NightlyScheduler, recover_without_scheduler

METADATA = SyncModel.metadata
SYNC_LOCK_KEY = 0x53594E43

DESCRIPTION = """
The **J+1 sync**: every night (02:00 Europe/Paris by default) it reads ONDE's change log up to
the end of the previous day and applies it to EduConnect through its import API.

* The sync holds the **simulated clock** of the three services: advancing it runs every night
  crossed, once each, in order (`POST /api/v1/clock/advance`, `POST /api/v1/clock/next-day`).
* `POST /api/v1/runs` runs now (marked `manual`), or a full reconciliation (`full`, with `dry_run`).
* Each run has a report: counts, and one line per responsable with its outcome and reason.
"""


def create_app(
    settings: SyncSettings | None = None,
    onde_client: httpx.Client | None = None,
    educonnect_client: httpx.Client | None = None,
) -> FastAPI:
    """Build the sync service."""
    settings = settings or SyncSettings()
    retry = RetryPolicy(settings.retry_attempts, settings.retry_backoff_seconds)
    timeout = httpx.Timeout(settings.http_timeout_seconds)

    def start(app: FastAPI) -> None:
        onde_http = onde_client or httpx.Client(base_url=settings.onde_url, timeout=timeout)
        ec_http = educonnect_client or httpx.Client(
            base_url=settings.educonnect_url, timeout=timeout
        )
        app.state.owned_clients = [
            c for c, given in ((onde_http, onde_client), (ec_http, educonnect_client)) if not given
        ]
        ctx = SyncContext(
            engine=app.state.engine,
            onde=OndeApi("ONDE", onde_http, settings.onde_token, retry),
            educonnect=EduConnectApi("EduConnect", ec_http, settings.educonnect_token, retry),
            settings=settings,
            clock=app.state.clock,
        )
        app.state.sync = ctx
        # Runs a dead process left "running" are marked interrupted by the leader only.
        app.state.scheduler = NightlyScheduler(ctx) if settings.scheduler_enabled else None
        if app.state.scheduler is not None:
            app.state.scheduler.start()
        else:
            recover_without_scheduler(ctx)

    def stop(app: FastAPI) -> None:
        if app.state.scheduler is not None:
            app.state.scheduler.shutdown()
        running = app.state.sync.background
        if running is not None:  # like a request in flight: the run ends before the service
            running.join()
        for client in app.state.owned_clients:
            client.close()

    app = create_service_app(
        name="sync",
        title="ONDE → EduConnect sync service",
        description=DESCRIPTION,
        settings=settings,
        metadata=METADATA,
        lock_key=SYNC_LOCK_KEY,
        require_admin=require_service_token,
        routers=[routes.router, snapshot_routes.router],
        clock_api=False,
        on_start=start,
        on_stop=stop,
        pages=sync_pages,
        upgrade_schema=upgrade_schema,  # run.night, before the schema check
    )
    app.state.simbar_source = local_status
    map_exception(app, RemoteError, 503, "upstream-unavailable", "ONDE or EduConnect unavailable")
    return app
