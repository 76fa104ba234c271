"""Snapshots wait for a still clock: no save or restore while the clock runs its nights.

A restore racing the scheduler's catch-up once ran a night of the abandoned timeline at the
restored time (its cut-off in the future, the next night then skipped).
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient

from edusim_common.clock import ClockMode
from sync_service.config import SyncSettings
from sync_service.driver import catch_up
from sync_service.main import create_app
from sync_service.runner import SyncContext


def test_save_and_restore_wait_while_the_clock_runs_its_nights(
    sync_with_snapshots: TestClient, sync_admin: dict[str, str]
) -> None:
    sync = sync_with_snapshots
    ctx: SyncContext = sync.app.state.sync  # type: ignore[attr-defined]
    saved = sync.post("/api/v1/snapshots", json={"name": "jour1"}, headers=sync_admin)
    assert saved.status_code == 201, saved.text
    moved = sync.post("/api/v1/clock/next-day", headers=sync_admin).json()
    with ctx.driver_lock:  # a clock move, or the scheduler's catch-up, is running nights
        for path, body in (
            ("/api/v1/snapshots/jour1/restore", None),
            ("/api/v1/snapshots", {"name": "jour2"}),
        ):
            refused = sync.post(path, json=body, headers=sync_admin)
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert "the clock is moving" in refused.json()["detail"]
        assert sync.get("/api/v1/clock").json() == moved["clock"]  # nothing was restored
    restored = sync.post("/api/v1/snapshots/jour1/restore", headers=sync_admin)
    assert restored.status_code == 200, restored.text
    assert restored.json()["clock"]["now"] == saved.json()["simulated_now"]
    assert ClockMode(restored.json()["clock"]["mode"]) is ClockMode.manual


def test_replicas_wait_for_each_other_to_move_the_clock_or_restore(
    sync_with_snapshots: TestClient,
    sync_settings: SyncSettings,
    sync_admin: dict[str, str],
    onde: TestClient,
    educonnect: TestClient,
) -> None:
    """Another replica runs nights: this one neither restores, nor catches up, nor moves."""
    sync = sync_with_snapshots
    ctx: SyncContext = sync.app.state.sync  # type: ignore[attr-defined]
    saved = sync.post("/api/v1/snapshots", json={"name": "jour1"}, headers=sync_admin)
    assert saved.status_code == 201, saved.text
    app = create_app(sync_settings, onde_client=onde, educonnect_client=educonnect)
    answers: list[Any] = []
    moving = threading.Thread(
        target=lambda: answers.append(sync.post("/api/v1/clock/next-day", headers=sync_admin))
    )
    with TestClient(app) as replica:
        other: SyncContext = replica.app.state.sync  # type: ignore[attr-defined]
        with other.driver_lock:
            refused = sync.post("/api/v1/snapshots/jour1/restore", headers=sync_admin)
            assert refused.status_code == 409, refused.text
            assert "the clock is moving" in refused.json()["detail"]
            assert catch_up(ctx) == []  # skipped: the next tick looks again
            moving.start()
            moving.join(0.5)
            assert moving.is_alive()  # « next day » waits for the other replica
            assert answers == []
        moving.join(10)
    assert answers[0].status_code == 200, answers[0].text
    assert [run["night"] for run in answers[0].json()["runs"]] == ["2026-09-02"]


def test_a_name_the_store_refuses_is_a_422_naming_the_field(
    sync_with_snapshots: TestClient, sync_admin: dict[str, str]
) -> None:
    """``….tmp`` is the store's temporary files: refused with the body's other checks."""
    refused = sync_with_snapshots.post(
        "/api/v1/snapshots", json={"name": "jour1.tmp"}, headers=sync_admin
    )
    assert refused.status_code == 422, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == ["body.name"]
    assert sync_with_snapshots.get("/api/v1/snapshots", headers=sync_admin).json() == []
