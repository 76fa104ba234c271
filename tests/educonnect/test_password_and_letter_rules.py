"""A FranceConnect parent's first password; letters: deactivated accounts, civility, wording."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from fake_educonnect.service.letters import validity_fr
from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import (
    activate_by_sms,
    add_identity,
    bearer,
    director,
    import_items,
    last_code,
    letter_for,
)

PROBLEM = "application/problem+json"


def activate_by_franceconnect(client: TestClient, service: dict[str, str]) -> dict[str, Any]:
    """Sophie Martin activates through FranceConnect (a code by SMS); the opened session."""
    add_identity(client, service)
    back = client.post("/api/v1/franceconnect/login", json={"sub": "fc-sophie"}).json()
    code = last_code(client, service, "+33612345678")
    done = client.post(
        "/api/v1/franceconnect/confirm", json={"request_id": back["request_id"], "code": code}
    )
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    return body


def test_a_franceconnect_parent_sets_a_first_password_in_her_own_session(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(educonnect, ec_service, responsable())
    session = activate_by_franceconnect(educonnect, ec_service)
    me = educonnect.get("/api/v1/me", headers=bearer(session)).json()
    assert me["has_password"] is False  # the client knows no current password is asked
    anonymous = educonnect.post("/api/v1/me/password", json={"new_password": "Soleil2026"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith(PROBLEM)
    weak = educonnect.post(
        "/api/v1/me/password", json={"new_password": "abcdefgh"}, headers=bearer(session)
    )
    assert weak.status_code == 422
    first = educonnect.post(
        "/api/v1/me/password", json={"new_password": "Soleil2026"}, headers=bearer(session)
    )
    assert first.status_code == 200, first.text
    assert (first.json()["origin"], first.json()["has_password"]) == ("FranceConnect", True)
    login = educonnect.post(
        "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Soleil2026"}
    )
    assert login.status_code == 200, login.text
    # From now on she has a password: changing it asks for it.
    again = educonnect.post(
        "/api/v1/me/password", json={"new_password": "Autre2026"}, headers=bearer(session)
    )
    assert again.status_code == 422
    assert again.headers["content-type"].startswith(PROBLEM)
    assert again.json()["errors"][0]["field"] == "body.current_password"
    # said missing, not wrong (it was « wrong current password »), and not a failed try
    assert again.json()["errors"][0]["reason"] == (
        "required: this account's current password is asked"
    )
    for _ in range(6):  # more than the failed logins an account takes
        educonnect.post(
            "/api/v1/me/password", json={"new_password": "Autre2026"}, headers=bearer(session)
        )
    login = educonnect.post(
        "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Soleil2026"}
    )
    assert login.status_code == 200, login.text


def test_wrong_current_passwords_count_as_failed_logins(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(educonnect, ec_service, responsable())
    session = activate_by_sms(educonnect, ec_service)
    statuses = [
        educonnect.post(
            "/api/v1/me/password",
            json={"new_password": "Autre2026", "current_password": f"Faux{n}2026"},
            headers=bearer(session),
        ).status_code
        for n in range(6)
    ]
    assert statuses == [422] * 5 + [429]
    refused = educonnect.post(
        "/api/v1/me/password",
        json={"new_password": "Autre2026", "current_password": "Soleil2026"},
        headers=bearer(session),
    )
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith(PROBLEM)
    login = educonnect.post(
        "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Soleil2026"}
    )
    assert login.status_code == 429  # the same per-account limit as the login's


def test_a_deactivated_account_gets_no_letter_nor_reset(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(educonnect, ec_service, responsable())[0]
    import_items(educonnect, ec_service, responsable(children=[child(enrolled=False)]))
    account_id = created["account_id"]
    headers = director(educonnect, ec_service)
    for path, body in (
        ("letter", None),
        ("letter", {"confirm": True}),
        ("reset-password", {"confirm": True}),
    ):
        refused = educonnect.post(
            f"/api/v1/console/accounts/{account_id}/{path}", json=body, headers=headers
        )
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith(PROBLEM)
        problem = refused.json()
        assert problem["code"] == "account-deactivated"
        assert "admitted again" in problem["detail"]
        assert problem["extra"]["reason"] == "no_enrolled_child"
    letters = educonnect.get(
        "/api/v1/outbox", params={"channel": "letter"}, headers=ec_service
    ).json()
    assert letters == []
    import_items(educonnect, ec_service, responsable())  # the child is admitted again
    assert letter_for(educonnect, ec_service, account_id)["temporary_password"]


def test_the_letter_greets_by_civility_and_gives_the_address(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    paul, anne, unknown = import_items(
        educonnect,
        ec_service,
        responsable("101", nom="Lefèvre", prenom="Paul", civility="M"),
        responsable("102", nom="Lefèvre", prenom="Anne", mobile="+33698765432"),
        responsable("103", nom="Petit", prenom="Camille", mobile=None, civility=None),
    )
    texts = [letter_for(educonnect, ec_service, r["account_id"])["text"] for r in (paul, anne)]
    texts.append(letter_for(educonnect, ec_service, unknown["account_id"])["text"])
    assert [t.splitlines()[0] for t in texts] == [
        "Monsieur Lefèvre,",
        "Madame Lefèvre,",
        "Madame, Monsieur,",
    ]
    for text in texts:
        assert "https://educonnect.education.gouv.fr" in text
    stored = educonnect.get(
        "/api/v1/outbox", params={"channel": "letter"}, headers=ec_service
    ).json()
    assert [m["body"] for m in stored] == texts


def test_the_reset_letter_of_an_active_parent_is_worded_for_a_reset(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(educonnect, ec_service, responsable())[0]
    first = letter_for(educonnect, ec_service, created["account_id"])["text"]
    assert "activez votre compte" in first
    assert "Vous pouvez aussi activer votre compte avec FranceConnect." in first
    assert "chacun de vos enfants" in first
    session = activate_by_sms(educonnect, ec_service)
    (proposal,) = educonnect.get("/api/v1/me/proposals", headers=bearer(session)).json()
    educonnect.post(
        f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm",
        json={"birth_date": "2019-02-03"},
        headers=bearer(session),
    )
    reset = educonnect.post(
        f"/api/v1/console/accounts/{created['account_id']}/reset-password",
        json={"confirm": True},
        headers=director(educonnect, ec_service),
    )
    assert reset.status_code == 200, reset.text
    text = reset.json()["text"]
    assert "a été réinitialisé : l'ancien ne fonctionne plus" in text
    assert "activer votre compte" not in text
    assert "chacun de vos enfants" not in text
    assert "Vos enfants déjà rattachés le restent." in text
    assert "https://educonnect.education.gouv.fr" in text


def test_a_letter_says_how_long_its_password_lives_as_configured(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    """« 3 mois » by default (92 days), else the days the setting gives: never a fixed text."""
    assert [validity_fr(days) for days in (92, 90, 30, 45, 1)] == [
        "3 mois",
        "3 mois",
        "1 mois",
        "45 jours",
        "1 jour",
    ]
    created = import_items(educonnect, ec_service, responsable())[0]
    assert "(3 mois)" in letter_for(educonnect, ec_service, created["account_id"])["text"]
    educonnect.app.state.settings.letter_validity_days = 45  # type: ignore[attr-defined]
    text = letter_for(educonnect, ec_service, created["account_id"])["text"]
    assert "(45 jours)" in text
    assert "(3 mois)" not in text
