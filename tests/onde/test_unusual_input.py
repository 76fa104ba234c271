"""Input that once slipped through: names whose folded keys are longer than the name, and
identifiers written with non-ASCII digits."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from fake_onde.identifiers import make_ine, make_uai, normalize_ine, normalize_insee, normalize_uai
from tests.conftest import DEMO_UAI, make_school

# 80 characters each (the longest name), each folding to more than 80 (ß -> ss, ﬃ -> ffi, ...).
LONG_NAMES = ["ﬃ" * 80, "ß" * 80, "ẞ" * 80, "ﷺ" * 80, "Éﬃ-ß " * 16]
PUPILS = f"/api/v1/schools/{DEMO_UAI}/pupils"
RESPONSABLES = f"/api/v1/schools/{DEMO_UAI}/responsables"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _pupil(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nom": "Martin",
        "prenoms": "Léa",
        "sex": "F",
        "birth_date": "2019-02-03",
        "birth_place": "59350",
        "level": "CP",
        "state": "admis",
    }
    body.update(fields)
    return body


@pytest.mark.parametrize(
    "name", LONG_NAMES, ids=["ffi", "sharp-s", "capital-sharp-s", "arabic-ligature", "mixed"]
)
def test_names_that_grow_when_folded_are_stored_found_and_checked(
    onde: TestClient, director: dict[str, str], name: str
) -> None:
    assert len(name) == 80
    created = onde.post(PUPILS, json=_pupil(nom=name, prenoms=name), headers=director)
    assert created.status_code == 201, created.text
    twin = onde.post(PUPILS, json=_pupil(nom=name, prenoms=name), headers=director)
    assert twin.status_code == 409, twin.text
    found = onde.get("/api/v1/pupils", params={"name": name[:3]}, headers=director).json()
    assert [p["id"] for p in found["items"]] == [created.json()["id"]]
    parent = onde.post(
        RESPONSABLES, json={"civility": "MME", "nom": name, "prenom": name}, headers=director
    )
    assert parent.status_code == 201, parent.text
    renamed = onde.patch(
        f"/api/v1/responsables/{parent.json()['id']}", json={"nom": name[::-1]}, headers=director
    )
    assert renamed.status_code == 200, renamed.text
    listed = onde.get("/api/v1/responsables", params={"name": name}, headers=director).json()
    assert [r["id"] for r in listed["items"]] == [parent.json()["id"]]


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULLWIDTH], ids=["arabic-indic", "fullwidth"])
def test_identifiers_take_ascii_digits_only(digits: dict[int, str]) -> None:
    for check, value in (
        (normalize_uai, "0021593W"),
        (normalize_ine, make_ine(123456789)),
        (normalize_insee, "59350"),
        (normalize_insee, "2A004"),
    ):
        assert check(value) == value
        with pytest.raises(ValueError, match="digits"):
            check(value.translate(digits))


def test_the_api_refuses_identifiers_with_non_ascii_digits(
    onde: TestClient, service: dict[str, str], director: dict[str, str]
) -> None:
    school = {"name": "École", "commune": "Lille", "academie": "Lille"}
    refused = onde.post(
        "/api/v1/schools",
        json={"uai": "0021593W".translate(ARABIC_INDIC), **school},
        headers=service,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    bad_place = onde.post(PUPILS, json=_pupil(birth_place="٥٩٣٥٠"), headers=director)
    assert bad_place.status_code == 422, bad_place.text
    bad_ine = onde.post(
        PUPILS, json=_pupil(ine=make_ine(42).translate(FULLWIDTH)), headers=director
    )
    assert bad_ine.status_code == 422, bad_ine.text
    bad_postcode = onde.post(
        RESPONSABLES,
        json={
            "civility": "MME",
            "nom": "Martin",
            "prenom": "Sophie",
            "address": {"line1": "1 rue", "postal_code": "٥٩٠٠٠", "city": "Lille"},
        },
        headers=director,
    )
    assert bad_postcode.status_code == 422, bad_postcode.text
    assert make_school(onde, make_uai(590001))  # ASCII digits still work
