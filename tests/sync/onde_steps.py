"""What a school director does in ONDE, as the sync tests need it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import DEMO_UAI

PUPIL = {
    "nom": "Martin",
    "prenoms": "Léa",
    "sex": "F",
    "birth_date": "2019-02-03",
    "birth_place": "59350",
    "level": "CP",
}


def admit_pupil(client: TestClient, director: dict[str, str], **fields: Any) -> dict[str, Any]:
    """Register and admit a pupil (enrolled)."""
    body = PUPIL | fields | {"state": "admis"}
    response = client.post(f"/api/v1/schools/{DEMO_UAI}/pupils", json=body, headers=director)
    assert response.status_code == 201, response.text
    pupil: dict[str, Any] = response.json()
    return pupil


def add_parent(
    client: TestClient,
    director: dict[str, str],
    pupil_id: int,
    lien: str = "mere",
    autorite_parentale: bool = True,
    **fields: Any,
) -> dict[str, Any]:
    """Record a responsable and link them to a pupil."""
    body: dict[str, Any] = {
        "civility": "MME",
        "nom": "Martin",
        "prenom": "Sophie",
        "mobile": "06 12 34 56 78",
    } | fields
    parent = client.post(f"/api/v1/schools/{DEMO_UAI}/responsables", json=body, headers=director)
    assert parent.status_code == 201, parent.text
    link = client.post(
        f"/api/v1/pupils/{pupil_id}/responsables",
        json={
            "responsable_id": parent.json()["id"],
            "lien": lien,
            "autorite_parentale": autorite_parentale,
        },
        headers=director,
    )
    assert link.status_code == 201, link.text
    created: dict[str, Any] = parent.json()
    return created


def add_families(client: TestClient, director: dict[str, str], count: int) -> None:
    """``count`` pupils (Enfanta, Enfantb…), each with one parent (Parenta…) of their own mobile."""
    for index in range(count):
        pupil = admit_pupil(client, director, prenoms=f"Enfant{'abcdefghij'[index]}")
        add_parent(client, director, pupil["id"], prenom=f"Parent{'abcdefghij'[index]}",
                   mobile=f"06 12 34 56 {index:02d}")  # fmt: skip


def set_state(client: TestClient, director: dict[str, str], pupil_id: int, state: str) -> None:
    """Change a pupil's administrative state."""
    response = client.post(
        f"/api/v1/pupils/{pupil_id}/state", json={"state": state}, headers=director
    )
    assert response.status_code == 200, response.text


def next_day(sync: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    """« Jour suivant » through the sync's API: the clock and the runs of the nights crossed."""
    moved = sync.post("/api/v1/clock/next-day", headers=admin)
    assert moved.status_code == 200, moved.text
    body: dict[str, Any] = moved.json()
    return body


def one_night(sync: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    """« Jour suivant » crossing exactly one night: that night's run."""
    runs: list[dict[str, Any]] = next_day(sync, admin)["runs"]
    assert len(runs) == 1
    return runs[0]
