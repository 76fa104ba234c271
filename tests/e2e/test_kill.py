"""A sync process killed mid-run (SIGKILL): the next run ends in the state a clean run gives."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.school import accounts, admit, open_school, parent_of
from tests.e2e.stack import SYNC_TOKEN, Service, Stack

pytestmark = pytest.mark.slow
FAMILIES = 24
FIRST_NAMES = [
    "Alice", "Bruno", "Chloé", "David", "Emma", "Fanny", "Gilles", "Hélène", "Inès", "Jules",
    "Karim", "Laura", "Marc", "Nadia", "Olivier", "Pauline", "Quentin", "Rose", "Samir", "Théo",
    "Ursule", "Victor", "Wassim", "Yasmine",
]  # fmt: skip


def _school_day(stack: Stack) -> None:
    """The director's day: a school, then (after the first night) 24 families."""
    director = open_school(stack)
    stack.next_day()
    for index, name in enumerate(FIRST_NAMES[:FAMILIES]):
        pupil = admit(stack, director, f"Enfant{chr(97 + index)}", "2019-02-03")
        parent_of(stack, director, pupil, prenom=name, mobile=f"06 11 22 33 {index:02d}")


def _snapshot(stack: Stack) -> list[tuple[Any, ...]]:
    return sorted(
        (
            a["identifiant"],
            a["state"],
            tuple(sorted(s["source_id"] for s in a["sources"])),
            tuple(sorted((x["child"]["prenoms"], x["status"]) for x in a["attachments"])),
        )
        for a in accounts(stack)
    )


def test_a_killed_run_is_taken_up_by_the_next(
    db_urls: Callable[[str], str], tmp_path: Path
) -> None:
    small = {"SYNC_BATCH_SIZE": "2", "SYNC_PAGE_SIZE": "6"}
    clean = Stack(lambda name: db_urls(f"clean-{name}"), tmp_path / "clean", **small)
    killed = Stack(lambda name: db_urls(f"killed-{name}"), tmp_path / "killed", **small)
    (tmp_path / "clean").mkdir()
    (tmp_path / "killed").mkdir()
    try:
        clean.start()
        _school_day(clean)
        clean.next_day()
        expected = _snapshot(clean)
        assert len(expected) == FAMILIES

        killed.start()
        _school_day(killed)
        killed.ec_call(
            "POST", "/api/v1/faults", json={"path": "^/api/v1/import", "latency_ms": 150}
        )
        night = threading.Thread(target=_night_ignoring_the_kill, args=(killed,))
        night.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not 0 < len(accounts(killed)) < FAMILIES // 2:
            time.sleep(0.05)
        killed.sync.kill()
        night.join(timeout=30)
        partial = _snapshot(killed)
        assert 0 < len(partial) < FAMILIES, "the kill must land mid-run"

        killed.ec_call("DELETE", "/api/v1/faults")
        killed.sync.start()
        runs = killed.sync_call("GET", "/api/v1/runs").json()
        assert runs[0]["status"] == "interrupted"
        killed.next_day()
        assert _snapshot(killed) == expected
        final = killed.sync_call("GET", "/api/v1/runs").json()[0]
        assert final["status"] == "succeeded"
        assert final["counts"]["created"] == FAMILIES - len(partial)
    finally:
        clean.stop()
        killed.stop()


def test_a_standby_killed_during_its_run_does_not_block_the_leader(
    db_urls: Callable[[str], str], tmp_path: Path
) -> None:
    """Two replicas of the sync on one database: the standby serves a ``respond-async`` run and
    is killed mid-run. The leader, alive all along, runs the next night (the dead run's lock is
    free: it is marked interrupted) and ends in the state of a clean run."""
    small = {"SYNC_BATCH_SIZE": "2", "SYNC_PAGE_SIZE": "6"}
    clean = Stack(lambda name: db_urls(f"clean-{name}"), tmp_path / "clean", **small)
    stack = Stack(
        lambda name: db_urls(f"two-{name}"),
        tmp_path / "two",
        SYNC_SCHEDULER_ENABLED="true",
        SYNC_TICK_SECONDS="3600",
        **small,
    )
    (tmp_path / "clean").mkdir()
    (tmp_path / "two").mkdir()
    standby = Service("standby", stack.sync.factory, dict(stack.sync.env), tmp_path / "standby.log")
    try:
        clean.start()
        _school_day(clean)
        clean.next_day()
        expected = _snapshot(clean)

        stack.start()  # its sync leads
        standby.start()
        assert httpx.get(standby.url + "/api/v1/status").json()["leader"] is False
        _school_day(stack)
        stack.ec_call("POST", "/api/v1/faults", json={"path": "^/api/v1/import", "latency_ms": 150})
        started = stack.http.post(
            standby.url + "/api/v1/runs",
            json={},
            headers={"Authorization": f"Bearer {SYNC_TOKEN}", "Prefer": "respond-async"},
        )
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not 0 < len(accounts(stack)) < FAMILIES // 2:
            time.sleep(0.05)
        standby.kill()
        partial = _snapshot(stack)
        assert 0 < len(partial) < FAMILIES, "the kill must land mid-run"
        stack.ec_call("DELETE", "/api/v1/faults")

        assert stack.sync_call("GET", f"/api/v1/runs/{run_id}").json()["status"] == "running"
        stack.next_day()  # the leader never restarted: no new lead was taken
        dead = stack.sync_call("GET", f"/api/v1/runs/{run_id}").json()
        assert (dead["status"], dead["error"]) == (
            "interrupted",
            "the sync process stopped mid-run",
        )
        assert _snapshot(stack) == expected
        final = stack.sync_call("GET", "/api/v1/runs").json()[0]
        assert (final["kind"], final["status"]) == ("nightly", "succeeded")
        assert final["counts"]["created"] == FAMILIES - len(partial)
    finally:
        standby.stop()
        clean.stop()
        stack.stop()


def _night_ignoring_the_kill(stack: Stack) -> None:
    with contextlib.suppress(httpx.TransportError):  # the process was killed under the request
        stack.sync_call("POST", "/api/v1/clock/next-day")
