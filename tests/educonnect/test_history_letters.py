"""EduConnect's history says why a letter was printed, and what an overwritten state was."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import activate_by_sms, director, import_items, letter_for


def events(client: TestClient, service: dict[str, str]) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/history/sources/onde/101", headers=service)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["events"]
    return found


def test_letters_say_first_activation_or_reset_and_their_copy_is_folded_in(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    [item] = import_items(educonnect, ec_service, responsable(children=[child("1")]))
    letter_for(educonnect, ec_service, item["account_id"])
    activate_by_sms(educonnect, ec_service)
    reset = educonnect.post(
        f"/api/v1/console/accounts/{item['account_id']}/reset-password",
        json={"confirm": True},
        headers=director(educonnect, ec_service),
    )
    assert reset.status_code == 200, reset.text
    found = events(educonnect, ec_service)
    letters = [e["details"]["situation"] for e in found if e["kind"] == "letter_printed"]
    assert letters == ["first_activation", "reset"]
    channels = [e["details"]["channel"] for e in found if e["kind"] == "message"]
    assert "letter" not in channels  # each letter's outbox copy is its letter_printed
    assert "sms" in channels
    proposed = next(e for e in found if e["kind"] == "child_proposed")
    assert proposed["details"]["child_source"] == "onde"
