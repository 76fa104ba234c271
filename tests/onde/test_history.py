"""GET /history/responsables/{id}: the change-log entries about one responsable."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import make_school
from tests.sync.onde_steps import add_parent, admit_pupil, set_state

OTHER_UAI = "0000001B"


def history(client: TestClient, headers: dict[str, str], rid: int, **params: Any) -> Any:
    answer = client.get(f"/api/v1/history/responsables/{rid}", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_history_follows_the_responsable_their_links_and_their_children(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    lea = admit_pupil(onde, director)
    other = admit_pupil(onde, director, prenoms="Zoé", birth_date="2018-01-01")
    mother = add_parent(onde, director, lea["id"])
    add_parent(onde, director, other["id"], prenom="Paul", lien="pere")  # not hers
    changed = onde.patch(
        f"/api/v1/responsables/{mother['id']}", json={"mobile": "06 98 76 54 32"}, headers=director
    )
    assert changed.status_code == 200, changed.text
    set_state(onde, director, lea["id"], "radie")

    body = history(onde, service, mother["id"])
    assert body["school_uai"] == "0021593W"
    assert body["pupil_ids"] == [lea["id"]]
    assert body["responsable"]["mobile"] == "+33698765432"
    steps = [(i["entity"], i["op"]) for i in body["items"]]
    assert steps == [
        ("pupil", "create"),
        ("responsable", "create"),
        ("link", "create"),
        ("responsable", "update"),
        ("pupil", "state"),
    ]
    seqs = [i["seq"] for i in body["items"]]
    assert seqs == sorted(seqs)
    assert all(i["entity_id"] != str(other["id"]) or i["entity"] != "pupil" for i in body["items"])
    assert body["next_after"] is None


def test_history_pages_and_survives_deletion(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    lea = admit_pupil(onde, director)
    mother = add_parent(onde, director, lea["id"])
    first = history(onde, service, mother["id"], limit=2)
    assert len(first["items"]) == 2
    rest = history(onde, service, mother["id"], after=first["next_after"])
    assert len(first["items"]) + len(rest["items"]) == 3
    assert onde.delete(f"/api/v1/responsables/{mother['id']}", headers=director).status_code == 204
    gone = history(onde, director, mother["id"])
    assert gone["responsable"] is None
    assert [(i["entity"], i["op"]) for i in gone["items"]][-2:] == [
        ("link", "delete"),
        ("responsable", "delete"),
    ]


def test_history_is_scoped_and_answers_problems(onde: TestClient, director: dict[str, str]) -> None:
    lea = admit_pupil(onde, director)
    mother = add_parent(onde, director, lea["id"])
    stranger = make_school(onde, OTHER_UAI, name="École du Centre")
    refused = onde.get(f"/api/v1/history/responsables/{mother['id']}", headers=stranger)
    assert refused.status_code == 403
    missing = onde.get("/api/v1/history/responsables/999", headers=director)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert onde.get("/api/v1/history/responsables/0", headers=director).status_code == 422
    assert onde.get("/api/v1/history/responsables/1").status_code == 401
    assert (
        "/api/v1/history/responsables/{responsable_id}" in onde.get("/openapi.json").json()["paths"]
    )
