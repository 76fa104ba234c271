"""One account for all children (1D and 2D), merging accounts, and the explain diagnosis."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.educonnect.factories import OTHER_SCHOOL, child, responsable
from tests.educonnect.helpers import (
    activate_by_sms,
    bearer,
    director,
    import_items,
    letter_for,
    one_parent,
)

COLLEGE = "0590100N"


def _siecle_parent(client: TestClient, service: dict[str, str]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/fixtures/siecle",
        json={
            "items": [
                {
                    "source_id": "S-1",
                    "nom": "Martin",
                    "prenom": "Sophie",
                    "mobile": "+33612345678",
                    "email": "sophie@example.org",
                    "password": "College2025",
                    "children": [
                        {
                            "source_id": "E-1",
                            "ine": "123456789AB",
                            "nom": "Martin",
                            "prenoms": "Hugo",
                            "birth_date": "2013-06-01",
                            "school_uai": COLLEGE,
                            "level": "5E",
                        }
                    ],
                }
            ]
        },
        headers=service,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def test_a_2d_parent_needs_no_new_account_and_gets_the_1d_child_proposed(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    existing = _siecle_parent(educonnect, ec_service)
    account = educonnect.get(
        f"/api/v1/accounts/{existing['account_id']}", headers=ec_service
    ).json()
    assert (account["state"], [a["status"] for a in account["attachments"]]) == (
        "active",
        ["attached"],
    )
    onde = one_parent(educonnect, ec_service)
    assert onde["outcome"] == "matched"
    assert onde["account_id"] == existing["account_id"]
    login = educonnect.post(
        "/api/v1/login", json={"identifiant": existing["identifiant"], "password": "College2025"}
    ).json()
    assert login["step"] == "attachment"
    proposals = educonnect.get("/api/v1/me/proposals", headers=bearer(login)).json()
    assert [p["prenoms"] for p in proposals] == ["Léa"]
    children = educonnect.get("/api/v1/me/children", headers=bearer(login)).json()
    assert sorted((c["child"]["prenoms"], c["child"]["degree"]) for c in children) == [
        ("Hugo", "2D"),
        ("Léa", "1D"),
    ]


def test_merge_another_account_with_its_letter(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    mine = one_parent(educonnect, ec_service)
    other = import_items(
        educonnect,
        ec_service,
        responsable(
            "900",
            mobile="+33799999999",
            school_uai=OTHER_SCHOOL,
            children=[child("77", prenoms="Zoé", school_uai=OTHER_SCHOOL)],
        ),
    )[0]
    assert other["outcome"] == "created"
    letter = letter_for(educonnect, ec_service, other["account_id"], OTHER_SCHOOL)
    session = activate_by_sms(educonnect, ec_service)
    wrong = educonnect.post(
        "/api/v1/me/merge",
        json={"identifiant": other["identifiant"], "password": "NotTheLetter1"},
        headers=bearer(session),
    )
    assert wrong.status_code == 422
    merged = educonnect.post(
        "/api/v1/me/merge",
        json={"identifiant": other["identifiant"], "password": letter["temporary_password"]},
        headers=bearer(session),
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["added"] == ["Zoé Martin"]
    account = educonnect.get(f"/api/v1/accounts/{mine['account_id']}", headers=ec_service).json()
    assert sorted(s["source_id"] for s in account["sources"]) == ["101", "900"]
    assert (
        educonnect.get(f"/api/v1/accounts/{other['account_id']}", headers=ec_service).status_code
        == 404
    )


def test_merge_needs_identical_names(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    one_parent(educonnect, ec_service)
    other = import_items(
        educonnect,
        ec_service,
        responsable("900", prenom="Sophia", mobile="+33799999999", children=[child("77")]),
    )[0]
    letter = letter_for(educonnect, ec_service, other["account_id"])
    session = activate_by_sms(educonnect, ec_service)
    refused = educonnect.post(
        "/api/v1/me/merge",
        json={"identifiant": other["identifiant"], "password": letter["temporary_password"]},
        headers=bearer(session),
    )
    assert refused.status_code == 409
    assert "Sophia" in refused.json()["detail"]


def _codes(client: TestClient, service: dict[str, str], **params: str) -> list[str]:
    body = client.get("/api/v1/explain", params=params, headers=service).json()
    return [s["code"] for s in body["statements"]]


def test_explain_turns_the_faq_into_a_diagnosis(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    assert _codes(educonnect, ec_service, source_id="555") == ["not_synchronised"]
    import_items(
        educonnect,
        ec_service,
        responsable("201", children=[child(lien="famille_accueil", autorite_parentale=False)]),
        responsable("101", mobile=None),
    )
    foster = educonnect.get(
        "/api/v1/explain", params={"source_id": "201"}, headers=ec_service
    ).json()
    assert foster["statements"][0]["code"] == "excluded"
    assert "Personnel Collectivité et Invité" in foster["statements"][0]["text"]
    assert _codes(educonnect, ec_service, source_id="101") == [
        "non_active",
        "no_mobile",
        "proposed",
    ]
    import_items(educonnect, ec_service, responsable("101"))
    session = activate_by_sms(educonnect, ec_service)
    proposal = educonnect.get("/api/v1/me/proposals", headers=bearer(session)).json()[0]
    educonnect.post(
        f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm",
        json={"birth_date": "2000-01-01"},
        headers=bearer(session),
    )
    by_identifiant = _codes(educonnect, ec_service, identifiant=session["identifiant"])
    assert by_identifiant == ["active", "self_activated", "blocked"]
    account_id = educonnect.get(
        "/api/v1/accounts", params={"identifiant": session["identifiant"]}, headers=ec_service
    ).json()["items"][0]["id"]
    console = educonnect.get(
        f"/api/v1/console/accounts/{account_id}/explain", headers=director(educonnect, ec_service)
    ).json()
    blocked = console["statements"][-1]
    assert "Léa" in blocked["text"]
    assert "unblock" in blocked["text"]
