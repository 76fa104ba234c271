"""Input that once slipped through: names whose folded keys are longer than the name, and
identifiers written with non-ASCII digits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.educonnect.factories import OTHER_SCHOOL, SCHOOL, child, responsable
from tests.educonnect.helpers import activate_by_sms, director, import_items

# 80 characters each (the longest name), each folding to more than 80 (ß -> ss, ﬃ -> ffi).
LONG_NAMES = ["ﬃ" * 80, "ß" * 80, "ẞ" * 80, "Éﬃ-ß " * 16]
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("name", LONG_NAMES, ids=["ffi", "sharp-s", "capital-sharp-s", "mixed"])
def test_names_that_grow_when_folded_get_one_account(
    educonnect: TestClient, ec_service: dict[str, str], name: str
) -> None:
    assert len(name) == 80
    first = responsable("101", nom=name, prenom=name, children=[child("1", nom=name)])
    other = responsable(
        "907",
        nom=name,
        prenom=name,
        school_uai=OTHER_SCHOOL,
        children=[child("2", nom=name, school_uai=OTHER_SCHOOL)],
    )
    created, matched = import_items(educonnect, ec_service, first, other)
    assert (created["outcome"], matched["outcome"]) == ("created", "matched")
    assert matched["account_id"] == created["account_id"]
    again = import_items(educonnect, ec_service, first, other)
    assert [r["outcome"] for r in again] == ["unchanged", "unchanged"]
    found = educonnect.get(
        "/api/v1/console/accounts",
        params={"nom": name, "prenom": name},
        headers=director(educonnect, ec_service, SCHOOL),
    )
    assert found.status_code == 200, found.text
    assert [a["id"] for a in found.json()["items"]] == [created["account_id"]]
    session = activate_by_sms(educonnect, ec_service, nom=name, prenom=name)
    assert session["identifiant"] == created["identifiant"]


def test_identifiers_with_non_ascii_digits_are_refused(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    for item in (
        responsable(school_uai=SCHOOL.translate(ARABIC_INDIC)),
        responsable(mobile="+33612345678".translate(ARABIC_INDIC)),
        responsable(children=[child(school_uai=SCHOOL.translate(ARABIC_INDIC))]),
    ):
        refused = educonnect.post(
            "/api/v1/import/responsables", json={"items": [item]}, headers=ec_service
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    token = educonnect.get(
        f"/api/v1/schools/{SCHOOL.translate(ARABIC_INDIC)}/director-token", headers=ec_service
    )
    assert token.status_code == 422, token.text
    wrong_key = educonnect.get("/api/v1/schools/0590401X/director-token", headers=ec_service)
    assert wrong_key.status_code == 422, wrong_key.text
    assert "wrong key letter: 0590401 takes 'R'" in wrong_key.json()["detail"]
    code = educonnect.post(
        "/api/v1/activation/sms/confirm",
        json={
            "request_id": "x" * 20,
            "code": "123456".translate(ARABIC_INDIC),
            "password": "Soleil2026",
        },
    )
    assert code.status_code == 422, code.text
    assert educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"] == []
