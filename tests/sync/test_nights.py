"""Each night runs once, whichever path gets there first (scheduler or clock move)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sync_service.contract import ChangePage
from sync_service.locks import DriverLock, RunLock
from sync_service.runner import SyncContext
from sync_service.scheduler import NightlyScheduler


def _context(sync: TestClient) -> SyncContext:
    ctx: SyncContext = sync.app.state.sync  # type: ignore[attr-defined]
    return ctx


def _nights(sync: TestClient) -> list[str]:
    """The night of every run, oldest first."""
    return [run["night"] for run in reversed(sync.get("/api/v1/runs").json())]


@pytest.fixture
def scheduler(sync: TestClient) -> Iterator[NightlyScheduler]:
    """A scheduler that has had its first look at the clock (2026-09-01 08:00 Paris)."""
    ticking = NightlyScheduler(_context(sync))
    ticking.tick()
    yield ticking
    ticking.shutdown()


class _AnnouncedLock:
    """A lock that says when someone starts waiting for it."""

    def __init__(self, lock: DriverLock, waiting: threading.Event) -> None:
        self.lock = lock
        self.waiting = waiting

    def acquire(self, blocking: bool = True) -> bool:
        if blocking:
            self.waiting.set()
        return self.lock.acquire(blocking)

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def test_a_clock_move_skips_a_night_the_scheduler_ran_meanwhile(
    sync: TestClient, sync_admin: dict[str, str], scheduler: NightlyScheduler
) -> None:
    ctx = _context(sync)
    start = ctx.clock.now()
    # The scheduler sees the night of 2 September passed (realtime) and runs it...
    ctx.clock.set(start + timedelta(days=1))
    scheduler.tick()
    assert _nights(sync) == ["2026-09-02"]
    # ...while a clock move had read the time before that night (another replica's request).
    ctx.clock.set(start)
    moved = sync.post("/api/v1/clock/advance", json={"seconds": 2 * 86400}, headers=sync_admin)
    assert moved.status_code == 200, moved.text
    assert [run["night"] for run in moved.json()["runs"]] == ["2026-09-03"]
    assert _nights(sync) == ["2026-09-02", "2026-09-03"]
    scheduler.tick()
    assert _nights(sync) == ["2026-09-02", "2026-09-03"]
    assert sync.get("/api/v1/status").json()["last_night"] == "2026-09-03"


def test_next_day_during_a_scheduler_run_waits_for_it_instead_of_409(
    sync: TestClient,
    sync_admin: dict[str, str],
    scheduler: NightlyScheduler,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = _context(sync)
    ctx.clock.set(ctx.clock.now() + timedelta(hours=20))  # 2 September, 04:00: the night passed
    inside, release = threading.Event(), threading.Event()
    read_changes = ctx.onde.changes

    def held_changes(*args: Any, **kwargs: Any) -> ChangePage:
        inside.set()
        assert release.wait(10)
        return read_changes(*args, **kwargs)

    monkeypatch.setattr(ctx.onde, "changes", held_changes)
    ticking = threading.Thread(target=scheduler.tick)
    ticking.start()
    answers: list[Any] = []
    moving = threading.Thread(
        target=lambda: answers.append(sync.post("/api/v1/clock/next-day", headers=sync_admin))
    )
    try:
        assert inside.wait(10), "the scheduler's run of 2 September has started"
        monkeypatch.setattr(ctx.onde, "changes", read_changes)
        waiting = threading.Event()
        monkeypatch.setattr(ctx, "driver_lock", _AnnouncedLock(ctx.driver_lock, waiting))
        moving.start()
        assert waiting.wait(10), "« next day » waits for the scheduler's run"
    finally:
        release.set()
        ticking.join()
        if moving.is_alive() or answers:
            moving.join()
    assert answers[0].status_code == 200, answers[0].text
    assert [run["night"] for run in answers[0].json()["runs"]] == ["2026-09-03"]
    assert _nights(sync) == ["2026-09-02", "2026-09-03"]
    assert all(run["status"] == "succeeded" for run in sync.get("/api/v1/runs").json())


def test_going_back_in_time_makes_the_nights_after_it_run_again(
    sync: TestClient, sync_admin: dict[str, str]
) -> None:
    sync.post("/api/v1/clock/advance", json={"seconds": 3 * 86400}, headers=sync_admin)
    assert _nights(sync) == ["2026-09-02", "2026-09-03", "2026-09-04"]
    back = sync.put("/api/v1/clock", json={"now": "2026-09-02T12:00:00+02:00"}, headers=sync_admin)
    assert (back.status_code, back.json()["runs"]) == (200, [])
    assert sync.get("/api/v1/status").json()["last_night"] == "2026-09-02"
    again = sync.post("/api/v1/clock/next-day", headers=sync_admin)
    assert [run["night"] for run in again.json()["runs"]] == ["2026-09-03"]
    runs = sync.get("/api/v1/runs").json()
    assert len(runs) == 4
    # The runs of the abandoned timeline keep their report, no longer their night.
    assert [run["night"] for run in reversed(runs)] == ["2026-09-02", None, None, "2026-09-03"]


def test_a_night_another_process_keeps_from_running_is_not_passed_over(
    sync: TestClient, sync_admin: dict[str, str]
) -> None:
    """Another replica holds the run lock (an approval, or a run claimed after this move looked):
    the move is refused before the clock reaches the night, so the next move runs that night
    instead of jumping over it."""
    ctx = _context(sync)
    before = sync.get("/api/v1/clock").json()
    elsewhere = RunLock(ctx.engine)
    assert elsewhere.acquire(blocking=False)
    try:
        refused = sync.post("/api/v1/clock/next-day", headers=sync_admin)
        assert refused.status_code == 409, refused.text
        assert sync.get("/api/v1/clock").json() == before  # not left on the night's instant
    finally:
        elsewhere.release()
    moved = sync.post("/api/v1/clock/next-day", headers=sync_admin)
    assert moved.status_code == 200, moved.text
    assert [run["night"] for run in moved.json()["runs"]] == ["2026-09-02"]
    assert _nights(sync) == ["2026-09-02"]
