"""Each run first copies ONDE's schools to EduConnect's directory (their names on its pages)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sync_service import runner
from tests.conftest import DEMO_UAI, make_school
from tests.sync.onde_steps import add_families, one_night

OTHER_UAI = "0000001B"


def _directory(educonnect: TestClient, ec_service: dict[str, str]) -> list[tuple[str, ...]]:
    answer = educonnect.get("/api/v1/schools", headers=ec_service)
    assert answer.status_code == 200, answer.text
    return [(s["uai"], s["name"], s["commune"]) for s in answer.json()["items"]]


def _fault(educonnect: TestClient, ec_service: dict[str, str], **rule: Any) -> None:
    rule = {"path": "^/api/v1/schools$", "method": "PUT", "status": 503} | rule
    added = educonnect.post("/api/v1/faults", json=rule, headers=ec_service)
    assert added.status_code == 201, added.text


def test_a_run_sends_onde_s_schools_page_by_page(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_school(onde, OTHER_UAI, name="École maternelle Louise Michel", commune="Roubaix")
    add_families(onde, director, 1)
    assert _directory(educonnect, ec_service) == []
    monkeypatch.setattr(runner, "SCHOOL_PAGE", 1)  # one school a page: the pages are followed
    run = one_night(sync, sync_admin)
    assert run["status"] == "succeeded", run
    assert run["counts"]["created"] == 1
    assert _directory(educonnect, ec_service) == [
        (OTHER_UAI, "École maternelle Louise Michel", "Roubaix"),
        (DEMO_UAI, "École Jean Jaurès", "Lille"),
    ]
    # The next runs (a delta, a full one) send them again: nothing changes.
    for body in ({}, {"full": True}):
        again = sync.post("/api/v1/runs", json=body, headers=sync_admin).json()
        assert again["status"] == "succeeded", again
    assert len(_directory(educonnect, ec_service)) == 2


def test_a_dry_run_leaves_the_directory_alone(
    sync: TestClient,
    sync_admin: dict[str, str],
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    run = sync.post("/api/v1/runs", json={"full": True, "dry_run": True}, headers=sync_admin)
    assert run.json()["status"] == "succeeded", run.text
    assert _directory(educonnect, ec_service) == []


def test_a_fault_on_the_directory_is_retried_and_counted(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    add_families(onde, director, 1)
    _fault(educonnect, ec_service, count=1)
    run = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert run["status"] == "succeeded", run
    assert run["counts"]["retries"] == 1
    assert run["counts"]["created"] == 1
    assert _directory(educonnect, ec_service) == [(DEMO_UAI, "École Jean Jaurès", "Lille")]


def test_educonnect_refusing_the_directory_fails_the_run_cleanly(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    add_families(onde, director, 1)
    _fault(educonnect, ec_service)
    failed = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert failed["status"] == "failed"
    assert failed["counts"]["retries"] == 1  # retry_attempts is 2: one try again, then failed
    assert (
        "EduConnect unreachable for PUT /api/v1/schools after 2 tries: HTTP 503"
        in (failed["error"])
    )
    assert failed["counts"]["responsables_sent"] == 0  # nothing sent before the schools
    assert educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"] == []
    educonnect.delete("/api/v1/faults", headers=ec_service)
    done = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert done["status"] == "succeeded", done
    assert done["counts"]["created"] == 1
    assert _directory(educonnect, ec_service) == [(DEMO_UAI, "École Jean Jaurès", "Lille")]


def test_onde_failing_to_list_its_schools_fails_the_run_and_says_why(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    service: dict[str, str],
    director: dict[str, str],
) -> None:
    rule = {"path": "^/api/v1/schools$", "method": "GET", "status": 500}
    assert onde.post("/api/v1/faults", json=rule, headers=service).status_code == 201
    failed = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert failed["status"] == "failed"
    assert "ONDE unreachable for GET /api/v1/schools" in failed["error"]
