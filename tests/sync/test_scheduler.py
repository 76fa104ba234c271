"""The nightly scheduler: catching up nights the clock passed, and one leader per deployment."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from sync_service.config import SyncSettings
from sync_service.main import create_app
from sync_service.models import RunKind
from sync_service.runner import SyncContext, claim_run
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


def test_only_the_leader_marks_runs_left_running_as_interrupted(
    sync: TestClient,
    sync_settings: SyncSettings,
    onde: TestClient,
    educonnect: TestClient,
) -> None:
    ctx = _context(sync)
    leader = LeaderLock(ctx)  # another replica leads...
    assert leader.try_acquire()
    run_id = claim_run(ctx, RunKind.manual, ctx.clock.now(), dry_run=False)  # ...and is running
    standby_settings = sync_settings.model_copy(
        update={"scheduler_enabled": True, "tick_seconds": 3600}
    )
    try:
        for settings in (sync_settings, standby_settings):  # without and with a scheduler
            app = create_app(settings, onde_client=onde, educonnect_client=educonnect)
            with TestClient(app) as replica:
                assert replica.get(f"/api/v1/runs/{run_id}").json()["status"] == "running"
                assert replica.get("/api/v1/status").json()["leader"] is False
                if settings.scheduler_enabled:
                    replica.app.state.scheduler.tick()  # type: ignore[attr-defined]
                    assert replica.get(f"/api/v1/runs/{run_id}").json()["status"] == "running"
                    leader.release()  # the leader's process died: the standby takes over
                    replica.app.state.scheduler.tick()  # type: ignore[attr-defined]
                    assert replica.get("/api/v1/status").json()["leader"] is True
                    run = replica.get(f"/api/v1/runs/{run_id}").json()
                    assert (run["status"], run["error"]) == (
                        "interrupted",
                        "the sync process stopped mid-run",
                    )
    finally:
        leader.release()


def test_a_replica_without_scheduler_marks_orphaned_runs_when_no_leader_is_alive(
    sync: TestClient,
    sync_settings: SyncSettings,
    onde: TestClient,
    educonnect: TestClient,
) -> None:
    ctx = _context(sync)
    run_id = claim_run(ctx, RunKind.manual, ctx.clock.now(), dry_run=False)
    app = create_app(sync_settings, onde_client=onde, educonnect_client=educonnect)
    with TestClient(app) as replica:
        assert replica.get(f"/api/v1/runs/{run_id}").json()["status"] == "interrupted"
        assert replica.get("/api/v1/status").json()["leader"] is False


def test_replicas_share_the_master_clock(
    sync: TestClient,
    sync_settings: SyncSettings,
    sync_admin: dict[str, str],
    onde: TestClient,
    educonnect: TestClient,
) -> None:
    """A clock moved through one replica is the clock of the other: its API, moves and ticks."""
    app = create_app(sync_settings, onde_client=onde, educonnect_client=educonnect)
    with TestClient(app) as replica:
        moved = sync.post("/api/v1/clock/next-day", headers=sync_admin).json()["clock"]
        assert replica.get("/api/v1/clock").json() == moved
        # A move through the other replica starts from there: one more night, not the same again.
        again = replica.post("/api/v1/clock/next-day", headers=sync_admin).json()
        assert [run["night"] for run in again["runs"]] == ["2026-09-03"]
        assert sync.get("/api/v1/clock").json() == again["clock"]
        assert onde.get("/api/v1/clock").json()["now"] == again["clock"]["now"]
        # The standby's scheduler, once it leads, catches up on the time the leader had reached.
        scheduler = NightlyScheduler(_context(replica))
        try:
            scheduler.tick()
            ctx = _context(sync)
            ctx.clock.set(ctx.clock.now() + timedelta(days=2))  # the leader's time runs on
            scheduler.tick()
            nights = [run["night"] for run in sync.get("/api/v1/runs").json()]
            assert nights == ["2026-09-05", "2026-09-04", "2026-09-03", "2026-09-02"]
        finally:
            scheduler.shutdown()
