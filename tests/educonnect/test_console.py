"""The director console: letters (origin Etablissement), reset, unblock, attach, scope, stats."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.educonnect.factories import OTHER_SCHOOL, child, responsable
from tests.educonnect.helpers import (
    activate_by_sms,
    bearer,
    director,
    import_items,
    one_parent,
)


def test_letter_activation_forces_a_new_password_and_sets_origin_etablissement(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = one_parent(educonnect, ec_service, mobile=None)
    headers = director(educonnect, ec_service)
    letter = educonnect.post(
        f"/api/v1/console/accounts/{created['account_id']}/letter", headers=headers
    )
    assert letter.status_code == 200, letter.text
    body = letter.json()
    assert body["identifiant"] == created["identifiant"]
    assert body["temporary_password"] in body["text"]
    printed = educonnect.get(
        "/api/v1/outbox", params={"channel": "letter"}, headers=ec_service
    ).json()
    assert printed[-1]["body"] == body["text"]
    login = educonnect.post(
        "/api/v1/login",
        json={"identifiant": body["identifiant"], "password": body["temporary_password"]},
    ).json()
    assert login["step"] == "change_password"
    blocked = educonnect.get("/api/v1/me/proposals", headers=bearer(login))
    assert blocked.status_code == 409
    changed = educonnect.post(
        "/api/v1/me/password", json={"new_password": "Nouveau2026"}, headers=bearer(login)
    ).json()
    assert (changed["state"], changed["origin"], changed["step"]) == (
        "active",
        "Etablissement",
        "attachment",
    )
    reused = educonnect.post(
        "/api/v1/login",
        json={"identifiant": body["identifiant"], "password": body["temporary_password"]},
    )
    assert reused.status_code == 401
    fresh = educonnect.post(
        "/api/v1/login", json={"identifiant": body["identifiant"], "password": "Nouveau2026"}
    )
    assert fresh.status_code == 200


def test_a_letter_expires_after_three_months(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = one_parent(educonnect, ec_service)
    headers = director(educonnect, ec_service)
    body = educonnect.post(
        f"/api/v1/console/accounts/{created['account_id']}/letter", headers=headers
    ).json()
    educonnect.post("/api/v1/clock/advance", json={"seconds": 93 * 86400}, headers=ec_service)
    late = educonnect.post(
        "/api/v1/login",
        json={"identifiant": body["identifiant"], "password": body["temporary_password"]},
    )
    assert late.status_code == 401


def test_reset_of_a_self_activated_account_needs_confirmation(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = one_parent(educonnect, ec_service)
    activate_by_sms(educonnect, ec_service)
    headers = director(educonnect, ec_service)
    url = f"/api/v1/console/accounts/{created['account_id']}/reset-password"
    first = educonnect.post(url, json={}, headers=headers)
    assert first.status_code == 409
    # no body at all is no confirmation either, as for a letter (it was a 422 "body: Field
    # required" here, and worked for a letter)
    for path in ("reset-password", "letter"):
        bare = educonnect.post(url.replace("reset-password", path), headers=headers)
        assert bare.status_code == 409, (path, bare.text)
        assert bare.json()["code"] == first.json()["code"]
    assert first.json()["extra"]["origin"] == "Responsable"
    links = first.json()["extra"]["self_service"]
    assert set(links) == {"identifiant_oublie", "mot_de_passe_oublie"}
    paths = educonnect.get("/openapi.json").json()["paths"]
    posts = {path for path, operations in paths.items() if "post" in operations}
    assert {path for paths in links.values() for path in paths} <= posts  # real routes only
    confirmed = educonnect.post(url, json={"confirm": True}, headers=headers)
    assert confirmed.status_code == 200
    old = educonnect.post(
        "/api/v1/login", json={"identifiant": created["identifiant"], "password": "Soleil2026"}
    )
    assert old.status_code == 401
    new = educonnect.post(
        "/api/v1/login",
        json={
            "identifiant": created["identifiant"],
            "password": confirmed.json()["temporary_password"],
        },
    )
    assert new.json()["step"] == "change_password"


def test_unblock_proposes_the_child_again_at_the_next_login(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = one_parent(educonnect, ec_service)
    session = activate_by_sms(educonnect, ec_service)
    proposal = educonnect.get("/api/v1/me/proposals", headers=bearer(session)).json()[0]
    educonnect.post(
        f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm",
        json={"birth_date": "2010-01-01"},
        headers=bearer(session),
    )
    headers = director(educonnect, ec_service)
    detail = educonnect.get(
        f"/api/v1/console/accounts/{created['account_id']}", headers=headers
    ).json()
    assert detail["attachments"][0]["status"] == "blocked"
    assert detail["origin"] == "Responsable"
    assert detail["last_login_at"] is not None
    unblocked = educonnect.post(
        f"/api/v1/console/attachments/{proposal['attachment_id']}/unblock", headers=headers
    )
    assert unblocked.json()["status"] == "proposed"
    login = educonnect.post(
        "/api/v1/login", json={"identifiant": created["identifiant"], "password": "Soleil2026"}
    ).json()
    assert login["step"] == "attachment"
    again = educonnect.post(
        f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm",
        json={"birth_date": "2019-02-03"},
        headers=bearer(login),
    ).json()
    assert again["status"] == "attached"


def test_attach_by_hand(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    created = one_parent(educonnect, ec_service)
    headers = director(educonnect, ec_service)
    detail = educonnect.get(
        f"/api/v1/console/accounts/{created['account_id']}", headers=headers
    ).json()
    attachment_id = detail["attachments"][0]["id"]
    attached = educonnect.post(
        f"/api/v1/console/attachments/{attachment_id}/attach", headers=headers
    ).json()
    assert (attached["status"], attached["decided_by"]) == ("attached", "director")
    twice = educonnect.post(f"/api/v1/console/attachments/{attachment_id}/attach", headers=headers)
    assert twice.status_code == 409


def test_a_director_never_sees_another_schools_parents(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    ours = one_parent(educonnect, ec_service)
    theirs = import_items(
        educonnect,
        ec_service,
        responsable(
            "900",
            nom="Durand",
            prenom="Paul",
            mobile="+33711111111",
            school_uai=OTHER_SCHOOL,
            children=[child("77", school_uai=OTHER_SCHOOL)],
        ),
    )[0]
    headers = director(educonnect, ec_service)
    listed = educonnect.get("/api/v1/console/accounts", headers=headers).json()["items"]
    assert [a["id"] for a in listed] == [ours["account_id"]]
    for path in ("", "/letter"):
        method = educonnect.get if path == "" else educonnect.post
        refused = method(f"/api/v1/console/accounts/{theirs['account_id']}{path}", headers=headers)
        assert refused.status_code == 403
    other_detail = educonnect.get(f"/api/v1/accounts/{theirs['account_id']}", headers=ec_service)
    attachment_id = other_detail.json()["attachments"][0]["id"]
    refused = educonnect.post(
        f"/api/v1/console/attachments/{attachment_id}/attach", headers=headers
    )
    assert refused.status_code == 403
    assert (
        educonnect.get(f"/api/v1/accounts/{theirs['account_id']}", headers=ec_service).json()[
            "attachments"
        ][0]["status"]
        == "proposed"
    )
    assert educonnect.get("/api/v1/console/accounts").status_code == 401
    # A director's token is known, but opens the console only: 403 on the service's routes,
    # as ONDE answers (it was a 401, as for no token at all); a forged one stays a 401.
    for path in ("/api/v1/accounts", "/api/v1/faults", "/api/v1/outbox"):
        known = educonnect.get(path, headers=headers)
        assert known.status_code == 403, (path, known.text)
        assert "a director's token opens the console" in known.json()["detail"]
    forged = {"Authorization": headers["Authorization"][:-4] + "0000"}
    assert educonnect.get("/api/v1/accounts", headers=forged).status_code == 401


def test_search_and_stats(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    import_items(
        educonnect,
        ec_service,
        responsable("101"),
        responsable("102", nom="Lefèvre", prenom="Anne", mobile="+33611112222"),
        responsable("103", nom="Lefèvre", prenom="Marc", mobile=None),
    )
    activate_by_sms(educonnect, ec_service)
    headers = director(educonnect, ec_service)
    by_name = educonnect.get(
        "/api/v1/console/accounts", params={"nom": "lefevre"}, headers=headers
    ).json()["items"]
    assert sorted(a["prenom"] for a in by_name) == ["Anne", "Marc"]
    # the start of a name is enough, as in ONDE (it had to be the whole family name)
    by_start = educonnect.get(
        "/api/v1/console/accounts", params={"nom": "Lef", "prenom": "an"}, headers=headers
    ).json()["items"]
    assert [a["prenom"] for a in by_start] == ["Anne"]
    no_letter = educonnect.get("/api/v1/console/accounts", params={"nom": "--"}, headers=headers)
    assert no_letter.json()["items"] == []
    by_origin = educonnect.get(
        "/api/v1/console/accounts", params={"origin": "Responsable"}, headers=headers
    ).json()["items"]
    assert [a["nom"] for a in by_origin] == ["Martin"]
    stats = educonnect.get("/api/v1/console/stats", headers=headers).json()
    assert stats["accounts"] == 3
    assert stats["by_state"] == {"active": 1, "non_active": 2}
    assert stats["by_origin"] == {"Responsable": 1, "none": 2}
    assert stats["activation_rate"] == round(1 / 3, 4)


def test_search_by_first_name_class_state_and_email(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(
        educonnect,
        ec_service,
        responsable("101", email="sophie@example.org", children=[child("1", class_label="CP A")]),
        responsable(
            "102",
            nom="Durand",
            prenom="Paul",
            mobile="+33611112222",
            children=[child("2", class_label="CE1 B")],
        ),
    )
    activate_by_sms(educonnect, ec_service)
    headers = director(educonnect, ec_service)

    def names(**params: str) -> list[str]:
        found = educonnect.get("/api/v1/console/accounts", params=params, headers=headers)
        assert found.status_code == 200, found.text
        return sorted(a["prenom"] for a in found.json()["items"])

    assert names(prenom="paul") == ["Paul"]
    assert names(**{"class": "CP A"}) == ["Sophie"]
    assert names(state="non_active") == ["Paul"]
    assert names(email="SOPHIE@example.org") == ["Sophie"]
    assert names(nom="durand", prenom="sophie") == []
    # by identifiant, as the parent reads it to the school (the API ignored it: every account)
    paul = educonnect.get(
        "/api/v1/console/accounts", params={"prenom": "paul"}, headers=headers
    ).json()["items"][0]["identifiant"]
    assert names(identifiant=f" {paul.upper()} ") == ["Paul"]
    assert names(identifiant=paul, state="active") == []
    assert names(identifiant="x.inconnu99") == []
