"""``POST /runs`` with ``Prefer: respond-async``: a 202 at once, the run going on in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NamedTuple

import pytest
from fastapi.testclient import TestClient

from sync_service import driver
from sync_service.runner import SyncContext, mark_interrupted
from tests.sync.onde_steps import add_families

ASYNC = {"Prefer": "respond-async"}
HTML = {"accept": "text/html"}


def _context(sync: TestClient) -> SyncContext:
    ctx: SyncContext = sync.app.state.sync  # type: ignore[attr-defined]
    return ctx


def _ended(sync: TestClient, admin: dict[str, str], location: str) -> dict[str, Any]:
    """The run at ``location`` once it is no longer running (the background thread joined)."""
    thread = _context(sync).background
    if thread is not None:
        thread.join(timeout=60)
        assert not thread.is_alive(), "the background run did not end"
    run: dict[str, Any] = sync.get(location, headers=admin).json()
    assert run["status"] != "running", run
    return run


class Held(NamedTuple):
    """EduConnect's import held: ``entered`` once a call waits, ``release`` lets them through."""

    release: threading.Event
    entered: threading.Event


def _held_call(
    sync: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    remote: str,
    call: str,
    when: Callable[..., bool] = lambda *_: True,
) -> Held:
    """The sync's ``call`` to ``remote`` (``onde`` or ``educonnect``) waits for ``release``
    (only the calls whose arguments ``when`` accepts)."""
    api = getattr(_context(sync), remote)
    held = Held(threading.Event(), threading.Event())
    real = getattr(api, call)

    def waiting(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            held.entered.set()
            assert held.release.wait(timeout=60), f"the test never released {remote}'s {call}"
        return real(*args, **kwargs)

    monkeypatch.setattr(api, call, waiting)
    return held


def _held_import(sync: TestClient, monkeypatch: pytest.MonkeyPatch) -> Held:
    """EduConnect's import waits for ``release``: the run stays in progress until then (every
    import call goes through ``post_batch``: deltas, full runs)."""
    return _held_call(sync, monkeypatch, "educonnect", "post_batch")


def test_respond_async_answers_202_then_the_run_ends_as_a_waited_one(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_families(onde, director, 2)
    release = _held_import(sync, monkeypatch).release
    answer = sync.post("/api/v1/runs", headers=sync_admin | ASYNC)
    assert answer.status_code == 202, answer.text
    assert answer.headers["Preference-Applied"] == "respond-async"
    claimed = answer.json()
    assert answer.headers["Location"] == f"/api/v1/runs/{claimed['id']}"
    assert (claimed["status"], claimed["kind"], claimed["finished_at"]) == (
        "running",
        "manual",
        None,
    )
    # Still running while EduConnect has not answered: GET says so, a second run is refused.
    assert sync.get(answer.headers["Location"], headers=sync_admin).json()["status"] == "running"
    for extra in ({}, ASYNC):
        refused = sync.post("/api/v1/runs", json={"full": True}, headers=sync_admin | extra)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "runs never overlap" in refused.json()["detail"]
    release.set()
    run = _ended(sync, sync_admin, answer.headers["Location"])
    assert run["status"] == "succeeded", run
    assert run["counts"]["created"] == 2
    accounts = educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"]
    assert len(accounts) == 2
    # The lock is free again: the next run (waited for) goes through.
    after = sync.post("/api/v1/runs", json={}, headers=sync_admin)
    assert after.status_code == 200, after.text
    assert after.json()["counts"]["created"] == 0


@pytest.mark.parametrize(
    ("prefer", "status"),
    [
        ("wait=10, Respond-Async", 202),
        ("respond-async; foo=bar", 202),
        ("return=minimal", 200),
        ("respond-asynchronously", 200),
    ],
)
def test_only_the_respond_async_preference_answers_early(
    sync: TestClient, sync_admin: dict[str, str], prefer: str, status: int
) -> None:
    answer = sync.post(
        "/api/v1/runs", json={"dry_run": True}, headers=sync_admin | {"Prefer": prefer}
    )
    assert answer.status_code == status, answer.text
    if status == 202:
        assert _ended(sync, sync_admin, answer.headers["Location"])["status"] == "succeeded"
    else:
        assert "Preference-Applied" not in answer.headers
        assert answer.json()["status"] == "succeeded"


def test_a_failing_background_run_fails_cleanly_and_frees_the_lock(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    add_families(onde, director, 1)
    rule = {"path": "^/api/v1/import", "method": "POST", "status": 503}
    assert educonnect.post("/api/v1/faults", json=rule, headers=ec_service).status_code == 201
    answer = sync.post("/api/v1/runs", headers=sync_admin | ASYNC)
    assert answer.status_code == 202, answer.text
    run = _ended(sync, sync_admin, answer.headers["Location"])
    assert run["status"] == "failed", run
    assert "503" in run["error"]
    assert educonnect.delete("/api/v1/faults", headers=ec_service).status_code in (200, 204)
    again = sync.post("/api/v1/runs", json={}, headers=sync_admin)
    assert again.status_code == 200, again.text
    assert again.json()["counts"]["created"] == 1


def test_prefer_may_come_on_several_header_lines(
    sync: TestClient, sync_admin: dict[str, str]
) -> None:
    headers = [*sync_admin.items(), ("Prefer", "return=minimal"), ("Prefer", "respond-async")]
    answer = sync.post("/api/v1/runs", json={"dry_run": True}, headers=headers)
    assert answer.status_code == 202, answer.text
    assert _ended(sync, sync_admin, answer.headers["Location"])["status"] == "succeeded"


def test_a_clock_move_across_a_night_waits_for_no_run_it_is_refused(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: the move set the clock, then its night waited for the run in progress (minutes
    # at scale), and the manual run went on writing at the next night's time.
    add_families(onde, director, 1)
    release = _held_import(sync, monkeypatch).release
    before = sync.get("/api/v1/clock").json()["now"]
    answer = sync.post("/api/v1/runs", headers=sync_admin | ASYNC)
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["id"]
    for path, body in (
        ("/api/v1/clock/next-day", None),
        ("/api/v1/clock/advance", {"seconds": 2 * 86400}),
        ("/api/v1/clock", {"now": "2026-09-03T08:00:00+02:00"}),
    ):
        method = sync.put if path == "/api/v1/clock" else sync.post
        refused = method(path, json=body, headers=sync_admin)
        assert refused.status_code == 409, (path, refused.text)
        problem = refused.json()
        assert problem["code"] == "run-in-progress"
        assert problem["extra"] == {"run_id": run_id}
        assert f"GET /api/v1/runs/{run_id}" in problem["detail"]
    page = sync.post("/sim/next-day", data={"next": "/"}, headers=HTML)
    assert f"la synchronisation n° {run_id} est en cours" in page.text
    assert sync.get("/api/v1/clock").json()["now"] == before
    release.set()
    assert _ended(sync, sync_admin, answer.headers["Location"])["status"] == "succeeded"
    moved = sync.post("/api/v1/clock/next-day", headers=sync_admin)
    assert moved.status_code == 200, moved.text
    assert [run["kind"] for run in moved.json()["runs"]] == ["nightly"]


def test_the_catch_up_postpones_its_night_while_a_manual_run_goes_on(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # It used to wait for the manual run while holding the clock's driver: every move waited
    # behind it (a night run by the catch-up itself is waited for: see test_nights).
    ctx = _context(sync)
    driver.catch_up(ctx)
    add_families(onde, director, 1)
    held = _held_import(sync, monkeypatch)
    ctx.clock.set(ctx.clock.now() + timedelta(days=1))
    answer = sync.post("/api/v1/runs", headers=sync_admin | ASYNC)
    assert answer.status_code == 202, answer.text
    assert held.entered.wait(timeout=30)
    assert driver.catch_up(ctx) == []  # postponed to the next tick, not waiting
    refused = sync.post("/api/v1/clock/next-day", headers=sync_admin)
    assert refused.status_code == 409, refused.text
    held.release.set()
    assert _ended(sync, sync_admin, answer.headers["Location"])["status"] == "succeeded"
    (night,) = driver.catch_up(ctx)  # the next tick runs the night
    assert (night.kind, night.status) == ("nightly", "succeeded")


@pytest.mark.parametrize(
    ("remote", "call", "full"),
    [
        ("educonnect", "post_batch", False),
        ("educonnect", "put_schools", False),
        ("onde", "changes", False),
        ("educonnect", "post_batch", True),
        ("onde", "export", True),
    ],
)
def test_the_clock_moves_while_a_run_waits_for_a_remote_service(
    remote: str,
    call: str,
    full: bool,
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run, delta or full, waits for ONDE and EduConnect with no transaction open: a clock
    move that crosses no night goes through at once (it used to wait for their latency and
    retries behind the run's write lock, and on SQLite fail after 30 s), and the page is
    recorded after."""
    sync.post("/api/v1/clock/next-day", headers=sync_admin)  # the first, full, run
    add_families(onde, director, 1)
    held = _held_call(sync, monkeypatch, remote, call)
    answer = sync.post("/api/v1/runs", json={"full": full}, headers=sync_admin | ASYNC)
    assert answer.status_code == 202, answer.text
    assert held.entered.wait(timeout=10)
    moves: list[Any] = []
    mover = threading.Thread(
        target=lambda: moves.append(
            sync.post("/api/v1/clock/advance", json={"seconds": 60}, headers=sync_admin)
        )
    )
    mover.start()
    mover.join(timeout=5)
    try:
        assert not mover.is_alive(), f"the clock move waited for {remote}"
        assert moves[0].status_code == 200, moves[0].text
        assert sync.get(answer.headers["Location"], headers=sync_admin).json()["status"] == (
            "running"
        )
    finally:
        held.release.set()
        mover.join(timeout=30)
    run = _ended(sync, sync_admin, answer.headers["Location"])
    assert run["status"] == "succeeded", run
    assert (run["counts"]["changes_read"] > 0, run["counts"]["created"]) == (True, 1)
    lines = sync.get(f"{answer.headers['Location']}/lines", headers=sync_admin).json()
    assert [line["outcome"] for line in lines] == ["created"]
    again = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert again["counts"]["changes_read"] == 0  # the page and its cursor were committed


def test_the_clock_moves_while_a_full_run_waits_for_its_first_page_of_pupils(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pupils' export starts once the first page of responsables is stored: that page is
    committed before the pupils are waited for (it was not, found by review)."""
    add_families(onde, director, 2)
    held = _held_call(
        sync, monkeypatch, "onde", "export", when=lambda entity, *_: entity == "pupils"
    )
    answer = sync.post("/api/v1/runs", json={"full": True}, headers=sync_admin | ASYNC)
    assert answer.status_code == 202, answer.text
    assert held.entered.wait(timeout=10)
    try:
        moved = sync.post("/api/v1/clock/advance", json={"seconds": 60}, headers=sync_admin)
        assert moved.status_code == 200, moved.text
    finally:
        held.release.set()
    run = _ended(sync, sync_admin, answer.headers["Location"])
    assert (run["status"], run["counts"]["created"]) == ("succeeded", 2), run


def test_a_run_marked_ended_by_another_process_commits_nothing_more(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its run lock lost (on PostgreSQL, its lock's session ended), a run is marked interrupted by
    another process meanwhile: it neither commits its page nor ends as succeeded over the mark;
    the next run takes the page up."""
    sync.post("/api/v1/clock/next-day", headers=sync_admin)
    cursor = sync.get("/api/v1/status").json()["cursor"]
    add_families(onde, director, 1)
    held = _held_import(sync, monkeypatch)
    answer = sync.post("/api/v1/runs", headers=sync_admin | ASYNC)
    assert held.entered.wait(timeout=10)
    assert mark_interrupted(_context(sync).engine) == 1  # what another process would now do
    held.release.set()
    run = _ended(sync, sync_admin, answer.headers["Location"])
    assert run["status"] == "failed", run
    assert "its run lock was lost" in run["error"]
    assert sync.get("/api/v1/status").json()["cursor"] == cursor  # the page was not committed
    again = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert (again["status"], again["counts"]["changes_read"] > 0) == ("succeeded", True)
