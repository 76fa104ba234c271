"""The sync service's API: status, the clock's driver, runs and their reports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session, col

from edusim_common.clock import ClockState
from edusim_common.deps import DbSession
from edusim_common.problems import PROBLEM_RESPONSES, NotFound
from edusim_common.service_auth import require_service_token
from sync_service import driver
from sync_service.models import Run, RunKind, RunLine
from sync_service.runner import SyncContext, approve, get_state, run_in_background, run_now
from sync_service.schemas import (
    ClockAdvanceIn,
    ClockMove,
    ClockSetIn,
    LineOutcome,
    RunLinePublic,
    RunPublic,
    RunRequest,
    Status,
)
from sync_service.timeline import report_lines

MAX_ID = 2**31 - 1
admin = [Depends(require_service_token)]
router = APIRouter(responses=PROBLEM_RESPONSES)


def get_context(request: Request) -> SyncContext:
    """The app's sync context."""
    ctx: SyncContext = request.app.state.sync
    return ctx


Context = Annotated[SyncContext, Depends(get_context)]
RunIdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def _run(session: Session, run_id: RunIdPath) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    return run


@router.get("/status", tags=["status"], summary="Clock, cursor, leader, last run")
def status(ctx: Context, session: DbSession, request: Request) -> Status:
    """Where the sync stands."""
    state = get_state(session)
    last = session.scalars(select(Run).order_by(col(Run.id).desc()).limit(1)).first()
    return Status(
        clock=ctx.clock.state(),
        cursor=state.cursor,
        mirror_ready=state.mirror_ready,
        last_night=state.last_night,
        leader=request.app.state.scheduler.leader.held if request.app.state.scheduler else False,
        last_run=RunPublic.of(last) if last else None,
    )


@router.get("/clock", tags=["clock"], summary="Read the simulated clock")
def read_clock(ctx: Context) -> ClockState:
    """The master clock of the three services."""
    return ctx.clock.state()


def _moved(ctx: SyncContext, runs: list[Run]) -> ClockMove:
    return ClockMove(clock=ctx.clock.state(), runs=[RunPublic.of(r) for r in runs])


@router.put("/clock", tags=["clock"], summary="Set the clock", dependencies=admin)
def set_clock(body: ClockSetIn, ctx: Context) -> ClockMove:
    """Forward: every night crossed runs its sync; backward: time is set, nothing runs, and the
    nights after the new time will run again when the clock passes them.

    Refused (422) outside 1900–2999 or when crossing more than `SYNC_MAX_NIGHTS_PER_MOVE` nights.
    """
    return _moved(ctx, driver.set_time(ctx, body.now, body.mode, field="body.now"))


@router.post("/clock/advance", tags=["clock"], summary="Advance the clock", dependencies=admin)
def advance(body: ClockAdvanceIn, ctx: Context) -> ClockMove:
    """Every night crossed runs its sync, once each, in order, with its own cut-off.

    Refused (422) past 2999 or when crossing more than `SYNC_MAX_NIGHTS_PER_MOVE` nights.
    """
    delta = timedelta(seconds=body.seconds)
    return _moved(ctx, driver.advance(ctx, delta, field="body.seconds"))


@router.post("/clock/next-day", tags=["clock"], summary="« Jour suivant »", dependencies=admin)
def next_day(ctx: Context) -> ClockMove:
    """To the next morning (08:00), after the night's sync."""
    return _moved(ctx, driver.next_day(ctx, field="clock"))


def _respond_async(prefer: list[str] | None) -> bool:
    """Whether the ``Prefer`` headers (RFC 7240: one or several lines) ask for ``respond-async``."""
    return any(
        part.split(";", 1)[0].strip().lower() == "respond-async"
        for line in prefer or ()
        for part in line.split(",")
    )


PREFER = Header(
    description="`respond-async` (RFC 7240): answer `202 Accepted` as soon as the run is "
    "claimed, its URL in `Location`, instead of holding the request until the run ends.",
    examples=["respond-async"],
)


@router.post(
    "/runs",
    tags=["runs"],
    summary="Run the sync now (manual)",
    dependencies=admin,
    responses={
        202: {
            "model": RunPublic,
            "description": "With `Prefer: respond-async`: the run, claimed and `running`; "
            "`Location` is its URL, to read until its status is no longer `running`.",
        }
    },
)
def start_run(
    ctx: Context,
    response: Response,
    body: RunRequest | None = None,
    prefer: Annotated[list[str] | None, PREFER] = None,  # every ``Prefer`` line
) -> RunPublic:
    """A manual run, cut-off now, marked `manual` (or `full`): it breaks J+1 on purpose.

    The body is optional: without one, a manual run. The answer comes when the run has ended,
    unless the request says `Prefer: respond-async`: a full run at scale takes minutes."""
    body = body or RunRequest()
    kind = RunKind.full if body.full else RunKind.manual
    cutoff = ctx.clock.now()
    if not _respond_async(prefer):
        return RunPublic.of(run_now(ctx, kind, cutoff, full=body.full, dry_run=body.dry_run))
    run = run_in_background(ctx, kind, cutoff, full=body.full, dry_run=body.dry_run)
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/runs/{run.id}"
    response.headers["Preference-Applied"] = "respond-async"
    return RunPublic.of(run)


