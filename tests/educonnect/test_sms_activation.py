"""Activation by SMS (origin Responsable), first login attachment, uniform answers, code rules."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import activate_by_sms, bearer, import_items, last_code, one_parent

START = "/api/v1/activation/sms"
CONFIRM = "/api/v1/activation/sms/confirm"


def test_sms_activation_then_attachment_with_right_and_wrong_dates(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(
        educonnect,
        ec_service,
        responsable(children=[child("1"), child("2", prenoms="Tom", birth_date="2016-07-08")]),
    )[0]
    session = activate_by_sms(educonnect, ec_service)
    assert session["identifiant"] == created["identifiant"]
    assert session["step"] == "attachment"
    account = educonnect.get(f"/api/v1/accounts/{created['account_id']}", headers=ec_service).json()
    assert (account["state"], account["origin"]) == ("active", "Responsable")
    assert account["activated_at"] is not None
    headers = bearer(session)
    proposals = educonnect.get("/api/v1/me/proposals", headers=headers).json()
    assert sorted(p["prenoms"] for p in proposals) == ["Léa", "Tom"]
    by_name = {p["prenoms"]: p["attachment_id"] for p in proposals}
    right = educonnect.post(
        f"/api/v1/me/proposals/{by_name['Léa']}/confirm",
        json={"birth_date": "2019-02-03"},
        headers=headers,
    ).json()
    assert (right["decision"], right["status"], right["step"]) == (
        "attached",
        "attached",
        "attachment",
    )
    wrong = educonnect.post(
        f"/api/v1/me/proposals/{by_name['Tom']}/confirm",
        json={"birth_date": "2016-07-09"},
        headers=headers,
    ).json()
    assert (wrong["decision"], wrong["status"], wrong["tries_left"]) == ("blocked", "blocked", 0)
    assert wrong["step"] is None
    children = educonnect.get("/api/v1/me/children", headers=headers).json()
    assert {c["child"]["prenoms"]: c["status"] for c in children} == {
        "Léa": "attached",
        "Tom": "blocked",
    }
    again = educonnect.post(
        f"/api/v1/me/proposals/{by_name['Tom']}/confirm",
        json={"birth_date": "2016-07-08"},
        headers=headers,
    )
    assert again.status_code == 404


def test_proposals_are_presented_at_one_login_only(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    session = activate_by_sms(educonnect, ec_service)
    assert session["step"] == "attachment"
    login = educonnect.post(
        "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Soleil2026"}
    )
    assert login.status_code == 200, login.text
    assert login.json()["step"] is None
    assert educonnect.get("/api/v1/me/proposals", headers=bearer(login.json())).json() == []


def test_a_new_child_after_the_sync_is_proposed_at_the_next_login(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    session = activate_by_sms(educonnect, ec_service)
    proposal = educonnect.get("/api/v1/me/proposals", headers=bearer(session)).json()[0]
    educonnect.post(
        f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm",
        json={"birth_date": "2019-02-03"},
        headers=bearer(session),
    )
    import_items(
        educonnect,
        ec_service,
        responsable(children=[child("1"), child("9", prenoms="Zoé", level="PS")]),
    )
    login = educonnect.post(
        "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Soleil2026"}
    ).json()
    assert login["step"] == "attachment"
    proposals = educonnect.get("/api/v1/me/proposals", headers=bearer(login)).json()
    assert [p["prenoms"] for p in proposals] == ["Zoé"]


def test_not_the_legal_representative_refuses_and_tells_the_school(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    session = activate_by_sms(educonnect, ec_service)
    proposal = educonnect.get("/api/v1/me/proposals", headers=bearer(session)).json()[0]
    refused = educonnect.post(
        f"/api/v1/me/proposals/{proposal['attachment_id']}/refuse", headers=bearer(session)
    ).json()
    assert (refused["status"], refused["step"]) == ("refused", None)
    to_school = educonnect.get(
        "/api/v1/outbox", params={"channel": "school"}, headers=ec_service
    ).json()
    assert len(to_school) == 1
    assert to_school[0]["recipient"] == "0021593W"
    assert "Léa" in to_school[0]["body"]


def test_the_answer_is_the_same_whether_or_not_an_account_matches(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    known = educonnect.post(
        START, json={"nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"}
    )
    unknown = educonnect.post(
        START, json={"nom": "Martin", "prenom": "Sophie", "mobile": "0699999999"}
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json()["message"] == unknown.json()["message"]
    assert len(known.json()["request_id"]) == len(unknown.json()["request_id"])
    assert (
        educonnect.get(
            "/api/v1/outbox", params={"recipient": "+33699999999"}, headers=ec_service
        ).json()
        == []
    )
    wrong = educonnect.post(
        CONFIRM,
        json={
            "request_id": unknown.json()["request_id"],
            "code": "123456",
            "password": "Soleil2026",
        },
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "body.code"


def test_a_parent_without_mobile_in_onde_cannot_activate_by_sms(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service, mobile=None)
    started = educonnect.post(
        START, json={"nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"}
    )
    assert started.status_code == 202
    assert educonnect.get("/api/v1/outbox", headers=ec_service).json() == []


def test_a_code_dies_after_three_wrong_tries(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    started = educonnect.post(
        START, json={"nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"}
    ).json()
    code = last_code(educonnect, ec_service, "+33612345678")
    wrong_code = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):
        attempt = educonnect.post(
            CONFIRM,
            json={
                "request_id": started["request_id"],
                "code": wrong_code,
                "password": "Soleil2026",
            },
        )
        assert attempt.status_code == 422
    late = educonnect.post(
        CONFIRM, json={"request_id": started["request_id"], "code": code, "password": "Soleil2026"}
    )
    assert late.status_code == 422


def test_a_code_expires_after_15_minutes_on_the_simulated_clock(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    started = educonnect.post(
        START, json={"nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"}
    ).json()
    code = last_code(educonnect, ec_service, "+33612345678")
    moved = educonnect.post("/api/v1/clock/advance", json={"seconds": 15 * 60}, headers=ec_service)
    assert moved.status_code == 200
    late = educonnect.post(
        CONFIRM, json={"request_id": started["request_id"], "code": code, "password": "Soleil2026"}
    )
    assert late.status_code == 422


def test_a_weak_password_is_refused_without_spending_the_code(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    started = educonnect.post(
        START, json={"nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"}
    ).json()
    code = last_code(educonnect, ec_service, "+33612345678")
    for password in ("short", "Soleilété²", "Soleil٢٠٢٦"):  # superscript, Arabic-Indic digits
        weak = educonnect.post(
            CONFIRM, json={"request_id": started["request_id"], "code": code, "password": password}
        )
        assert weak.status_code == 422, password
        assert weak.json()["errors"][0]["field"] == "body.password"
    good = educonnect.post(
        CONFIRM, json={"request_id": started["request_id"], "code": code, "password": "Soleil2026"}
    )
    assert good.status_code == 200


def test_login_failures_are_uniform_and_limited(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)
    session = activate_by_sms(educonnect, ec_service)
    unknown = educonnect.post(
        "/api/v1/login", json={"identifiant": "x.nobody00", "password": "Abc12345"}
    )
    wrong = educonnect.post(
        "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Wrong1234"}
    )
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]
    for _ in range(4):
        educonnect.post(
            "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Wrong1234"}
        )
    blocked = educonnect.post(
        "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Soleil2026"}
    )
    assert blocked.status_code == 429
    educonnect.post("/api/v1/clock/advance", json={"seconds": 16 * 60}, headers=ec_service)
    after = educonnect.post(
        "/api/v1/login", json={"identifiant": session["identifiant"], "password": "Soleil2026"}
    )
    assert after.status_code == 200


def test_the_outbox_finds_a_mobile_however_it_is_written(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    one_parent(educonnect, ec_service)  # mobile +33612345678
    educonnect.post(
        "/api/v1/activation/sms",
        json={"nom": "Martin", "prenom": "Sophie", "mobile": "06 12 34 56 78"},
    )
    for written in ("+33612345678", "06 12 34 56 78", "0612345678", "+33 6 12 34 56 78"):
        found = educonnect.get(
            "/api/v1/outbox", params={"recipient": written}, headers=ec_service
        ).json()
        assert [(m["channel"], m["recipient"]) for m in found] == [("sms", "+33612345678")]
    none = educonnect.get("/api/v1/outbox", params={"recipient": "06 99"}, headers=ec_service)
    assert none.json() == []
