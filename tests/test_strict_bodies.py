"""Request bodies are strict: a field an API does not know is refused (422, naming it), and
nothing changes. Dropped silently, a misspelt field or a read-only one (a pupil's ``state`` in a
PATCH) would answer 200 having done nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from edusim_common.problems import PROBLEM_MEDIA_TYPE
from tests.educonnect.factories import responsable
from tests.onde.test_pupils import PUPILS, create, pupil_body


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert field in [error["field"] for error in response.json()["errors"]], response.text


def test_onde_refuses_unknown_and_read_only_fields(
    onde: TestClient, director: dict[str, str]
) -> None:
    pupil = create(onde, director)
    url = f"/api/v1/pupils/{pupil['id']}"
    _refused(onde.patch(url, json={"state": "radie"}, headers=director), "body.state")
    _refused(
        onde.patch(url, json={"nom": "Durand", "prenom": "Léa"}, headers=director), "body.prenom"
    )
    _refused(onde.post(PUPILS, json=pupil_body(bogus=1), headers=director), "body.bogus")
    assert onde.get(url, headers=director).json() == pupil
    listed = onde.get("/api/v1/pupils", headers=director).json()["items"]
    assert [p["id"] for p in listed] == [pupil["id"]]


def test_educonnect_refuses_an_unknown_field_of_an_import_item(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    item = responsable("101", mobil="+33611111111")
    response = educonnect.post(
        "/api/v1/import/responsables", json={"items": [item]}, headers=ec_service
    )
    _refused(response, "body.items.0.mobil")
    assert educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"] == []


def test_the_sync_refuses_unknown_or_loosely_typed_run_options(
    sync: TestClient, sync_admin: dict[str, str]
) -> None:
    _refused(sync.post("/api/v1/runs", json={"ful": True}, headers=sync_admin), "body.ful")
    _refused(sync.post("/api/v1/runs", json={"full": "yes"}, headers=sync_admin), "body.full")
    _refused(sync.post("/api/v1/runs", json={"dry_run": 1}, headers=sync_admin), "body.dry_run")
    assert sync.get("/api/v1/runs").json() == []


def test_a_run_needs_no_body_and_its_lines_take_known_outcomes_only(
    sync: TestClient, sync_admin: dict[str, str]
) -> None:
    run = sync.post("/api/v1/runs", headers=sync_admin)  # no body: a manual run
    assert run.status_code == 200, run.text
    assert run.json()["kind"] == "manual"
    lines = f"/api/v1/runs/{run.json()['id']}/lines"
    _refused(sync.get(lines, params={"outcome": "bogus"}), "query.outcome")
    assert sync.get(lines, params={"outcome": "created"}).status_code == 200


def test_onde_refuses_a_school_filter_that_is_not_a_uai(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    """A 422 naming the filter, rather than a 403 for "school XYZ" or an empty list."""
    pupil = create(onde, director)
    for path in ("/api/v1/pupils", "/api/v1/responsables", "/api/v1/changes"):
        for headers in (director, service):
            _refused(onde.get(path, params={"school": "xyz"}, headers=headers), "query.school")
            _refused(onde.get(path, params={"school": "0021593A"}, headers=headers), "query.school")
    found = onde.get("/api/v1/pupils", params={"school": " 0021593w "}, headers=director)
    assert [p["id"] for p in found.json()["items"]] == [pupil["id"]]
