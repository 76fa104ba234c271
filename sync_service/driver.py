"""The simulated clock's driver: moving time runs every nightly sync it crosses, in order.

The sync service holds the master clock and pushes it to ONDE and EduConnect. A nightly run at
02:00 (Europe/Paris) on day D+1 applies the changes recorded up to the end of day D — so what a
director records on day D reaches EduConnect on D+1, never the same day.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from edusim_common.clock import PARIS, ClockMode, as_utc
from edusim_common.db import unit_of_work
from sync_service.models import Run, RunKind
from sync_service.remote import RemoteError, set_clock
from sync_service.runner import SyncContext, get_state, run_now

log = logging.getLogger("edusim.sync.driver")


def nightly_cutoff(day: date) -> datetime:
    """The cut-off of the night of ``day``: the end of the day before (Paris)."""
    midnight = datetime.combine(day, time(0, 0), tzinfo=PARIS)
    return as_utc(midnight) - timedelta(microseconds=1)


def nights_between(start: datetime, end: datetime, at: time) -> list[date]:
    """Days whose nightly instant falls in ``(start, end]``."""
    days: list[date] = []
    day = start.astimezone(PARIS).date()
    while True:
        instant = as_utc(datetime.combine(day, at, tzinfo=PARIS))
        if instant > end:
            return days
        if instant > start:
            days.append(day)
        day += timedelta(days=1)


def push_clock(ctx: SyncContext) -> None:
    """Give ONDE and EduConnect the sync's time and mode."""
    now, mode = ctx.clock.now(), ctx.clock.mode.value
    for remote in (ctx.onde, ctx.educonnect):
        set_clock(remote, now, mode)


def run_night(ctx: SyncContext, day: date) -> Run:
    """The nightly run of ``day``, and remember it was done."""
    run = run_now(ctx, RunKind.nightly, nightly_cutoff(day))
    with unit_of_work(ctx.engine) as session:
        get_state(session).last_night = day
    return run


def advance_to(ctx: SyncContext, target: datetime) -> list[Run]:
    """Move the clock to ``target``, stopping at each night crossed to run its sync."""
    runs = []
    target = as_utc(target)
    for day in nights_between(ctx.clock.now(), target, ctx.settings.nightly_at):
        ctx.clock.set(as_utc(datetime.combine(day, ctx.settings.nightly_at, tzinfo=PARIS)))
        push_clock(ctx)
        runs.append(run_night(ctx, day))
    ctx.clock.set(target)
    push_clock(ctx)
    return runs


def next_day(ctx: SyncContext, morning: time = time(8, 0)) -> list[Run]:
    """Go to the next morning (08:00 Paris), running the night in between."""
    today = ctx.clock.now().astimezone(PARIS).date()
    return advance_to(
        ctx, as_utc(datetime.combine(today + timedelta(days=1), morning, tzinfo=PARIS))
    )


def catch_up(ctx: SyncContext) -> list[Run]:
    """Run every night that the clock has passed without a run (realtime mode, restarts)."""
    now = ctx.clock.now()
    with unit_of_work(ctx.engine) as session:
        state = get_state(session)
        if state.last_night is None:
            # First look at the clock: the nights before it are not owed.
            today = now.astimezone(PARIS).date()
            passed = as_utc(datetime.combine(today, ctx.settings.nightly_at, tzinfo=PARIS)) <= now
            state.last_night = today if passed else today - timedelta(days=1)
        last = state.last_night
    start = as_utc(datetime.combine(last, ctx.settings.nightly_at, tzinfo=PARIS))
    runs = []
    for day in nights_between(start, now, ctx.settings.nightly_at):
        try:
            runs.append(run_night(ctx, day))
        except RemoteError:
            log.exception("nightly run of %s failed", day)
            break
    return runs


def set_mode(ctx: SyncContext, mode: ClockMode) -> None:
    """Switch between manual and realtime time."""
    ctx.clock.set(ctx.clock.now(), mode)
    push_clock(ctx)
