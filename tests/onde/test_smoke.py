"""A first walk through the fake ONDE: school, class, pupil, responsable, link, change log."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_register_admit_link_and_read_the_change_log(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    pupil = onde.post(
        "/api/v1/schools/0021593W/pupils",
        json={
            "nom": "Martin",
            "prenoms": "Léa",
            "sex": "F",
            "birth_date": "2019-02-03",
            "birth_place": "59350",
            "level": "CP",
        },
        headers=director,
    )
    assert pupil.status_code == 201, pupil.text
    pupil_id = pupil.json()["id"]
    admitted = onde.post(
        f"/api/v1/pupils/{pupil_id}/state", json={"state": "admis"}, headers=director
    )
    assert admitted.json()["enrolled"] is True
    parent = onde.post(
        "/api/v1/schools/0021593W/responsables",
        json={"civility": "MME", "nom": "Martin", "prenom": "Sophie", "mobile": "06 12 34 56 78"},
        headers=director,
    )
    assert parent.json()["mobile"] == "+33612345678"
    link = onde.post(
        f"/api/v1/pupils/{pupil_id}/responsables",
        json={"responsable_id": parent.json()["id"], "lien": "mere"},
        headers=director,
    )
    assert link.status_code == 201, link.text
    log = onde.get("/api/v1/changes", headers=service).json()
    assert [(c["entity"], c["op"]) for c in log["items"]] == [
        ("school", "create"),
        ("pupil", "create"),
        ("pupil", "state"),
        ("responsable", "create"),
        ("link", "create"),
    ]
    assert [c["seq"] for c in log["items"]] == sorted(c["seq"] for c in log["items"])
