"""The nightly scheduler: catching up nights the clock passed, and one leader per deployment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from sync_service.config import SyncSettings
from sync_service.locks import RunLock
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


def _live_run_elsewhere(ctx: SyncContext) -> tuple[RunLock, int]:
    """A run claimed by another process of the deployment, alive: it holds the run lock."""
    elsewhere = RunLock(ctx.engine)  # another process's lock (its own file handle or session)
    assert elsewhere.acquire(blocking=False)
    return elsewhere, claim_run(ctx, RunKind.manual, ctx.clock.now(), dry_run=False)


def test_a_live_run_is_left_alone_and_marked_interrupted_once_its_process_is_gone(
    sync: TestClient,
    sync_settings: SyncSettings,
    sync_admin: dict[str, str],
    onde: TestClient,
    educonnect: TestClient,
) -> None:
    """Whichever replica carries a run out (the leader, or a standby serving ``respond-async``),
    no other marks it while its process lives; once it is gone, the run no longer blocks."""
    ctx = _context(sync)
    leader = LeaderLock(ctx)  # another replica leads...
    assert leader.try_acquire()
    elsewhere, run_id = _live_run_elsewhere(ctx)  # ...and a replica is running a run
    gone = False
    standby_settings = sync_settings.model_copy(
        update={"scheduler_enabled": True, "tick_seconds": 3600}
    )
    try:
        for settings in (sync_settings, standby_settings):  # without and with a scheduler
            app = create_app(settings, onde_client=onde, educonnect_client=educonnect)
            with TestClient(app) as replica:
                assert replica.get(f"/api/v1/runs/{run_id}").json()["status"] == "running"
                assert replica.get("/api/v1/status").json()["leader"] is False
                refused = replica.post("/api/v1/runs", json={}, headers=sync_admin)
                assert refused.status_code == 409, refused.text
                assert f"run {run_id} is still running" in refused.json()["detail"]
                moved = replica.post("/api/v1/clock/next-day", headers=sync_admin)
                assert moved.status_code == 409, moved.text
                assert moved.json()["extra"] == {"run_id": run_id}
                if settings.scheduler_enabled:
                    scheduler = replica.app.state.scheduler  # type: ignore[attr-defined]
                    scheduler.tick()
                    assert replica.get(f"/api/v1/runs/{run_id}").json()["status"] == "running"
                    leader.release()  # the leader's process died: the standby takes over...
                    scheduler.tick()
                    assert replica.get("/api/v1/status").json()["leader"] is True
                    # ...and leaves the run alone: its own process is still alive.
                    assert replica.get(f"/api/v1/runs/{run_id}").json()["status"] == "running"
                    elsewhere.release()  # now that process dies too
                    gone = True
                    scheduler.tick()
                    run = replica.get(f"/api/v1/runs/{run_id}").json()
                    assert (run["status"], run["error"]) == (
                        "interrupted",
                        "the sync process stopped mid-run",
                    )
    finally:
        leader.release()
        if not gone:
            elsewhere.release()


@pytest.mark.parametrize("how", ["run", "clock move", "snapshot"])
def test_a_run_whose_process_died_does_not_block_the_deployment(
    how: str,
    sync_with_snapshots: TestClient,
    sync_admin: dict[str, str],
) -> None:
    """A leader alive all along (no new lead to take): the next run, clock move or snapshot
    finds the dead run's lock free, marks the run interrupted and goes on."""
    sync = sync_with_snapshots
    ctx = _context(sync)
    elsewhere, run_id = _live_run_elsewhere(ctx)
    elsewhere.release()  # the replica that ran it died
    if how == "run":
        answer = sync.post("/api/v1/runs", json={}, headers=sync_admin)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "succeeded"
    elif how == "clock move":
        answer = sync.post("/api/v1/clock/next-day", headers=sync_admin)
        assert answer.status_code == 200, answer.text
        assert [run["status"] for run in answer.json()["runs"]] == ["succeeded"]
    else:
        answer = sync.post("/api/v1/snapshots", json={"name": "apres"}, headers=sync_admin)
        assert answer.status_code == 201, answer.text
    run = sync.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]) == ("interrupted", "the sync process stopped mid-run")


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
