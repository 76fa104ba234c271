"""Persistence of a service's clock in its own database, and the HTTP API to read and drive it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select

from edusim_common.clock import ClockMode, ClockState, SimClock
from edusim_common.db import UTCDateTime, unit_of_work
from edusim_common.problems import PROBLEM_RESPONSES, InvalidInput


def get_clock(request: Request) -> SimClock:
    """The simulated clock of the app serving the request."""
    clock: SimClock = request.app.state.clock
    return clock


def clock_table(metadata: MetaData) -> Table:
    """The one-row table in which a service keeps its simulated time across restarts."""
    existing = metadata.tables.get("sim_clock")
    if existing is not None:
        return existing
    return Table(
        "sim_clock",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("sim_now", UTCDateTime(), nullable=False),
        Column("mode", String(16), nullable=False),
    )


def load_clock(engine: Engine, table: Table, start: datetime, mode: ClockMode) -> SimClock:
    """Restore the clock saved in ``table`` (or start a new one), saving every later change."""
    with engine.connect() as conn:
        row = conn.execute(select(table.c.sim_now, table.c.mode)).first()
    if row is not None:
        start, mode = row.sim_now, ClockMode(row.mode)

    def save(clock: SimClock) -> None:
        with unit_of_work(engine) as session:
            session.execute(table.delete())
            session.execute(table.insert().values(id=1, sim_now=clock.now(), mode=clock.mode))

    clock = SimClock(start, mode, on_change=save)
    save(clock)
    return clock


class ClockSet(BaseModel):
    """Set the clock to a date and time (and optionally change its mode)."""

    now: datetime = Field(examples=["2026-09-01T06:00:00Z"])
    mode: ClockMode | None = Field(default=None, examples=["manual"])


class ClockAdvance(BaseModel):
    """Move the clock forward."""

    seconds: float = Field(ge=0, le=10 * 366 * 86400, examples=[86400])


def clock_router(
    get_clock: Callable[[Request], SimClock], require_admin: Callable[..., object]
) -> APIRouter:
    """``GET/PUT /clock`` and ``POST /clock/advance``; writing needs ``require_admin``."""
    router = APIRouter(prefix="/clock", tags=["clock"])
    # A default-value dependency, not a local ``Annotated`` alias: with postponed annotations
    # FastAPI resolves string annotations in the module's globals, where a local alias is unknown
    # (the parameter would silently become a required query parameter named ``clock``).
    clock_dependency = Depends(get_clock)

    @router.get("", summary="Read the simulated clock")
    def read_clock(clock: SimClock = clock_dependency) -> ClockState:
        return clock.state()

    @router.put(
        "",
        summary="Set the simulated clock",
        dependencies=[Depends(require_admin)],
        responses=PROBLEM_RESPONSES,
    )
    def set_clock(body: ClockSet, clock: SimClock = clock_dependency) -> ClockState:
        if body.now.year < 1900 or body.now.year > 2999:
            raise InvalidInput.for_field("body.now", "must be between years 1900 and 2999")
        clock.set(body.now, body.mode)
        return clock.state()

    @router.post(
        "/advance",
        summary="Advance the simulated clock",
        dependencies=[Depends(require_admin)],
        responses=PROBLEM_RESPONSES,
    )
    def advance_clock(body: ClockAdvance, clock: SimClock = clock_dependency) -> ClockState:
        if clock.now().year + body.seconds / (365 * 86400) >= 2999:
            raise InvalidInput.for_field("body.seconds", "would move the clock past year 2999")
        clock.advance(timedelta(seconds=body.seconds))
        return clock.state()

    return router
