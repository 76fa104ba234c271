"""Persistence of a service's clock in its own database, and the HTTP API to read and drive it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select

from edusim_common.clock import ClockMode, ClockState, SimClock, as_utc
from edusim_common.db import UTCDateTime, unit_of_work
from edusim_common.problems import PROBLEM_RESPONSES, InvalidInput

#: The range of simulated time every service accepts (UTC; the end is excluded). The sync pushes
#: its clock to ONDE and EduConnect, so they must all accept the same range.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
RANGE = "the simulated clock stays between 1900-01-01 and 2999-12-31 (UTC)"


def checked_time(value: datetime, field: str) -> datetime:
    """``value`` in UTC, or an invalid-input problem if outside the clock's range.

    Compared before any conversion: converting an extreme value (year 9999 with a negative
    offset) to UTC would overflow.
    """
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware < LATEST:
        raise InvalidInput.for_field(field, f"out of range: {RANGE}")
    return as_utc(aware)


def checked_advance(now: datetime, delta: timedelta, field: str) -> datetime:
    """``now + delta``, or an invalid-input problem if that leaves the clock's range."""
    if delta >= LATEST - now:  # a difference, never a sum that could overflow
        raise InvalidInput.for_field(field, f"would move the clock too far: {RANGE}")
    return now + delta


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

    clock = SimClock(start, mode, on_change=save, until=LATEST)
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
        clock.set(checked_time(body.now, "body.now"), body.mode)
        return clock.state()

    @router.post(
        "/advance",
        summary="Advance the simulated clock",
        dependencies=[Depends(require_admin)],
        responses=PROBLEM_RESPONSES,
    )
    def advance_clock(body: ClockAdvance, clock: SimClock = clock_dependency) -> ClockState:
        delta = timedelta(seconds=body.seconds)
        checked_advance(clock.now(), delta, "body.seconds")
        clock.advance(delta)
        return clock.state()

    return router
