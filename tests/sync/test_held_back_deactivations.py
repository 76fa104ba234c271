"""Deactivations held back by the threshold: none is lost (deleted responsables, failed runs)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_UAI
from tests.sync.onde_steps import add_parent, admit_pupil, one_night, set_state


def _states(educonnect: TestClient, ec_service: dict[str, str]) -> dict[str, str]:
    accounts = educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"]
    return {a["prenom"]: a["state"] for a in accounts}


def _settings(sync: TestClient) -> Any:
    return sync.app.state.sync.settings  # type: ignore[attr-defined]


@pytest.mark.parametrize("held", [False, True], ids=["under-threshold", "approved"])
def test_a_responsable_deleted_in_onde_is_deactivated(
    held: bool,
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    if held:
        _settings(sync).deactivation_max_count = 0
    pupil = admit_pupil(onde, director)
    parent = add_parent(onde, director, pupil["id"])
    one_night(sync, sync_admin)
    assert _states(educonnect, ec_service) == {"Sophie": "non_active"}

    deleted = onde.delete(f"/api/v1/responsables/{parent['id']}", headers=director)
    assert deleted.status_code == 204, deleted.text
    run = one_night(sync, sync_admin)
    if held:
        assert (run["status"], run["pending_deactivations"]) == ("awaiting_approval", 1)
        assert _states(educonnect, ec_service) == {"Sophie": "non_active"}
        run = sync.post(f"/api/v1/runs/{run['id']}/approve", headers=sync_admin).json()
    assert run["status"] == "succeeded", run
    assert (run["counts"]["deactivated"], run["pending_deactivations"]) == (1, 0)
    assert _states(educonnect, ec_service) == {"Sophie": "desactive"}
    lines = sync.get(f"/api/v1/runs/{run['id']}/lines", params={"source_id": parent["id"]})
    assert "account deactivated" in lines.json()[-1]["reason"]
    assert lines.json()[-1]["school_uai"] == DEMO_UAI


@pytest.mark.parametrize("held", [False, True], ids=["under-threshold", "approved"])
def test_a_deactivation_held_back_by_a_run_that_failed_is_not_lost(
    held: bool,
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    if held:
        _settings(sync).deactivation_max_count = 0
    first = admit_pupil(onde, director)
    add_parent(onde, director, first["id"])
    one_night(sync, sync_admin)
    # The first page of the next night holds Sophie's deactivation back; a later page fails.
    set_state(onde, director, first["id"], "radie")
    for index in range(4):
        pupil = admit_pupil(onde, director, prenoms=f"Enfant{'abcd'[index]}")
        add_parent(onde, director, pupil["id"], prenom=f"Parent{'abcd'[index]}",
                   mobile=f"06 12 34 56 {index:02d}")  # fmt: skip
    _settings(sync).page_size = 5
    educonnect.post(
        "/api/v1/faults",
        json={"path": "^/api/v1/import", "status": 503, "skip": 1},
        headers=ec_service,
    )
    failed = one_night(sync, sync_admin)
    assert failed["status"] == "failed", failed
    assert failed["counts"]["links_removed"] == 1
    assert failed["pending_deactivations"] == 1
    assert _states(educonnect, ec_service)["Sophie"] == "non_active"

    educonnect.delete("/api/v1/faults", headers=ec_service)
    run = one_night(sync, sync_admin)
    assert run["from_cursor"] == failed["to_cursor"] > failed["from_cursor"]
    if held:
        assert (run["status"], run["pending_deactivations"]) == ("awaiting_approval", 1)
        assert _states(educonnect, ec_service)["Sophie"] == "non_active"
        run = sync.post(f"/api/v1/runs/{run['id']}/approve", headers=sync_admin).json()
    assert run["status"] == "succeeded", run
    assert (run["counts"]["deactivated"], run["pending_deactivations"]) == (1, 0)
    states = _states(educonnect, ec_service)
    assert states.pop("Sophie") == "desactive"
    assert sorted(states.values()) == ["non_active"] * 4
    # Applied once: a later night has nothing pending any more.
    later = one_night(sync, sync_admin)
    assert (later["status"], later["pending_deactivations"]) == ("succeeded", 0)


@pytest.mark.parametrize("held", [False, True], ids=["under-threshold", "approved"])
def test_a_deactivated_responsable_is_one_line_and_counted_once(
    held: bool,
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
) -> None:
    """Held back, then applied: one answer in the report, with what both passes said."""
    if held:
        _settings(sync).deactivation_max_count = 0
    pupil = admit_pupil(onde, director)
    parent = add_parent(onde, director, pupil["id"])
    one_night(sync, sync_admin)
    set_state(onde, director, pupil["id"], "radie")
    run = one_night(sync, sync_admin)
    if held:
        run = sync.post(f"/api/v1/runs/{run['id']}/approve", headers=sync_admin).json()
    counts = run["counts"]
    assert (counts["responsables_sent"], counts["updated"], counts["deactivated"]) == (1, 1, 1)
    assert (counts["unchanged"], counts["links_removed"]) == (0, 1)
    lines = sync.get(f"/api/v1/runs/{run['id']}/lines").json()
    assert [line["source_id"] for line in lines] == [str(parent["id"])]
    reason = lines[0]["reason"]
    assert "1 link(s) removed" in reason
    assert "account deactivated" in reason
    assert "held back" not in reason
    assert "no EduConnect account" not in reason  # the account exists: it loses its child
