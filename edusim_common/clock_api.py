"""Persistence of a service's clock in its own database, and the HTTP API to read and drive it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    select,
)

from edusim_common.clock import ClockMode, ClockRecord, ClockState, SimClock, as_utc
from edusim_common.db import UTCDateTime, add_missing_columns, unit_of_work
from edusim_common.problems import PROBLEM_RESPONSES, InvalidInput
from edusim_common.types import STRICT_INPUT, DateTimeText

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
    """The one-row table in which a service keeps its simulated time (a :class:`ClockRecord`)."""
    existing = metadata.tables.get("sim_clock")
    if existing is not None:
        return existing
    return Table(
        "sim_clock",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("sim_now", UTCDateTime(), nullable=False),
        Column("mode", String(16), nullable=False),
        # The wall time (seconds since the epoch) at which the clock showed ``sim_now``; set in
        # realtime mode only, so that every process, and a restart, follow the same time.
        Column("wall_anchor", Float, nullable=True),
    )


def upgrade_clock_table(engine: Engine, table: Table) -> None:
    """Add ``wall_anchor`` to a clock table made by an older version (its rows keep working)."""
    add_missing_columns(engine, table.name, {"wall_anchor": "FLOAT"})


class TableClockStore:
    """A clock kept in the one row of a service's ``sim_clock`` table."""

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table

    def load(self) -> ClockRecord | None:
        """The row, if the clock was ever saved."""
        table = self.table
        query = select(table.c.sim_now, table.c.mode, table.c.wall_anchor).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return ClockRecord(as_utc(row.sim_now), ClockMode(row.mode), row.wall_anchor)

    def save(self, record: ClockRecord) -> None:
        """Replace the row."""
        values = {
            "id": 1,
            "sim_now": record.anchor,
            "mode": record.mode.value,
            "wall_anchor": record.wall_anchor,
        }
        with unit_of_work(self.engine) as session:
            session.execute(self.table.delete())
            session.execute(self.table.insert().values(**values))


def load_clock(engine: Engine, table: Table, start: datetime, mode: ClockMode) -> SimClock:
    """The clock kept in ``table`` (or a new one at ``start``), saving every later change there.

    Call :meth:`SimClock.refresh` to take up a change another process saved since.
    """
    return SimClock.restore(TableClockStore(engine, table), start, mode, until=LATEST)


class ClockSet(BaseModel):
    """Set the clock to a date and time (and optionally change its mode)."""

    model_config = STRICT_INPUT

    now: DateTimeText = Field(examples=["2026-09-01T06:00:00Z"])  # text, not seconds since 1970
    mode: ClockMode | None = Field(default=None, examples=["manual"])


class ClockAdvance(BaseModel):
    """Move the clock forward."""

    model_config = STRICT_INPUT

    # Strict: a JSON number, not false or "1"
    seconds: float = Field(strict=True, ge=0, le=10 * 366 * 86400, examples=[86400])


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
