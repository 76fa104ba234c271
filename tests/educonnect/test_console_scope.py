"""The director console sees its own school only: explain, deleted responsables, letters, resets."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.educonnect.factories import OTHER_SCHOOL, SCHOOL, child, responsable
from tests.educonnect.helpers import (
    activate_by_sms,
    bearer,
    director,
    import_items,
    last_code,
    letter_for,
)

OTHER = responsable(
    "907",
    school_uai=OTHER_SCHOOL,
    children=[child("55", nom="Martin", prenoms="Hugo", school_uai=OTHER_SCHOOL)],
)


def _parent_in_two_schools(client: TestClient, service: dict[str, str]) -> dict[str, Any]:
    first, second = import_items(client, service, responsable("101"), OTHER)
    assert second["account_id"] == first["account_id"]
    return first


def test_explain_in_the_console_tells_nothing_of_another_school(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    account = _parent_in_two_schools(educonnect, ec_service)
    letter_for(educonnect, ec_service, account["account_id"], OTHER_SCHOOL)
    url = f"/api/v1/console/accounts/{account['account_id']}/explain"
    mine = educonnect.get(url, headers=director(educonnect, ec_service, SCHOOL)).json()
    text = " ".join(s["text"] for s in mine["statements"])
    assert "Léa" in text
    assert "Hugo" not in text
    assert "letter_pending" not in [s["code"] for s in mine["statements"]]
    theirs = educonnect.get(url, headers=director(educonnect, ec_service, OTHER_SCHOOL)).json()
    text = " ".join(s["text"] for s in theirs["statements"])
    assert "Hugo" in text
    assert "Léa" not in text
    assert "letter_pending" in [s["code"] for s in theirs["statements"]]


def test_a_director_loses_an_account_whose_responsable_was_deleted_from_the_school(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    account = _parent_in_two_schools(educonnect, ec_service)
    headers = director(educonnect, ec_service, SCHOOL)
    detail = f"/api/v1/console/accounts/{account['account_id']}"
    assert educonnect.get(detail, headers=headers).status_code == 200
    deleted = import_items(educonnect, ec_service, responsable("101", deleted=True))[0]
    assert deleted["account_id"] == account["account_id"]
    refused = educonnect.get(detail, headers=headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert educonnect.post(f"{detail}/letter", headers=headers).status_code == 403
    listed = educonnect.get("/api/v1/console/accounts", headers=headers).json()["items"]
    assert listed == []
    assert educonnect.get("/api/v1/console/stats", headers=headers).json()["accounts"] == 0
    # The other school keeps it, and sees only its own responsable.
    kept = educonnect.get(detail, headers=director(educonnect, ec_service, OTHER_SCHOOL))
    assert kept.status_code == 200
    assert [s["source_id"] for s in kept.json()["sources"]] == ["907"]
    # Brought back in ONDE: the school's rights come back with it.
    import_items(educonnect, ec_service, responsable("101"))
    assert educonnect.get(detail, headers=headers).status_code == 200


def test_a_letter_for_a_parent_who_activated_alone_needs_confirmation(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    account = import_items(educonnect, ec_service, responsable())[0]
    activate_by_sms(educonnect, ec_service)
    url = f"/api/v1/console/accounts/{account['account_id']}/letter"
    headers = director(educonnect, ec_service)
    first = educonnect.post(url, headers=headers)
    assert first.status_code == 409
    assert first.json()["extra"]["origin"] == "Responsable"
    letters = educonnect.get("/api/v1/outbox", params={"channel": "letter"}, headers=ec_service)
    assert letters.json() == []
    confirmed = educonnect.post(url, json={"confirm": True}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text


def test_a_reset_by_the_director_ends_the_parents_sessions(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    account = import_items(educonnect, ec_service, responsable())[0]
    session = activate_by_sms(educonnect, ec_service)
    assert educonnect.get("/api/v1/me", headers=bearer(session)).status_code == 200
    reset = educonnect.post(
        f"/api/v1/console/accounts/{account['account_id']}/reset-password",
        json={"confirm": True},
        headers=director(educonnect, ec_service),
    )
    assert reset.status_code == 200, reset.text
    ended = educonnect.get("/api/v1/me", headers=bearer(session))
    assert ended.status_code == 401


def test_a_self_service_password_reset_ends_the_open_sessions(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    account = import_items(educonnect, ec_service, responsable())[0]
    session = activate_by_sms(educonnect, ec_service)
    asked = educonnect.post(
        "/api/v1/selfservice/password",
        json={"identifiant": account["identifiant"], "channel": "sms"},
    ).json()
    done = educonnect.post(
        "/api/v1/selfservice/password/confirm",
        json={
            "request_id": asked["request_id"],
            "code": last_code(educonnect, ec_service, "+33612345678"),
            "new_password": "Nouveau2026",
        },
    )
    assert done.status_code == 200, done.text
    assert educonnect.get("/api/v1/me", headers=bearer(session)).status_code == 401
