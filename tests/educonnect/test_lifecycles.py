"""The whole account lifecycle, once per activation path, as a REST client would drive it.

Each parent has three children: Léa (right birth date → attached), Tom (wrong date → blocked) and
Zoé (« je ne suis pas le représentant légal » → refused). Then the director unblocks Tom, and Tom is
proposed again at the parent's next login.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import (
    add_identity,
    bearer,
    director,
    import_items,
    last_code,
    letter_for,
)

BIRTH_DATES = {"Léa": "2019-02-03", "Tom": "2017-05-06", "Zoé": "2021-09-10"}


def sync_brings_the_family(client: TestClient, service: dict[str, str]) -> dict[str, Any]:
    """The night's sync imports Sophie Martin and her three children."""
    family = responsable(
        children=[
            child("1", prenoms="Léa", birth_date=BIRTH_DATES["Léa"]),
            child("2", prenoms="Tom", birth_date=BIRTH_DATES["Tom"], level="CE2"),
            child("3", prenoms="Zoé", birth_date=BIRTH_DATES["Zoé"], level="PS"),
        ]
    )
    result = import_items(client, service, family)[0]
    assert result["outcome"] == "created"
    assert result["proposals_added"] == 3
    return result


def first_login_attachment(client: TestClient, session: dict[str, Any]) -> None:
    """Léa confirmed, Tom mistaken (blocked), Zoé refused."""
    assert session["step"] == "attachment"
    headers = bearer(session)
    proposals = {
        p["prenoms"]: p["attachment_id"]
        for p in client.get("/api/v1/me/proposals", headers=headers).json()
    }
    assert sorted(proposals) == ["Léa", "Tom", "Zoé"]
    lea = client.post(
        f"/api/v1/me/proposals/{proposals['Léa']}/confirm",
        json={"birth_date": BIRTH_DATES["Léa"]},
        headers=headers,
    ).json()
    assert lea["status"] == "attached"
    tom = client.post(
        f"/api/v1/me/proposals/{proposals['Tom']}/confirm",
        json={"birth_date": "2017-06-05"},
        headers=headers,
    ).json()
    assert (tom["status"], tom["message"]) == (
        "blocked",
        "Date de naissance erronée : le rattachement est bloqué. Contactez l'école.",
    )
    zoe = client.post(f"/api/v1/me/proposals/{proposals['Zoé']}/refuse", headers=headers).json()
    assert (zoe["status"], zoe["step"]) == ("refused", None)


def director_unblocks_tom(client: TestClient, service: dict[str, str], account_id: int) -> None:
    """The director finds Tom blocked in the console and unblocks him."""
    headers = director(client, service)
    detail = client.get(f"/api/v1/console/accounts/{account_id}", headers=headers).json()
    statuses = {a["child"]["prenoms"]: (a["id"], a["status"]) for a in detail["attachments"]}
    assert {name: status for name, (_, status) in statuses.items()} == {
        "Léa": "attached",
        "Tom": "blocked",
        "Zoé": "refused",
    }
    unblocked = client.post(
        f"/api/v1/console/attachments/{statuses['Tom'][0]}/unblock", headers=headers
    )
    assert unblocked.json()["status"] == "proposed"


def next_login_attaches_tom(client: TestClient, session: dict[str, Any]) -> None:
    """At the next login only Tom is proposed; this time the date is right."""
    assert session["step"] == "attachment"
    headers = bearer(session)
    proposals = client.get("/api/v1/me/proposals", headers=headers).json()
    assert [p["prenoms"] for p in proposals] == ["Tom"]
    tom = client.post(
        f"/api/v1/me/proposals/{proposals[0]['attachment_id']}/confirm",
        json={"birth_date": BIRTH_DATES["Tom"]},
        headers=headers,
    ).json()
    assert tom["status"] == "attached"
    children = client.get("/api/v1/me/children", headers=headers).json()
    assert {c["child"]["prenoms"]: c["status"] for c in children} == {
        "Léa": "attached",
        "Tom": "attached",
        "Zoé": "refused",
    }


def login(client: TestClient, identifiant: str, password: str) -> dict[str, Any]:
    """Log in with a password."""
    response = client.post("/api/v1/login", json={"identifiant": identifiant, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def origin_of(client: TestClient, service: dict[str, str], account_id: int) -> str:
    """The account's origin, as the director sees it."""
    detail = client.get(
        f"/api/v1/console/accounts/{account_id}", headers=director(client, service)
    ).json()
    assert detail["state"] == "active"
    origin: str = detail["origin"]
    return origin


def test_lifecycle_sms_activation(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    account = sync_brings_the_family(educonnect, ec_service)
    started = educonnect.post(
        "/api/v1/activation/sms",
        json={"nom": "Martin", "prenom": "Sophie", "mobile": "06 12 34 56 78"},
    ).json()
    code = last_code(educonnect, ec_service, "+33612345678")
    session = educonnect.post(
        "/api/v1/activation/sms/confirm",
        json={"request_id": started["request_id"], "code": code, "password": "Soleil2026"},
    ).json()
    assert session["identifiant"] == account["identifiant"]
    first_login_attachment(educonnect, session)
    assert origin_of(educonnect, ec_service, account["account_id"]) == "Responsable"
    director_unblocks_tom(educonnect, ec_service, account["account_id"])
    next_login_attaches_tom(educonnect, login(educonnect, account["identifiant"], "Soleil2026"))


def test_lifecycle_franceconnect(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    account = sync_brings_the_family(educonnect, ec_service)
    add_identity(educonnect, ec_service)
    back = educonnect.post("/api/v1/franceconnect/login", json={"sub": "fc-sophie"}).json()
    code = last_code(educonnect, ec_service, "+33612345678")
    session = educonnect.post(
        "/api/v1/franceconnect/confirm", json={"request_id": back["request_id"], "code": code}
    ).json()
    first_login_attachment(educonnect, session)
    assert origin_of(educonnect, ec_service, account["account_id"]) == "FranceConnect"
    director_unblocks_tom(educonnect, ec_service, account["account_id"])
    again = educonnect.post("/api/v1/franceconnect/login", json={"sub": "fc-sophie"}).json()
    assert again["status"] == "logged_in"
    next_login_attaches_tom(educonnect, again["session"])


def test_lifecycle_school_letter(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    account = sync_brings_the_family(educonnect, ec_service)
    letter = letter_for(educonnect, ec_service, account["account_id"])
    session = login(educonnect, account["identifiant"], letter["temporary_password"])
    assert session["step"] == "change_password"
    changed = educonnect.post(
        "/api/v1/me/password", json={"new_password": "Rentree2026"}, headers=bearer(session)
    ).json()
    assert changed["step"] == "attachment"
    session["step"] = changed["step"]
    first_login_attachment(educonnect, session)
    assert origin_of(educonnect, ec_service, account["account_id"]) == "Etablissement"
    director_unblocks_tom(educonnect, ec_service, account["account_id"])
    next_login_attaches_tom(educonnect, login(educonnect, account["identifiant"], "Rentree2026"))
