"""GET /history/sources/{source}/{id}: an account's life rebuilt from what EduConnect stores."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import activate_by_sms, bearer, director, import_items


def history(client: TestClient, service: dict[str, str], source_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/history/sources/onde/{source_id}", headers=service)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def kinds(body: dict[str, Any]) -> list[str]:
    return [event["kind"] for event in body["events"]]


def test_unknown_source_is_not_synchronised_yet(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    body = history(educonnect, ec_service, "999")
    assert body["account"] is None
    assert body["events"] == []
    assert [s["code"] for s in body["explanation"]] == ["not_synchronised"]
    assert "the night's sync, on D+1" in body["explanation"][0]["text"]
    siecle = educonnect.get("/api/v1/history/sources/siecle/999", headers=ec_service).json()
    [statement] = siecle["explanation"]
    assert statement["code"] == "not_synchronised"
    assert "SIECLE" in statement["text"]
    assert "ONDE on day D" not in statement["text"]  # it said so of a SIECLE record


def test_excluded_foster_family_says_why(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(educonnect, ec_service, responsable(children=[child(lien="famille_accueil")]))
    body = history(educonnect, ec_service, "101")
    assert body["account"] is None
    assert kinds(body) == ["excluded"]
    assert "foster family" in body["excluded_reason"]
    assert body["explanation"][0]["code"] == "excluded"


def test_a_whole_life_in_order(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    import_items(
        educonnect,
        ec_service,
        responsable(children=[child("1"), child("2", prenoms="Tom", birth_date="2017-05-06")]),
    )
    created = history(educonnect, ec_service, "101")
    assert kinds(created) == ["account_created", "child_proposed", "child_proposed"]
    assert created["account"]["state"] == "non_active"
    assert created["first_login_at"] is None

    session = activate_by_sms(educonnect, ec_service)
    proposals = educonnect.get("/api/v1/me/proposals", headers=bearer(session)).json()
    by_name = {p["prenoms"]: p["attachment_id"] for p in proposals}
    educonnect.post(
        f"/api/v1/me/proposals/{by_name['Léa']}/confirm",
        json={"birth_date": "2019-02-03"},
        headers=bearer(session),
    )
    educonnect.post(
        f"/api/v1/me/proposals/{by_name['Tom']}/confirm",
        json={"birth_date": "2001-01-01"},
        headers=bearer(session),
    )
    body = history(educonnect, ec_service, "101")
    found = kinds(body)
    assert found.index("account_created") < found.index("message") < found.index("activated")
    assert found.index("activated") <= found.index("first_login")
    assert "child_attached" in found
    assert "child_blocked" in found
    activated = next(e for e in body["events"] if e["kind"] == "activated")
    assert activated["details"]["origin"] == "Responsable"
    blocked = next(e for e in body["events"] if e["kind"] == "child_blocked")
    assert blocked["details"]["child"] == "Tom Martin"
    assert blocked["details"]["via_this_source"] is True
    assert body["first_login_at"] is not None
    codes = [s["code"] for s in body["explanation"]]
    assert "blocked" in codes
    assert "attached" in codes

    educonnect.post(
        f"/api/v1/console/attachments/{by_name['Tom']}/unblock",
        headers=director(educonnect, ec_service),
    )
    after = history(educonnect, ec_service, "101")
    unblocked = next(e for e in after["events"] if e["kind"] == "child_unblocked")
    assert unblocked["details"]["by"] == "director"
    assert "child_blocked" not in kinds(after)  # overwritten: EduConnect keeps no event log


def test_needs_the_service_token_and_refuses_garbage(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    assert educonnect.get("/api/v1/history/sources/onde/101").status_code == 401
    bad = educonnect.get("/api/v1/history/sources/onde/a%20b", headers=ec_service)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    unknown = educonnect.get("/api/v1/history/sources/nope/1", headers=ec_service)
    assert unknown.status_code == 422
    assert (
        "/api/v1/history/sources/{source}/{source_id}"
        in educonnect.get("/openapi.json").json()["paths"]
    )
