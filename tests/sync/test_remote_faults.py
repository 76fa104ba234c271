"""The sync when ONDE or EduConnect fail: retries, a clean failure, and a complete next run."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sync_service.runner import SyncContext
from tests.sync.onde_steps import add_families


def _state(educonnect: TestClient, ec_service: dict[str, str]) -> list[tuple[Any, ...]]:
    accounts = educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"]
    out = []
    for account in accounts:
        detail = educonnect.get(f"/api/v1/accounts/{account['id']}", headers=ec_service).json()
        out.append(
            (
                detail["identifiant"],
                detail["state"],
                tuple(s["source_id"] for s in detail["sources"]),
                tuple((a["child"]["prenoms"], a["status"]) for a in detail["attachments"]),
            )
        )
    return sorted(out)


def _refuse_imports(educonnect: TestClient, ec_service: dict[str, str], **rule: Any) -> None:
    """A fault rule on EduConnect's import route (``status``, ``skip``, ``count``…)."""
    added = educonnect.post(
        "/api/v1/faults", json={"path": "^/api/v1/import", **rule}, headers=ec_service
    )
    assert added.status_code == 201, added.text


def test_a_transient_onde_failure_is_retried(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    service: dict[str, str],
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    add_families(onde, director, 2)
    onde.post(
        "/api/v1/faults", json={"path": "^/api/v1/export", "status": 503, "count": 1},
        headers=service,
    )  # fmt: skip
    run = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert run["status"] == "succeeded", run
    assert run["counts"]["created"] == 2
    assert run["counts"]["retries"] == 1  # the report says the run met a fault
    page = sync.get(f"/runs/{run['id']}", headers={"Accept": "text/html"}).text
    assert "1</strong> nouvel essai après une panne passagère" in page
    assert onde.get("/api/v1/faults", headers=service).json()[0]["fired"] == 1
    clean = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert clean["counts"]["retries"] == 0


def test_educonnect_down_mid_run_fails_cleanly_then_the_next_run_completes(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    sync.post("/api/v1/runs", json={}, headers=sync_admin)  # mirror ready, nothing to send
    add_families(onde, director, 6)
    # Two batches of 50 would hold everything: make pages small so the run spans several.
    sync.app.state.sync.settings.page_size = 5  # type: ignore[attr-defined]
    _refuse_imports(educonnect, ec_service, status=503, skip=1)
    failed = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert failed["status"] == "failed"
    assert failed["counts"]["retries"] == 1  # retry_attempts is 2: one try again, then failed
    assert "EduConnect unreachable" in failed["error"]
    assert "503" in failed["error"]
    half = _state(educonnect, ec_service)
    assert 0 < len(half) < 6
    educonnect.delete("/api/v1/faults", headers=ec_service)
    done = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert done["status"] == "succeeded"
    assert done["from_cursor"] == failed["to_cursor"]
    final = _state(educonnect, ec_service)
    assert len(final) == 6
    assert all(state == "non_active" and len(sources) == 1 for _, state, sources, _ in final)
    assert all(children[0][1] == "proposed" for *_, children in final)


def test_onde_down_fails_the_run_and_says_why(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    service: dict[str, str],
) -> None:
    onde.post("/api/v1/faults", json={"path": "^/api/v1/", "status": 500}, headers=service)
    run = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert run["status"] == "failed"
    assert "ONDE unreachable" in run["error"]
    listed = sync.get("/api/v1/runs").json()
    assert listed[0]["id"] == run["id"]


def test_a_batch_refused_as_invalid_is_halved_before_the_next_batch_goes(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    sync.post("/api/v1/runs", json={}, headers=sync_admin)  # mirror ready, nothing to send
    add_families(onde, director, 3)
    sync.app.state.sync.settings.batch_size = 2  # type: ignore[attr-defined]
    # EduConnect refuses the next two calls as invalid (nothing of them applied). Sent in order,
    # these are the batch [a, b] then its first half [a]: a fails alone, b and c go through.
    # Had the next batch [c] been sent before [a, b] was halved, c would have been refused.
    _refuse_imports(educonnect, ec_service, status=422, count=2)
    run = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert run["status"] == "succeeded", run
    assert (run["counts"]["created"], run["counts"]["failed"]) == (2, 1)
    assert educonnect.get("/api/v1/faults", headers=ec_service).json()[0]["fired"] == 2
    lines = sync.get(f"/api/v1/runs/{run['id']}/lines").json()
    assert [line["outcome"] for line in lines] == ["failed", "created", "created"]
    assert "422" in lines[0]["reason"]
    # Accounts are listed by id, in the order EduConnect created them: b's call came before c's.
    accounts = educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"]
    assert [account["prenom"] for account in accounts] == ["Parentb", "Parentc"]


def test_retries_of_calls_outside_the_run_do_not_count_for_it(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page reading EduConnect while the run imports meets a fault: it is not the run's."""
    add_families(onde, director, 1)
    rule = {"path": "^/api/v1/clock$", "method": "GET", "status": 503, "count": 1}
    assert educonnect.post("/api/v1/faults", json=rule, headers=ec_service).status_code == 201
    ctx: SyncContext = sync.app.state.sync  # type: ignore[attr-defined]
    send = ctx.educonnect.post_batch

    def post_batch(body: bytes) -> bytes:
        page = threading.Thread(target=ctx.educonnect.call, args=("GET", "/api/v1/clock"))
        page.start()
        page.join()
        return send(body)

    monkeypatch.setattr(ctx.educonnect, "post_batch", post_batch)
    run = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert run["status"] == "succeeded", run
    assert educonnect.get("/api/v1/faults", headers=ec_service).json()[0]["fired"] == 1
    assert run["counts"]["retries"] == 0
