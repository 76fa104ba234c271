"""A merged-away account leaves nothing behind under its id: a later account may get that id (the
import numbers new accounts after the highest id), and must not inherit the old one's messages."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import activate_by_sms, bearer, import_items, letter_for


def _message_subjects(client: TestClient, service: dict[str, str], source_id: str) -> list[Any]:
    history = client.get(f"/api/v1/history/sources/onde/{source_id}", headers=service)
    assert history.status_code == 200, history.text
    return [e["details"]["subject"] for e in history.json()["events"] if e["kind"] == "message"]


def test_the_messages_of_a_merged_account_follow_it(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    _, other = import_items(
        educonnect,
        ec_service,
        responsable("101", children=[child("1")]),
        responsable("900", mobile="+33799999999", children=[child("2", prenoms="Hugo")]),
    )
    session = activate_by_sms(educonnect, ec_service)
    letter = letter_for(educonnect, ec_service, other["account_id"])
    merged = educonnect.post(
        "/api/v1/me/merge",
        json={"identifiant": other["identifiant"], "password": letter["temporary_password"]},
        headers=bearer(session),
    )
    assert merged.status_code == 200, merged.text
    # The letter that proved the other account is now in the surviving account's history.
    assert "Notification de compte EduConnect" in _message_subjects(educonnect, ec_service, "101")

    newcomer = import_items(
        educonnect,
        ec_service,
        responsable(
            "102",
            nom="Durand",
            prenom="Paul",
            mobile="+33698765432",
            children=[child("3", nom="Durand", prenoms="Noé", lien="pere")],
        ),
    )[0]
    assert newcomer["outcome"] == "created"
    # (today the import numbers it after the highest id left: the merged-away account's id)
    assert _message_subjects(educonnect, ec_service, "102") == []
    outbox = educonnect.get(
        "/api/v1/outbox", params={"recipient": "Sophie Martin"}, headers=ec_service
    ).json()
    assert all(m["account_id"] != newcomer["account_id"] for m in outbox)
