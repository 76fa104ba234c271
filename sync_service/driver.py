"""The simulated clock's driver: moving time runs every nightly sync it crosses, in order.

The sync service holds the master clock and pushes it to ONDE and EduConnect. A nightly run at
02:00 (Europe/Paris) on day D+1 applies the changes recorded up to the end of day D — so what a
director records on day D reaches EduConnect on D+1, never the same day.

Each night is claimed once (``run.night`` is unique): whichever path gets there first — a clock
move or the scheduler's catch-up — runs it, and the other skips it. In one process the moves and
the catch-up are also serialised by ``SyncContext.driver_lock``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import update
from sqlmodel import col

from edusim_common.clock import PARIS, ClockMode, as_utc
from edusim_common.clock_api import checked_advance, checked_time
from edusim_common.db import unit_of_work
from edusim_common.problems import Conflict, InvalidInput
from sync_service.models import Run, RunKind
from sync_service.remote import RemoteError, set_clock
from sync_service.runner import (
    NightAlreadyRun,
    RunBusy,
    SyncContext,
    claim_run,
    execute_run,
    get_state,
    hold_run_lock,
    live_run,
)

log = logging.getLogger("edusim.sync.driver")


def nightly_cutoff(day: date) -> datetime:
    """The cut-off of the night of ``day``: the end of the day before (Paris)."""
    midnight = datetime.combine(day, time(0, 0), tzinfo=PARIS)
    return as_utc(midnight) - timedelta(microseconds=1)


def nightly_instant(day: date, at: time) -> datetime:
    """When the night of ``day`` runs (``at``, Paris time), in UTC."""
    return as_utc(datetime.combine(day, at, tzinfo=PARIS))


def nights_between(
    start: datetime, end: datetime, at: time, limit: int | None = None
) -> list[date]:
    """Days whose nightly instant falls in ``(start, end]`` (at most ``limit + 1`` of them)."""
    days: list[date] = []
    day = start.astimezone(PARIS).date()
    while limit is None or len(days) <= limit:
        instant = nightly_instant(day, at)
        if instant > end:
            return days
        if instant > start:
            days.append(day)
        day += timedelta(days=1)
    return days


def last_night_passed(when: datetime, at: time) -> date:
    """The day of the last nightly instant at or before ``when``."""
    today = when.astimezone(PARIS).date()
    return today if nightly_instant(today, at) <= when else today - timedelta(days=1)


def push_clock(ctx: SyncContext, now: datetime | None = None) -> None:
    """Give ONDE and EduConnect the sync's time and mode.

    ``now`` is the time the sync's clock was just set to (else its time now). A realtime clock
    has moved on since, and read again it may have left the range the fakes accept: set to the
    last microsecond of 2999, it would push 3000 (a 503). The fakes' clocks move on from ``now``
    as the sync's does.
    """
    mode = ctx.clock.mode.value
    when = ctx.clock.now() if now is None else now
    for remote in (ctx.onde, ctx.educonnect):
        set_clock(remote, when, mode)


def run_night(ctx: SyncContext, day: date, move_clock: bool = False) -> Run | None:
    """The nightly run of ``day``, and remember it was done; None if it was already claimed.

    It waits for a run in progress in this process; one in another process is a
    :class:`RunBusy`. With ``move_clock``, the clock is set to the night's instant once the run
    lock is held: a night that cannot run now is never passed over (a later move would skip it).
    """
    hold_run_lock(ctx, wait_here=True)
    try:
        if move_clock:
            push_clock(ctx, ctx.clock.set(nightly_instant(day, ctx.settings.nightly_at)))
        try:
            run_id = claim_run(ctx, RunKind.nightly, nightly_cutoff(day), False, day)
        except NightAlreadyRun:
            log.info("the night of %s was already run: skipped", day)
            return None
        run = execute_run(ctx, run_id, full=False)
    finally:
        ctx.run_lock.release()
    with unit_of_work(ctx.engine) as session:
        state = get_state(session)
        state.last_night = max(state.last_night or day, day)
    return run


def _check_nights(ctx: SyncContext, start: datetime, end: datetime, field: str) -> None:
    most = ctx.settings.max_nights_per_move
    if len(nights_between(start, end, ctx.settings.nightly_at, limit=most)) > most:
        raise InvalidInput.for_field(
            field,
            f"would run more than {most} nightly syncs in one move (SYNC_MAX_NIGHTS_PER_MOVE): "
            "move the clock in several steps",
        )


class RunUnderway(RunBusy):
    """A run is in progress: a move that would run a night waits for it to end, refused."""

    code = "run-in-progress"

    def __init__(self, run_id: int) -> None:
        super().__init__(
            run_id,
            f"run {run_id} is in progress: move the clock once it has ended "
            f"(GET /api/v1/runs/{run_id})",
        )


def _no_run_underway(ctx: SyncContext, start: datetime, target: datetime) -> None:
    """Refuse a forward move that crosses a night while a run is in progress (any replica).

    The night's run would wait for it, the clock already moved on: the request held for as long
    as that run lasts (minutes at scale), a retried request moving the clock twice.
    """
    if not nights_between(start, target, ctx.settings.nightly_at, limit=1):
        return
    running = live_run(ctx)
    if running is not None:
        raise RunUnderway(running)


def _advance(ctx: SyncContext, target: datetime) -> list[Run]:
    """Move forward to ``target``, stopping at each night crossed to run it (lock held)."""
    runs = []
    for day in nights_between(ctx.clock.now(), target, ctx.settings.nightly_at):
        run = run_night(ctx, day, move_clock=True)
        if run is not None:
            runs.append(run)
    push_clock(ctx, ctx.clock.set(target))
    return runs


def _rewind(ctx: SyncContext, target: datetime) -> None:
    """Move back to ``target``: nothing runs, and the nights after it are owed again.

    Their runs keep their report (``night`` cleared), so moving forward again runs those nights
    again, as on a fresh timeline.
    """
    passed = last_night_passed(target, ctx.settings.nightly_at)
    with unit_of_work(ctx.engine) as session:
        session.execute(update(Run).where(col(Run.night) > passed).values(night=None))
        state = get_state(session)
        if state.last_night is not None and state.last_night > passed:
            state.last_night = passed
    push_clock(ctx, ctx.clock.set(target))


def set_time(
    ctx: SyncContext, when: datetime, mode: ClockMode | None = None, field: str = "now"
) -> list[Run]:
    """Set the clock (and mode): forward runs every night crossed; backward runs nothing.

    A time outside the clock's range, or a move crossing more than ``max_nights_per_move``
    nights, is refused before anything changes.
    """
    target = checked_time(when, field)
    with ctx.driver_lock:
        ctx.clock.refresh()  # another replica may have moved it while this one waited
        now = ctx.clock.now()
        if target > now:
            _check_nights(ctx, now, target, field)
            _no_run_underway(ctx, now, target)
        if mode is not None and mode != ctx.clock.mode:
            ctx.clock.set(now, mode)
        if target > now:
            return _advance(ctx, target)
        _rewind(ctx, target)
        return []


def advance(ctx: SyncContext, delta: timedelta, field: str = "seconds") -> list[Run]:
    """Move the clock forward by ``delta``, running every night crossed, in order."""
    with ctx.driver_lock:
        ctx.clock.refresh()
        now = ctx.clock.now()
        target = checked_advance(now, delta, field)
        _check_nights(ctx, now, target, field)
        _no_run_underway(ctx, now, target)
        return _advance(ctx, target)


def next_day(ctx: SyncContext, morning: time = time(8, 0), field: str = "clock") -> list[Run]:
    """Go to the next morning (08:00 Paris), running the night in between."""
    with ctx.driver_lock:
        ctx.clock.refresh()
        tomorrow = ctx.clock.now().astimezone(PARIS).date() + timedelta(days=1)
        target = checked_time(datetime.combine(tomorrow, morning, tzinfo=PARIS), field)
        _no_run_underway(ctx, ctx.clock.now(), target)
        return _advance(ctx, target)


def catch_up(ctx: SyncContext) -> list[Run]:
    """Run every night that the clock has passed without a run (realtime mode, restarts)."""
    if not ctx.driver_lock.acquire(blocking=False):
        return []  # a clock move is running the nights; the next tick looks again
    try:
        return _catch_up(ctx)
    finally:
        ctx.driver_lock.release()


def _catch_up(ctx: SyncContext) -> list[Run]:
    ctx.clock.refresh()  # a clock moved through another replica, or a restored snapshot
    running = live_run(ctx)
    if running is not None:  # waiting for it would hold the driver (and every move) that long
        log.debug("catch-up postponed: run %s is in progress", running)
        return []
    now = ctx.clock.now()
    with unit_of_work(ctx.engine) as session:
        state = get_state(session)
        if state.last_night is None:
            # First look at the clock: the nights before it are not owed.
            state.last_night = last_night_passed(now, ctx.settings.nightly_at)
        last = state.last_night
    runs = []
    at = ctx.settings.nightly_at
    for day in nights_between(nightly_instant(last, at), now, at):
        try:
            run = run_night(ctx, day)
        except RemoteError:
            log.exception("nightly run of %s failed", day)
            break
        except Conflict as exc:  # another process is running a sync: the next tick goes on
            log.info("nightly run of %s postponed: %s", day, exc.detail)
            break
        if run is not None:
            runs.append(run)
    return runs
