"""The nightly scheduler: catching up nights the clock passed, and one leader per deployment."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from sync_service.runner import SyncContext
from sync_service.scheduler import LeaderLock, NightlyScheduler


def _context(sync: TestClient) -> SyncContext:
    ctx: SyncContext = sync.app.state.sync  # type: ignore[attr-defined]
    return ctx


def test_a_tick_runs_each_night_the_clock_passed_once(sync: TestClient) -> None:
    ctx = _context(sync)
    scheduler = NightlyScheduler(ctx)
    try:
        scheduler.tick()  # first look: the nights before now are not owed
        assert sync.get("/api/v1/runs").json() == []
        ctx.clock.set(ctx.clock.now() + timedelta(days=2, hours=1))  # time passes (realtime)
        scheduler.tick()
        runs = sync.get("/api/v1/runs").json()
        assert [r["kind"] for r in runs] == ["nightly", "nightly"]
        assert runs[0]["cutoff"] > runs[1]["cutoff"]
        scheduler.tick()
        assert len(sync.get("/api/v1/runs").json()) == 2
        assert sync.get("/api/v1/status").json()["last_night"] == "2026-09-03"
    finally:
        scheduler.shutdown()


def test_only_one_scheduler_leads(sync: TestClient) -> None:
    ctx = _context(sync)
    first, second = LeaderLock(ctx), LeaderLock(ctx)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.try_acquire()  # still the leader
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def test_a_standby_scheduler_does_not_run(sync: TestClient) -> None:
    ctx = _context(sync)
    leader, standby = NightlyScheduler(ctx), NightlyScheduler(ctx)
    try:
        assert leader.leader.try_acquire()
        standby.tick()
        ctx.clock.set(ctx.clock.now() + timedelta(days=3))
        standby.tick()
        assert sync.get("/api/v1/runs").json() == []
        assert not standby.leader.held
    finally:
        leader.shutdown()
        standby.shutdown()
