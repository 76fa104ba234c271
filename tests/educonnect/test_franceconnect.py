"""Activation and login through the fake FranceConnect (origin FranceConnect)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import add_identity, import_items, last_code, one_parent

LOGIN = "/api/v1/franceconnect/login"
CONFIRM = "/api/v1/franceconnect/confirm"


def test_franceconnect_activation_confirms_by_sms_then_logs_in_directly(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = one_parent(educonnect, ec_service)
    add_identity(educonnect, ec_service)
    assert [i["sub"] for i in educonnect.get("/api/v1/franceconnect/identities").json()] == [
        "fc-sophie"
    ]
    back = educonnect.post(LOGIN, json={"sub": "fc-sophie"}).json()
    assert (back["status"], back["masked_mobile"]) == ("code_sent", "06 •• •• •• 78")
    code = last_code(educonnect, ec_service, "+33612345678")
    confirmed = educonnect.post(CONFIRM, json={"request_id": back["request_id"], "code": code})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["step"] == "attachment"
    account = educonnect.get(f"/api/v1/accounts/{created['account_id']}", headers=ec_service).json()
    assert (account["state"], account["origin"]) == ("active", "FranceConnect")
    again = educonnect.post(LOGIN, json={"sub": "fc-sophie"}).json()
    assert again["status"] == "logged_in"
    assert created["identifiant"] in again["message"]
    assert again["session"]["step"] is None


def test_no_matching_account_says_contact_the_school(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    add_identity(educonnect, ec_service, sub="fc-other", family_name="Durand", given_name="Paul")
    back = educonnect.post(LOGIN, json={"sub": "fc-other"}).json()
    assert back["status"] == "no_account"
    assert "école" in back["message"]
    assert educonnect.get("/api/v1/outbox", headers=ec_service).json() == []


def test_homonyms_are_told_apart_by_the_phone_claim(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(
        educonnect,
        ec_service,
        responsable("101", mobile="+33611111111"),
        responsable("102", mobile="+33622222222"),
    )
    add_identity(educonnect, ec_service, phone_number="+33622222222")
    back = educonnect.post(LOGIN, json={"sub": "fc-sophie"}).json()
    assert back["masked_mobile"] == "06 •• •• •• 22"


def test_a_wrong_code_does_not_link(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    created = one_parent(educonnect, ec_service)
    add_identity(educonnect, ec_service)
    back = educonnect.post(LOGIN, json={"sub": "fc-sophie"}).json()
    code = last_code(educonnect, ec_service, "+33612345678")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = educonnect.post(CONFIRM, json={"request_id": back["request_id"], "code": wrong})
    assert refused.status_code == 422
    account = educonnect.get(f"/api/v1/accounts/{created['account_id']}", headers=ec_service).json()
    assert account["state"] == "non_active"


def test_identities_are_validated_and_unique(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    add_identity(educonnect, ec_service)
    twice = educonnect.post(
        "/api/v1/franceconnect/identities",
        json={
            "sub": "fc-sophie",
            "given_name": "Sophie",
            "family_name": "Martin",
            "birthdate": "1985-04-12",
            "gender": "female",
        },
        headers=ec_service,
    )
    assert twice.status_code == 409
    bad = educonnect.post(
        "/api/v1/franceconnect/identities",
        json={"sub": "x", "given_name": "A", "family_name": "B", "birthdate": "x", "gender": "?"},
        headers=ec_service,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"body.birthdate", "body.gender"}
    person = {"given_name": "Zoé", "family_name": "Roux", "gender": "female"}
    today = educonnect.get("/api/v1/clock").json()["local_date"]  # the simulated one
    for sub, born, reason in (
        ("fc-later", "2999-01-01", f"is after today ({today})"),
        ("fc-old", "1850-01-01", "is more than 130 years ago"),
    ):
        refused = educonnect.post(
            "/api/v1/franceconnect/identities",
            json=person | {"sub": sub, "birthdate": born},
            headers=ec_service,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"] == [{"field": "body.birthdate", "reason": reason}]
    born_today = person | {"sub": "fc-today", "birthdate": today}
    added = educonnect.post("/api/v1/franceconnect/identities", json=born_today, headers=ec_service)
    assert added.status_code == 201, added.text
    assert educonnect.post(LOGIN, json={"sub": "unknown"}).status_code == 404


def _deactivate(client: TestClient, service: dict[str, str]) -> None:
    gone = import_items(client, service, responsable(children=[child(enrolled=False)]))[0]
    assert gone["deactivated"] is True


def test_a_deactivated_linked_account_cannot_log_in_through_franceconnect(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    add_identity(educonnect, ec_service)
    back = educonnect.post(LOGIN, json={"sub": "fc-sophie"}).json()
    code = last_code(educonnect, ec_service, "+33612345678")
    linked = educonnect.post(CONFIRM, json={"request_id": back["request_id"], "code": code})
    assert linked.status_code == 200, linked.text
    _deactivate(educonnect, ec_service)
    refused = educonnect.post(LOGIN, json={"sub": "fc-sophie"})
    assert refused.status_code == 200
    assert refused.json()["status"] == "no_account"
    assert refused.json()["session"] is None


def test_an_account_deactivated_before_the_code_comes_back_is_not_linked(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = one_parent(educonnect, ec_service)
    add_identity(educonnect, ec_service)
    back = educonnect.post(LOGIN, json={"sub": "fc-sophie"}).json()
    code = last_code(educonnect, ec_service, "+33612345678")
    _deactivate(educonnect, ec_service)
    refused = educonnect.post(CONFIRM, json={"request_id": back["request_id"], "code": code})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    account = educonnect.get(f"/api/v1/accounts/{created['account_id']}", headers=ec_service).json()
    assert (account["state"], account["origin"]) == ("desactive", None)


def test_an_identity_linked_meanwhile_to_another_account_is_not_linked_twice(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    first = one_parent(educonnect, ec_service)
    add_identity(educonnect, ec_service)
    stale = educonnect.post(LOGIN, json={"sub": "fc-sophie"}).json()
    stale_code = last_code(educonnect, ec_service, "+33612345678")
    # ONDE corrects the first parent's name; another Sophie Martin arrives and links the identity.
    import_items(educonnect, ec_service, responsable(nom="Dupont"))
    second = import_items(educonnect, ec_service, responsable("102", mobile="+33622222222"))[0]
    back = educonnect.post(LOGIN, json={"sub": "fc-sophie"}).json()
    assert back["masked_mobile"] == "06 •• •• •• 22"
    code = last_code(educonnect, ec_service, "+33622222222")
    linked = educonnect.post(CONFIRM, json={"request_id": back["request_id"], "code": code})
    assert linked.status_code == 200, linked.text
    assert linked.json()["identifiant"] == second["identifiant"]
    refused = educonnect.post(CONFIRM, json={"request_id": stale["request_id"], "code": stale_code})
    assert refused.status_code == 422
    account = educonnect.get(f"/api/v1/accounts/{first['account_id']}", headers=ec_service).json()
    assert (account["state"], account["origin"]) == ("non_active", None)
