"""The sync service's pages: the home of the simulation, the bar's actions, the runs.

The sync owns the clock and the runs, so it serves the simulation bar's actions
(« Jour suivant », « Lancer la synchronisation maintenant ») for every service's pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from edusim_common.clock import PARIS
from edusim_common.db import read_session
from edusim_common.problems import Problem
from edusim_common.web import Pages
from edusim_common.web.forms import FlashLevel, read_form, redirect
from edusim_common.web.links import get_links
from edusim_common.web.render import date_fr, night_fr, page
from edusim_common.web.simbar import KIND_FR, STATUS_FR, load_simbar
from sync_service import driver
from sync_service.models import Run, RunKind
from sync_service.pages.wording import busy_fr
from sync_service.routes import status as status_route
from sync_service.runner import RunBusy, SyncContext, run_now

pages = Pages.create(Path(__file__).parent / "templates", "sync")
router = pages.router
with_bar = [Depends(load_simbar)]


async def local_status(request: Request) -> dict[str, Any] | None:
    """The bar of the sync's own pages reads its status directly."""

    def read() -> dict[str, Any]:
        with read_session(request.app.state.engine) as session:
            return status_route(request.app.state.sync, session, request).model_dump(mode="json")

    return await run_in_threadpool(read)


def _summary(runs: list[Run]) -> str:
    if not runs:
        return "aucune nuit franchie"
    parts = []
    for run in runs:
        label = STATUS_FR.get(run.status, run.status)
        night = night_fr(run.cutoff.astimezone(PARIS).date())
        parts.append(f"nuit du {night} : synchronisation {label}")
    return " ; ".join(parts)


@router.get("/", response_class=HTMLResponse, dependencies=with_bar)
def home(request: Request) -> HTMLResponse:
    """The home of the simulation: every screen, and how to use them."""
    return page(pages.templates, request, "home.html")


def _ctx(request: Request) -> SyncContext:
    ctx: SyncContext = request.app.state.sync
    return ctx


@router.post("/sim/next-day")
async def sim_next_day(request: Request) -> RedirectResponse:
    """« Jour suivant »: run the night, go to the next morning, come back to the page."""
    form = await read_form(request)
    back = get_links().safe_next(form.get("next"), "/")
    try:
        runs = await run_in_threadpool(driver.next_day, _ctx(request))
    except RunBusy as exc:  # a driver.RunUnderway among them
        return redirect(
            back,
            f"Jour suivant impossible pour l'instant : {busy_fr(exc.run_id)}",
            FlashLevel.warning,
        )
    except Problem as exc:
        return redirect(back, f"Jour suivant impossible : {exc.detail}", FlashLevel.error)
    today = date_fr(_ctx(request).clock.now(), "full")
    return redirect(back, f"Nous sommes le {today} ({_summary(runs)}).")


@router.post("/sim/run-now")
async def sim_run_now(request: Request) -> RedirectResponse:
    """Run the sync now (marked « manuelle »: it reads today's changes, breaking J+1 on purpose)."""
    form = await read_form(request)
    back = get_links().safe_next(form.get("next"), "/")
    ctx = _ctx(request)
    try:
        run = await run_in_threadpool(run_now, ctx, RunKind.manual, ctx.clock.now())
    except RunBusy as exc:
        return redirect(
            back,
            f"Synchronisation impossible pour l'instant : {busy_fr(exc.run_id)}",
            FlashLevel.warning,
        )
    except Problem as exc:
        return redirect(back, f"Synchronisation impossible : {exc.detail}", FlashLevel.error)
    label = STATUS_FR.get(run.status, run.status)
    kind = KIND_FR[RunKind.manual.value]
    return redirect(back, f"Synchronisation {kind} n° {run.id} : {label}.")


# The runs, timeline and snapshot pages register on the same router (imported last: they use it).
from sync_service.pages import runs, snapshots, timeline  # noqa: E402

__all__ = ["local_status", "pages", "router", "runs", "snapshots", "timeline"]
