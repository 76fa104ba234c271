"""« Ajouter des élèves depuis un autre compte »: the same child on both accounts, and what a
merge never turns into an attachment (a block, a refusal)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import (
    activate_by_sms,
    bearer,
    director,
    import_items,
    letter_for,
)

OTHER_MOBILE = "+33799999999"


def _statuses(client: TestClient, service: dict[str, str], account_id: int) -> dict[str, str]:
    account = client.get(f"/api/v1/accounts/{account_id}", headers=service).json()
    return {a["child"]["prenoms"]: a["status"] for a in account["attachments"]}


def _two_accounts(
    client: TestClient, service: dict[str, str], mine: list[dict[str, Any]], other: list[Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two accounts of the same parent (homonyms by name, no shared mobile or email)."""
    first, second = import_items(
        client,
        service,
        responsable("101", children=mine),
        responsable("900", mobile=OTHER_MOBILE, children=other),
    )
    assert (first["outcome"], second["outcome"]) == ("created", "created")
    return first, second


def _log_in_with_a_letter(
    client: TestClient, service: dict[str, str], account: dict[str, Any]
) -> dict[str, Any]:
    letter = letter_for(client, service, account["account_id"])
    session: dict[str, Any] = client.post(
        "/api/v1/login",
        json={"identifiant": account["identifiant"], "password": letter["temporary_password"]},
    ).json()
    changed = client.post(
        "/api/v1/me/password", json={"new_password": "Autre2026x"}, headers=bearer(session)
    )
    assert changed.status_code == 200, changed.text
    return session


def _merge(
    client: TestClient, service: dict[str, str], session: dict[str, Any], other: dict[str, Any]
) -> Any:
    letter = letter_for(client, service, other["account_id"])
    return client.post(
        "/api/v1/me/merge",
        json={"identifiant": other["identifiant"], "password": letter["temporary_password"]},
        headers=bearer(session),
    )


def test_merging_an_account_that_holds_the_same_child(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    mine, other = _two_accounts(educonnect, ec_service, [child("1")], [child("1")])
    attachment = educonnect.get(
        f"/api/v1/accounts/{other['account_id']}", headers=ec_service
    ).json()["attachments"][0]
    attached = educonnect.post(
        f"/api/v1/console/attachments/{attachment['id']}/attach",
        headers=director(educonnect, ec_service),
    )
    assert attached.status_code == 200, attached.text
    session = activate_by_sms(educonnect, ec_service)
    merged = _merge(educonnect, ec_service, session, other)
    assert merged.status_code == 200, merged.text
    assert merged.json()["added"] == ["Léa Martin"]
    assert _statuses(educonnect, ec_service, mine["account_id"]) == {"Léa": "attached"}
    gone = educonnect.get(f"/api/v1/accounts/{other['account_id']}", headers=ec_service)
    assert gone.status_code == 404


def test_a_merge_keeps_blocks_and_refusals(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    mine, other = _two_accounts(
        educonnect,
        ec_service,
        [child("1")],
        [child("77", prenoms="Zoé"), child("78", prenoms="Noé"), child("79", prenoms="Théo")],
    )
    theirs = _log_in_with_a_letter(educonnect, ec_service, other)
    proposals = {
        p["prenoms"]: p["attachment_id"]
        for p in educonnect.get("/api/v1/me/proposals", headers=bearer(theirs)).json()
    }
    educonnect.post(
        f"/api/v1/me/proposals/{proposals['Zoé']}/confirm",
        json={"birth_date": "2000-01-01"},
        headers=bearer(theirs),
    )
    educonnect.post(f"/api/v1/me/proposals/{proposals['Noé']}/refuse", headers=bearer(theirs))
    assert _statuses(educonnect, ec_service, other["account_id"]) == {
        "Zoé": "blocked",
        "Noé": "refused",
        "Théo": "proposed",
    }
    session = activate_by_sms(educonnect, ec_service)
    merged = _merge(educonnect, ec_service, session, other)
    assert merged.status_code == 200, merged.text
    assert merged.json()["added"] == ["Théo Martin"]
    assert _statuses(educonnect, ec_service, mine["account_id"]) == {
        "Léa": "proposed",
        "Zoé": "blocked",
        "Noé": "refused",
        "Théo": "attached",
    }


def test_the_same_child_blocked_on_the_other_account_stays_blocked(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    mine, other = _two_accounts(educonnect, ec_service, [child("1")], [child("1")])
    theirs = _log_in_with_a_letter(educonnect, ec_service, other)
    proposal = educonnect.get("/api/v1/me/proposals", headers=bearer(theirs)).json()[0]
    educonnect.post(
        f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm",
        json={"birth_date": "2000-01-01"},
        headers=bearer(theirs),
    )
    session = activate_by_sms(educonnect, ec_service)
    mine_proposal = educonnect.get("/api/v1/me/proposals", headers=bearer(session)).json()[0]
    educonnect.post(
        f"/api/v1/me/proposals/{mine_proposal['attachment_id']}/confirm",
        json={"birth_date": "2019-02-03"},
        headers=bearer(session),
    )
    merged = _merge(educonnect, ec_service, session, other)
    assert merged.status_code == 200, merged.text
    assert merged.json()["added"] == []
    assert _statuses(educonnect, ec_service, mine["account_id"]) == {"Léa": "blocked"}


def test_the_identifiant_of_a_merged_away_account_is_never_given_again(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    _, other = _two_accounts(educonnect, ec_service, [child("1")], [child("2", prenoms="Zoé")])
    session = activate_by_sms(educonnect, ec_service)
    assert _merge(educonnect, ec_service, session, other).status_code == 200
    (homonym,) = import_items(
        educonnect, ec_service, responsable("901", mobile="+33788888888", children=[child("3")])
    )
    assert homonym["outcome"] == "created"
    assert homonym["identifiant"].startswith("s.martin")
    assert homonym["identifiant"] != other["identifiant"]
