"""Sessions: proposals are shown at one login only, whatever became of that login's row; a session
of an account deactivated since stops working."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from fake_educonnect.models import Account
from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import (
    activate_by_sms,
    bearer,
    director,
    import_items,
    letter_for,
    one_parent,
)


def _login(client: TestClient, identifiant: str, password: str) -> dict[str, Any]:
    response = client.post("/api/v1/login", json={"identifiant": identifiant, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _proposed(client: TestClient, session: dict[str, Any]) -> list[str]:
    response = client.get("/api/v1/me/proposals", headers=bearer(session))
    assert response.status_code == 200, response.text
    return [p["prenoms"] for p in response.json()]


def test_proposals_are_not_shown_again_after_a_logout(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    """Logging out deletes nothing a later login could take over (its id, its proposals)."""
    one_parent(educonnect, ec_service)
    first = activate_by_sms(educonnect, ec_service)
    assert first["step"] == "attachment"
    assert _proposed(educonnect, first) == ["Léa"]
    assert educonnect.post("/api/v1/logout", headers=bearer(first)).status_code == 204
    assert educonnect.get("/api/v1/me", headers=bearer(first)).status_code == 401

    again = _login(educonnect, first["identifiant"], "Soleil2026")
    assert again["step"] is None
    assert _proposed(educonnect, again) == []


def test_proposals_are_not_shown_again_after_a_reset_ends_the_sessions(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    """A reset by the school ends the parent's sessions; the next login shows nothing again."""
    created = one_parent(educonnect, ec_service)
    first = activate_by_sms(educonnect, ec_service)
    assert _proposed(educonnect, first) == ["Léa"]
    reset = educonnect.post(
        f"/api/v1/console/accounts/{created['account_id']}/reset-password",
        json={"confirm": True},
        headers=director(educonnect, ec_service),
    )
    assert reset.status_code == 200, reset.text
    assert educonnect.get("/api/v1/me", headers=bearer(first)).status_code == 401

    again = _login(educonnect, first["identifiant"], reset.json()["temporary_password"])
    assert again["step"] == "change_password"
    changed = educonnect.post(
        "/api/v1/me/password", json={"new_password": "Lune2026x"}, headers=bearer(again)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["step"] is None
    assert _proposed(educonnect, again) == []


def test_another_parent_never_sees_the_proposals_of_an_ended_session(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    """The next session opened (by anyone) does not own the proposals shown to a closed one."""
    results = import_items(
        educonnect,
        ec_service,
        responsable(),
        responsable(
            "102",
            nom="Durand",
            prenom="Paul",
            mobile="+33698765432",
            children=[child("2", nom="Durand", prenoms="Noé", lien="pere")],
        ),
    )
    sophie = activate_by_sms(educonnect, ec_service)
    assert _proposed(educonnect, sophie) == ["Léa"]
    educonnect.post("/api/v1/logout", headers=bearer(sophie))

    letter = letter_for(educonnect, ec_service, results[1]["account_id"])
    paul = _login(educonnect, letter["identifiant"], letter["temporary_password"])
    educonnect.post("/api/v1/me/password", json={"new_password": "Lune2026x"}, headers=bearer(paul))
    assert _proposed(educonnect, paul) == ["Noé"]


def test_a_session_of_an_account_deactivated_since_stops_working(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    """The sync deactivates the account (no enrolled child left): its open session is refused."""
    one_parent(educonnect, ec_service)
    session = activate_by_sms(educonnect, ec_service)
    assert educonnect.get("/api/v1/me", headers=bearer(session)).status_code == 200
    gone = import_items(educonnect, ec_service, responsable(children=[child(enrolled=False)]))[0]
    assert gone["deactivated"] is True

    for method, path in (
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/me/proposals"),
        ("GET", "/api/v1/me/children"),
        ("POST", "/api/v1/logout"),
    ):
        answer = educonnect.request(method, path, headers=bearer(session))
        assert answer.status_code == 401, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["detail"] == (
            "no session, or the session has expired: log in again"
        ), path


def test_failed_logins_are_counted_by_the_rate_limit_only() -> None:
    """Failed logins live in the per-account rate limit (``login-fail:<identifiant>``), not in a
    counter on the account that nothing read."""
    assert "failed_logins" not in Account.__table__.columns  # type: ignore[attr-defined]
