"""Contact data across imports: applied when the source changes, cleared when it is cleared.

The import keeps each source's last values; an account follows a source only where that source
changed since the last import. So re-sending a responsable never undoes what the parent did since
(a confirmed email), and a mobile cleared in ONDE stops receiving codes.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.educonnect.factories import OTHER_SCHOOL, child, responsable
from tests.educonnect.helpers import activate_by_sms, bearer, import_items, last_code

MOBILE = "+33612345678"


def _account(client: TestClient, service: dict[str, str], account_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/accounts/{account_id}", headers=service)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _confirm_email(
    client: TestClient, service: dict[str, str], session: dict[str, Any], email: str
) -> None:
    started = client.post("/api/v1/me/email", json={"email": email}, headers=bearer(session))
    assert started.status_code == 202, started.text
    code = last_code(client, service, email)
    confirmed = client.post(
        "/api/v1/me/email/confirm",
        json={"request_id": started.json()["request_id"], "code": code},
        headers=bearer(session),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email_confirmed"] is True


def _messages(client: TestClient, service: dict[str, str], recipient: str) -> list[Any]:
    found: list[Any] = client.get(
        "/api/v1/outbox", params={"recipient": recipient}, headers=service
    ).json()
    return found


def test_re_sending_a_responsable_keeps_the_email_the_parent_confirmed(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    onde = responsable(email="ecole@example.org")
    created = import_items(educonnect, ec_service, onde)[0]
    session = activate_by_sms(educonnect, ec_service)
    _confirm_email(educonnect, ec_service, session, "sophie@example.org")
    again = import_items(educonnect, ec_service, onde)[0]
    assert again["outcome"] == "unchanged"
    account = _account(educonnect, ec_service, created["account_id"])
    assert (account["email"], account["email_confirmed"]) == ("sophie@example.org", True)
    # A change in ONDE does not replace an address the parent proved either.
    import_items(educonnect, ec_service, responsable(email="nouvelle@example.org"))
    account = _account(educonnect, ec_service, created["account_id"])
    assert (account["email"], account["email_confirmed"]) == ("sophie@example.org", True)
    ask = {"nom": "Martin", "prenom": "Sophie", "email": "sophie@example.org"}
    assert educonnect.post("/api/v1/selfservice/identifiant/email", json=ask).status_code == 202
    assert len(_messages(educonnect, ec_service, "sophie@example.org")) == 2


def test_an_unconfirmed_email_follows_onde_changes_and_clearing(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(educonnect, ec_service, responsable(email="a@example.org"))[0]
    import_items(educonnect, ec_service, responsable(email="b@example.org"))
    assert _account(educonnect, ec_service, created["account_id"])["email"] == "b@example.org"
    import_items(educonnect, ec_service, responsable(email=None))
    assert _account(educonnect, ec_service, created["account_id"])["email"] is None


def test_a_mobile_cleared_in_onde_no_longer_receives_codes(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(educonnect, ec_service, responsable())[0]
    cleared = import_items(educonnect, ec_service, responsable(mobile=None))[0]
    assert cleared["outcome"] == "updated"
    assert _account(educonnect, ec_service, created["account_id"])["mobile"] is None
    started = educonnect.post(
        "/api/v1/activation/sms",
        json={"nom": "Martin", "prenom": "Sophie", "mobile": "06 12 34 56 78"},
    )
    assert started.status_code == 202
    forgot = educonnect.post(
        "/api/v1/selfservice/identifiant/sms",
        json={"nom": "Martin", "prenom": "Sophie", "mobile": "06 12 34 56 78"},
    )
    assert forgot.status_code == 202
    assert _messages(educonnect, ec_service, MOBILE) == []


def test_an_active_parents_mobile_cleared_in_onde_gets_no_password_code(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(educonnect, ec_service, responsable())[0]
    activate_by_sms(educonnect, ec_service)
    before = len(_messages(educonnect, ec_service, MOBILE))
    import_items(educonnect, ec_service, responsable(mobile=None))
    asked = educonnect.post(
        "/api/v1/selfservice/password",
        json={"identifiant": created["identifiant"], "channel": "sms"},
    )
    assert asked.status_code == 202
    assert len(_messages(educonnect, ec_service, MOBILE)) == before


def test_a_cleared_mobile_falls_back_on_another_school_that_still_gives_one(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    other = responsable(
        "907",
        mobile="+33622222222",
        email="sophie@example.org",
        school_uai=OTHER_SCHOOL,
        children=[child("55", prenoms="Hugo", school_uai=OTHER_SCHOOL)],
    )
    first, second = import_items(
        educonnect, ec_service, responsable(email="sophie@example.org"), other
    )
    assert second["outcome"] == "matched"
    account_id = first["account_id"]
    # The matched record only fills gaps: the account keeps its mobile, re-sends included.
    assert _account(educonnect, ec_service, account_id)["mobile"] == MOBILE
    import_items(educonnect, ec_service, other)
    assert _account(educonnect, ec_service, account_id)["mobile"] == MOBILE
    # Clearing the other school's mobile leaves alone the one it did not give.
    import_items(educonnect, ec_service, {**other, "mobile": None})
    assert _account(educonnect, ec_service, account_id)["mobile"] == MOBILE
    import_items(educonnect, ec_service, other)
    # Clearing the one the account holds falls back on what the other school still gives.
    import_items(educonnect, ec_service, responsable(mobile=None, email="sophie@example.org"))
    assert _account(educonnect, ec_service, account_id)["mobile"] == "+33622222222"


def test_a_mobile_changed_in_onde_replaces_the_old_one(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(educonnect, ec_service, responsable())[0]
    import_items(educonnect, ec_service, responsable(mobile="+33698765432"))
    assert _account(educonnect, ec_service, created["account_id"])["mobile"] == "+33698765432"


def test_a_deleted_responsable_gives_no_mobile_any_more(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(educonnect, ec_service, responsable())[0]
    import_items(educonnect, ec_service, responsable(deleted=True))
    account = _account(educonnect, ec_service, created["account_id"])
    assert account["mobile"] is None
    assert account["sources"][0]["deleted_at"] is not None


def test_matching_ignores_an_email_the_parent_typed_but_never_confirmed(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(educonnect, ec_service, responsable())[0]
    session = activate_by_sms(educonnect, ec_service)
    typed = educonnect.post(
        "/api/v1/me/email", json={"email": "victim@example.org"}, headers=bearer(session)
    )
    assert typed.status_code == 202
    stranger = responsable(
        "555", mobile="+33633333333", email="victim@example.org", children=[child("9")]
    )
    result = import_items(educonnect, ec_service, stranger)[0]
    assert result["outcome"] == "created"
    assert result["account_id"] != created["account_id"]
    # Once confirmed, the email is the parent's: a new record with it joins the account.
    _confirm_email(educonnect, ec_service, session, "sophie@example.org")
    same = responsable(
        "556", mobile="+33644444444", email="sophie@example.org", children=[child("10")]
    )
    assert import_items(educonnect, ec_service, same)[0]["account_id"] == created["account_id"]


def test_an_email_code_confirms_only_the_address_it_was_sent_to(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(educonnect, ec_service, responsable(email="a@example.org"))[0]
    session = activate_by_sms(educonnect, ec_service)
    started = educonnect.post(
        "/api/v1/me/email", json={"email": "mine@example.org"}, headers=bearer(session)
    ).json()
    # Meanwhile the school records another address in ONDE, and the sync brings it.
    import_items(educonnect, ec_service, responsable(email="other@example.org"))
    assert _account(educonnect, ec_service, created["account_id"])["email"] == "other@example.org"
    confirmed = educonnect.post(
        "/api/v1/me/email/confirm",
        json={
            "request_id": started["request_id"],
            "code": last_code(educonnect, ec_service, "mine@example.org"),
        },
        headers=bearer(session),
    )
    assert confirmed.status_code == 422
    assert _account(educonnect, ec_service, created["account_id"])["email_confirmed"] is False
