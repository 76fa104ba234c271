"""A director's day in ONDE, and a parent's steps in EduConnect, over real HTTP."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.stack import Stack

UAI = "0021593W"


def open_school(stack: Stack) -> dict[str, str]:
    """Create the school in ONDE; the director's headers."""
    response = stack.onde_call(
        "POST",
        "/api/v1/schools",
        json={"uai": UAI, "name": "École Jean Jaurès", "commune": "Lille", "academie": "Lille"},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['director_token']}"}


def admit(stack: Stack, director: dict[str, str], prenoms: str, birth_date: str) -> int:
    """Register and admit a pupil; their id."""
    response = stack.onde_call(
        "POST",
        f"/api/v1/schools/{UAI}/pupils",
        headers=director,
        json={
            "nom": "Martin",
            "prenoms": prenoms,
            "sex": "F",
            "birth_date": birth_date,
            "birth_place": "59350",
            "level": "CP",
            "state": "admis",
        },
    )
    assert response.status_code == 201, response.text
    pupil_id: int = response.json()["id"]
    return pupil_id


def parent_of(
    stack: Stack,
    director: dict[str, str],
    pupil_id: int,
    prenom: str = "Sophie",
    mobile: str | None = "06 12 34 56 78",
    lien: str = "mere",
    autorite_parentale: bool = True,
) -> int:
    """Record a responsable and link them; their id."""
    created = stack.onde_call(
        "POST",
        f"/api/v1/schools/{UAI}/responsables",
        headers=director,
        json={"civility": "MME", "nom": "Martin", "prenom": prenom, "mobile": mobile},
    )
    assert created.status_code == 201, created.text
    responsable_id: int = created.json()["id"]
    link_to(stack, director, pupil_id, responsable_id, lien, autorite_parentale)
    return responsable_id


def link_to(
    stack: Stack,
    director: dict[str, str],
    pupil_id: int,
    responsable_id: int,
    lien: str = "mere",
    autorite_parentale: bool = True,
) -> None:
    """Link a responsable to a pupil."""
    link = stack.onde_call(
        "POST",
        f"/api/v1/pupils/{pupil_id}/responsables",
        headers=director,
        json={
            "responsable_id": responsable_id,
            "lien": lien,
            "autorite_parentale": autorite_parentale,
        },
    )
    assert link.status_code == 201, link.text


def set_state(stack: Stack, director: dict[str, str], pupil_id: int, state: str) -> None:
    """Change a pupil's state."""
    response = stack.onde_call(
        "POST", f"/api/v1/pupils/{pupil_id}/state", headers=director, json={"state": state}
    )
    assert response.status_code == 200, response.text


def accounts(stack: Stack) -> list[dict[str, Any]]:
    """EduConnect's accounts, in full."""
    listed = stack.ec_call("GET", "/api/v1/accounts", params={"limit": 500}).json()["items"]
    return [stack.ec_call("GET", f"/api/v1/accounts/{a['id']}").json() for a in listed]


def last_code(stack: Stack, recipient: str) -> str:
    """The code in the latest message to ``recipient``."""
    messages = stack.ec_call("GET", "/api/v1/outbox", params={"recipient": recipient}).json()
    found = re.search(r"\b(\d{6})\b", messages[-1]["body"])
    assert found
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    """Authorization headers."""
    return {"Authorization": f"Bearer {token}"}


def confirm_all(stack: Stack, session: dict[str, Any], dates: dict[str, str]) -> dict[str, str]:
    """Confirm every proposal with the given birth dates; the statuses by first name."""
    headers = bearer(session["session_token"])
    out = {}
    for proposal in stack.ec_call("GET", "/api/v1/me/proposals", headers=headers).json():
        decided = stack.ec_call(
            "POST",
            f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm",
            headers=headers,
            json={"birth_date": dates[proposal["prenoms"]]},
        ).json()
        out[proposal["prenoms"]] = decided["status"]
    return out