@router.get("/runs", tags=["runs"], summary="Runs, newest first")
def list_runs(
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[RunPublic]:
    """Each run with its kind, cut-off, duration and counts."""
    query = select(Run).order_by(col(Run.id).desc()).limit(limit)
    if before is not None:
        query = query.where(col(Run.id) < before)
    return [RunPublic.of(r) for r in session.scalars(query)]


@router.get("/runs/{run_id}", tags=["runs"], summary="One run")
def read_run(run_id: RunIdPath, session: DbSession) -> RunPublic:
    """A run's counts and status."""
    return RunPublic.of(_run(session, run_id))


class LineFilters:
    """The filters of a run's report, the same for its pages of lines and its downloads."""

    def __init__(
        self,
        outcome: LineOutcome | None = None,
        source_id: Annotated[str | None, Query(max_length=40)] = None,
        name: Annotated[
            str | None,
            Query(
                max_length=80,
                description="The start of the responsable's first or family name, or of "
                "« Prénom Nom », accents and case aside (as the sync's mirror of ONDE has it).",
            ),
        ] = None,
    ) -> None:
        self.outcome = outcome.value if outcome is not None else None
        self.source_id = source_id
        self.name = name.strip() if name else None

    def lines(self, session: Session, run_id: int, after: int, limit: int) -> list[RunLine]:
        """The lines these filters keep, after line ``after``."""
        return report_lines(
            session,
            run_id,
            outcome=self.outcome,
            source_id=self.source_id,
            name=self.name,
            after=after,
            limit=limit,
        )

    def pages(self, session: Session, run_id: int) -> Iterator[list[RunLine]]:
        """Every line these filters keep, 5,000 at a time."""
        after = 0
        while page := self.lines(session, run_id, after, 5000):
            yield page
            if len(page) < 5000:
                return
            after = page[-1].id or 0

    def every_line(self, session: Session, run_id: int) -> Iterator[RunLine]:
        """Every line these filters keep, one by one (read 5,000 at a time)."""
        for page in self.pages(session, run_id):
            yield from page


Filters = Annotated[LineFilters, Depends()]


@router.get("/runs/{run_id}/lines", tags=["runs"], summary="A run's report, one line per object")
def run_lines(
    run_id: RunIdPath,
    session: DbSession,
    filters: Filters,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[RunLinePublic]:
    """Filter by outcome (`created`, `excluded`, `failed`…), source id or name; page with
    `after`."""
    _run(session, run_id)
    return [
        RunLinePublic.model_validate(line, from_attributes=True)
        for line in filters.lines(session, run_id, after, limit)
    ]


class CsvResponse(Response):
    """A CSV download: its media type, rather than JSON, is what the OpenAPI document says."""

    media_type = "text/csv"


@router.get(
    "/runs/{run_id}/report.csv",
    tags=["runs"],
    summary="Download a run's report (CSV)",
    response_class=CsvResponse,
)
def report_csv(run_id: RunIdPath, session: DbSession, filters: Filters) -> Response:
    """Every line of the report that the filters keep (those of `/lines`), as CSV."""
    run = _run(session, run_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["run_id", "source_id", "school_uai", "outcome", "identifiant", "reason"])
    for line in filters.every_line(session, run.id or 0):
        writer.writerow(
            [run.id, line.source_id, line.school_uai, line.outcome, line.identifiant, line.reason]
        )
    return CsvResponse(
        buffer.getvalue(),
        headers={"Content-Disposition": f'attachment; filename="run-{run.id}.csv"'},
    )


@router.get("/runs/{run_id}/report.json", tags=["runs"], summary="Download a run's report (JSON)")
def report_json(
    run_id: RunIdPath, session: DbSession, filters: Filters, response: Response
) -> dict[str, object]:
    """The run and every line of its report that the filters keep (those of `/lines`), as a
    file to save (`Content-Disposition: attachment`), like the CSV."""
    run = _run(session, run_id)
    lines = [
        RunLinePublic.model_validate(line, from_attributes=True).model_dump()
        for line in filters.every_line(session, run.id or 0)
    ]
    response.headers["Content-Disposition"] = f'attachment; filename="run-{run.id}.json"'
    return {"run": RunPublic.of(run).model_dump(mode="json"), "lines": lines}


@router.post(
    "/runs/{run_id}/approve", tags=["runs"], summary="Approve held-back deactivations",
    dependencies=admin,
)  # fmt: skip
def approve_run(run_id: RunIdPath, ctx: Context) -> RunPublic:
    """Apply the deactivations a run held back because they passed the threshold."""
    return RunPublic.of(approve(ctx, run_id))
