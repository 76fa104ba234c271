"""The number of birth-date tries is a setting (default 1): with 2, one mistake is forgiven."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fake_educonnect.config import EduConnectSettings
from fake_educonnect.main import create_app
from tests.educonnect.helpers import activate_by_sms, bearer, one_parent


@pytest.fixture
def lenient(educonnect_settings: EduConnectSettings) -> Iterator[TestClient]:
    settings = educonnect_settings.model_copy(update={"birthdate_tries": 2})
    with TestClient(create_app(settings)) as client:
        yield client


def test_two_tries_then_blocked(lenient: TestClient, ec_service: dict[str, str]) -> None:
    one_parent(lenient, ec_service)
    session = activate_by_sms(lenient, ec_service)
    proposal = lenient.get("/api/v1/me/proposals", headers=bearer(session)).json()[0]
    assert proposal["tries_left"] == 2
    url = f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm"
    first = lenient.post(url, json={"birth_date": "2019-02-04"}, headers=bearer(session)).json()
    assert (first["decision"], first["status"], first["tries_left"]) == (
        "wrong_date",
        "proposed",
        1,
    )
    assert first["step"] == "attachment"
    second = lenient.post(url, json={"birth_date": "2019-02-05"}, headers=bearer(session)).json()
    assert (second["decision"], second["status"]) == ("blocked", "blocked")


def test_two_tries_then_right(lenient: TestClient, ec_service: dict[str, str]) -> None:
    one_parent(lenient, ec_service)
    session = activate_by_sms(lenient, ec_service)
    proposal = lenient.get("/api/v1/me/proposals", headers=bearer(session)).json()[0]
    url = f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm"
    lenient.post(url, json={"birth_date": "2019-02-04"}, headers=bearer(session))
    right = lenient.post(url, json={"birth_date": "2019-02-03"}, headers=bearer(session)).json()
    assert right["status"] == "attached"
