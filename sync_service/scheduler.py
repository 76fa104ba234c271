"""One nightly scheduler for the whole deployment.

APScheduler 3 ticks every few seconds (``max_instances=1``, coalesced) and asks the driver to run
any night the simulated clock has passed. Only the leader ticks: on PostgreSQL the holder of a
session advisory lock, on SQLite the holder of an exclusive file lock beside the database; another
replica stands by and takes over when the leader goes.

Runs left "running" by a dead process are marked interrupted by the leader when it takes the
lead, if no process holds the run lock (a live run keeps it, whichever replica carries it out);
any claim of a new run marks them too.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from sync_service.driver import catch_up
from sync_service.locks import LEADER_LOCK_KEY, DeploymentLock
from sync_service.runner import SyncContext, live_run

log = logging.getLogger("edusim.sync.scheduler")


class LeaderLock(DeploymentLock):
    """Who runs the scheduler: the first process to take this lock."""

    def __init__(self, ctx: SyncContext) -> None:
        super().__init__(ctx.engine, LEADER_LOCK_KEY, "scheduler")
        self.ctx = ctx

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process leads."""
        return self.acquire(blocking=False)


def take_lead(lock: LeaderLock) -> bool:
    """Take ``lock`` if free; a new leader first marks the runs a dead process left running.

    True when this process leads. If the marking fails, the lead is given up (and retried later).
    """
    if lock.held:
        return True
    if not lock.try_acquire():
        return False
    try:
        live_run(lock.ctx)  # marks a run whose process died
    except Exception:
        lock.release()
        raise
    return True


def recover_without_scheduler(ctx: SyncContext) -> None:
    """At start-up without a scheduler: mark the runs a dead process left, if no leader is alive.

    The lead is taken only for that moment (as a new leader would do it), then let go.
    """
    lock = LeaderLock(ctx)
    try:
        take_lead(lock)
    finally:
        lock.release()


class NightlyScheduler:
    """Ticks while leader; catches up every night the clock has passed."""

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.leader = LeaderLock(ctx)
        self._scheduler = BackgroundScheduler(timezone="UTC")

    def start(self) -> None:
        """Take the lead if it is free, and start ticking."""
        try:
            take_lead(self.leader)
        except Exception:
            log.exception("could not take the lead at start-up; the next tick tries again")
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.ctx.settings.tick_seconds,
            id="nightly-sync",
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.start()

    def tick(self) -> None:
        """One look at the clock: run the nights it has passed, if this process leads."""
        try:
            if take_lead(self.leader):
                catch_up(self.ctx)
        except Exception:
            log.exception("scheduler tick failed")

    def shutdown(self) -> None:
        """Stop ticking and let another replica lead."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self.leader.release()
