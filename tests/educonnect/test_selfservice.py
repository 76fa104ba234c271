"""Self-service: forgotten identifiant and password, confirmed email only, uniform answers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.educonnect.helpers import activate_by_sms, bearer, last_code, one_parent


def _confirm_email(client: TestClient, service: dict[str, str], session: dict[str, str]) -> None:
    started = client.post(
        "/api/v1/me/email", json={"email": "sophie@example.org"}, headers=bearer(session)
    ).json()
    code = last_code(client, service, "sophie@example.org")
    confirmed = client.post(
        "/api/v1/me/email/confirm",
        json={"request_id": started["request_id"], "code": code},
        headers=bearer(session),
    )
    assert confirmed.json()["email_confirmed"] is True


def test_forgotten_identifiant_by_sms_and_uniform_answer(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = one_parent(educonnect, ec_service)
    known = educonnect.post(
        "/api/v1/selfservice/identifiant/sms",
        json={"nom": "Martin", "prenom": "Sophie", "mobile": "06 12 34 56 78"},
    )
    unknown = educonnect.post(
        "/api/v1/selfservice/identifiant/sms",
        json={"nom": "Nobody", "prenom": "Sophie", "mobile": "06 12 34 56 78"},
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    sms = educonnect.get(
        "/api/v1/outbox", params={"recipient": "+33612345678"}, headers=ec_service
    ).json()
    assert len(sms) == 1
    assert created["identifiant"] in sms[0]["body"]


def test_email_self_service_needs_a_confirmed_email(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service, email="sophie@example.org")
    session = activate_by_sms(educonnect, ec_service)
    ask = {"nom": "Martin", "prenom": "Sophie", "email": "sophie@example.org"}
    before = educonnect.post("/api/v1/selfservice/identifiant/email", json=ask)
    assert before.status_code == 202
    mails = educonnect.get(
        "/api/v1/outbox", params={"recipient": "sophie@example.org"}, headers=ec_service
    ).json()
    assert mails == []
    _confirm_email(educonnect, ec_service, session)
    educonnect.post("/api/v1/selfservice/identifiant/email", json=ask)
    mails = educonnect.get(
        "/api/v1/outbox", params={"recipient": "sophie@example.org"}, headers=ec_service
    ).json()
    assert session["identifiant"] in mails[-1]["body"]


def test_forgotten_password_by_sms(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    one_parent(educonnect, ec_service)
    session = activate_by_sms(educonnect, ec_service)
    started = educonnect.post(
        "/api/v1/selfservice/password", json={"identifiant": session["identifiant"]}
    ).json()
    code = last_code(educonnect, ec_service, "+33612345678")
    done = educonnect.post(
        "/api/v1/selfservice/password/confirm",
        json={"request_id": started["request_id"], "code": code, "new_password": "Printemps27"},
    )
    assert done.status_code == 200, done.text
    assert (
        educonnect.post(
            "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Printemps27"}
        ).status_code
        == 200
    )
    assert (
        educonnect.post(
            "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Soleil2026"}
        ).status_code
        == 401
    )


def test_forgotten_password_by_unconfirmed_email_sends_nothing(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service, email="sophie@example.org")
    session = activate_by_sms(educonnect, ec_service)
    unknown = educonnect.post(
        "/api/v1/selfservice/password", json={"identifiant": "z.nobody11", "channel": "email"}
    )
    by_email = educonnect.post(
        "/api/v1/selfservice/password",
        json={"identifiant": session["identifiant"], "channel": "email"},
    )
    assert unknown.status_code == by_email.status_code == 202
    assert unknown.json()["message"] == by_email.json()["message"]
    assert (
        educonnect.get(
            "/api/v1/outbox", params={"recipient": "sophie@example.org"}, headers=ec_service
        ).json()
        == []
    )


def test_self_service_is_rate_limited_per_client(
    educonnect: TestClient, ec_service: dict[str, str], educonnect_settings: object
) -> None:
    ask = {"nom": "Martin", "prenom": "Sophie", "mobile": "06 12 34 56 78"}
    statuses = [
        educonnect.post("/api/v1/selfservice/identifiant/sms", json=ask).status_code
        for _ in range(31)
    ]
    assert statuses[:30] == [202] * 30
    assert statuses[30] == 429
    educonnect.post("/api/v1/clock/advance", json={"seconds": 15 * 60 + 1}, headers=ec_service)
    assert educonnect.post("/api/v1/selfservice/identifiant/sms", json=ask).status_code == 202


def test_forgotten_password_by_confirmed_email(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    session = activate_by_sms(educonnect, ec_service)
    _confirm_email(educonnect, ec_service, session)
    started = educonnect.post(
        "/api/v1/selfservice/password",
        json={"identifiant": session["identifiant"], "channel": "email"},
    ).json()
    code = last_code(educonnect, ec_service, "sophie@example.org")
    done = educonnect.post(
        "/api/v1/selfservice/password/confirm",
        json={"request_id": started["request_id"], "code": code, "new_password": "Automne2027"},
    )
    assert done.status_code == 200, done.text
    login = educonnect.post(
        "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Automne2027"}
    )
    assert login.status_code == 200
