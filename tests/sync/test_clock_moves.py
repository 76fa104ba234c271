"""Moves of the sync's master clock are bounded: refused as problems, never a 500 or a half-move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sync_service.config import SyncSettings
from sync_service.driver import push_clock
from sync_service.runner import SyncContext


def _context(sync: TestClient) -> SyncContext:
    ctx: SyncContext = sync.app.state.sync  # type: ignore[attr-defined]
    return ctx


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid-input"
    assert [error["field"] for error in problem["errors"]] == [field]


def _near_the_end(sync: TestClient) -> None:
    """The last day of the range, 12:00 UTC, on the three clocks (nothing runs)."""
    ctx = _context(sync)
    ctx.clock.set(datetime(2999, 12, 31, 12, 0, tzinfo=UTC))
    push_clock(ctx)


def _unmoved(sync: TestClient, onde: TestClient, before: dict[str, Any]) -> None:
    assert sync.get("/api/v1/clock").json() == before
    assert onde.get("/api/v1/clock").json()["now"] == before["now"]
    assert sync.get("/api/v1/runs").json() == []


def test_a_move_crossing_more_nights_than_allowed_is_refused(
    sync: TestClient, sync_admin: dict[str, str], onde: TestClient
) -> None:
    assert SyncSettings().max_nights_per_move == 366
    before = sync.get("/api/v1/clock").json()
    far = sync.put(
        "/api/v1/clock", json={"now": "2999-01-01T00:00:00Z", "mode": "realtime"},
        headers=sync_admin,
    )  # fmt: skip
    _refused(far, "body.now")
    assert "SYNC_MAX_NIGHTS_PER_MOVE" in far.json()["detail"]
    year = sync.post("/api/v1/clock/advance", json={"seconds": 367 * 86400}, headers=sync_admin)
    _refused(year, "body.seconds")
    _unmoved(sync, onde, before)  # the mode did not switch either

    _context(sync).settings.max_nights_per_move = 2
    _refused(
        sync.post("/api/v1/clock/advance", json={"seconds": 3 * 86400}, headers=sync_admin),
        "body.seconds",
    )
    _refused(
        sync.put("/api/v1/clock", json={"now": "2026-09-04T03:00:00+02:00"}, headers=sync_admin),
        "body.now",
    )
    _unmoved(sync, onde, before)
    two = sync.put("/api/v1/clock", json={"now": "2026-09-03T03:00:00+02:00"}, headers=sync_admin)
    assert two.status_code == 200, two.text
    assert [run["night"] for run in two.json()["runs"]] == ["2026-09-02", "2026-09-03"]
    # Going back is not a move through nights: any distance within the range is fine.
    back = sync.put("/api/v1/clock", json={"now": "1900-01-01T00:00:00Z"}, headers=sync_admin)
    assert (back.status_code, back.json()["runs"]) == (200, [])


@pytest.mark.parametrize(
    "now",
    [
        "3000-01-01T00:00:00Z",
        "2999-12-31T23:59:59-23:59",  # year 2999 here, already 3000 in UTC
        "9999-12-31T23:59:59-23:59",  # would overflow if converted to UTC first
        "0001-01-01T00:00:00+23:59",
        "1899-12-31T23:59:59Z",
        "1790000000",  # a number is not a date (it was read as seconds since 1970)
    ],
)
def test_a_time_out_of_range_is_refused(
    sync: TestClient, sync_admin: dict[str, str], onde: TestClient, now: str
) -> None:
    _near_the_end(sync)  # so that only the range can refuse these, not the number of nights
    before = sync.get("/api/v1/clock").json()
    _refused(sync.put("/api/v1/clock", json={"now": now}, headers=sync_admin), "body.now")
    _unmoved(sync, onde, before)


def test_no_move_past_the_end_of_the_range(
    sync: TestClient, sync_admin: dict[str, str], onde: TestClient
) -> None:
    _near_the_end(sync)
    before = sync.get("/api/v1/clock").json()
    _refused(
        sync.post("/api/v1/clock/advance", json={"seconds": 86400}, headers=sync_admin),
        "body.seconds",
    )
    _refused(sync.post("/api/v1/clock/next-day", headers=sync_admin), "clock")
    assert sync.get("/api/v1/clock").json() == before
    assert sync.get("/api/v1/runs").json() == []
    late = sync.put("/api/v1/clock", json={"now": "2999-12-31T23:59:59Z"}, headers=sync_admin)
    assert late.status_code == 200, late.text
    assert onde.get("/api/v1/clock").json()["now"] == "2999-12-31T23:59:59Z"


def test_a_realtime_clock_set_to_the_last_instant_is_pushed_as_set(
    sync: TestClient, sync_admin: dict[str, str], onde: TestClient, educonnect: TestClient
) -> None:
    """Found by the fuzzer: the sync read its realtime clock again to push it, by then in 3000.

    ONDE refused it, and the move answered 503 with the sync's clock moved and the fakes' not.
    """
    _near_the_end(sync)
    last = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    body = {"now": last.isoformat(), "mode": "realtime"}
    moved = sync.put("/api/v1/clock", json=body, headers=sync_admin)
    assert moved.status_code == 200, moved.text
    for fake in (onde, educonnect):  # each runs on from the time set, up to the end of the range
        clock = fake.get("/api/v1/clock").json()
        assert clock["mode"] == "realtime", clock
        assert last <= datetime.fromisoformat(clock["now"]) < last + timedelta(minutes=1), clock


def test_the_first_night_of_the_range_runs(sync: TestClient, sync_admin: dict[str, str]) -> None:
    """Its cut-off, the end of 31 December 1899 in Paris (then UTC+00:09:21), is before the
    range ONDE's change log accepts: there can be no change so early, so none is asked for."""
    moved = sync.put("/api/v1/clock", json={"now": "1900-01-01T00:00:00Z"}, headers=sync_admin)
    assert moved.status_code == 200, moved.text
    night = sync.post("/api/v1/clock/next-day", headers=sync_admin)
    assert night.status_code == 200, night.text
    runs = {run["night"]: run for run in sync.get("/api/v1/runs").json()}
    assert {night: run["status"] for night, run in runs.items()} == {
        "1900-01-01": "succeeded",
        "1900-01-02": "succeeded",
    }
    assert runs["1900-01-01"]["cutoff"] == "1899-12-31T23:50:38.999999Z"
