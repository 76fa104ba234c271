"""Schools and classes: who may create and read them, validation, duplicates, deletion."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from fake_onde.auth import director_token
from fake_onde.identifiers import make_uai
from tests.conftest import DEMO_UAI, SECRET_KEY, make_school

OTHER_UAI = "0000001B"
SCHOOL = {"name": "École Jean Jaurès", "commune": "Lille", "academie": "Lille"}


def pupil_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nom": "Martin",
        "prenoms": "Léa",
        "sex": "F",
        "birth_date": "2019-02-03",
        "birth_place": "59350",
        "level": "CP",
    }
    body.update(fields)
    return body


def last_seq(client: TestClient, service: dict[str, str]) -> int:
    return int(client.get("/api/v1/changes", headers=service).json()["last_seq"])


def make_class(
    client: TestClient, headers: dict[str, str], label: str, levels: list[str], uai: str = DEMO_UAI
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/schools/{uai}/classes", json={"label": label, "levels": levels}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------- schools


def test_service_creates_a_school_and_gets_its_director_token(
    onde: TestClient, service: dict[str, str]
) -> None:
    response = onde.post("/api/v1/schools", json={"uai": "0021593w", **SCHOOL}, headers=service)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["uai"] == DEMO_UAI
    assert body["name"] == SCHOOL["name"]
    assert body["created_at"] == "2026-09-01T06:00:00Z"
    assert body["director_token"] == director_token(SECRET_KEY, DEMO_UAI)
    again = onde.get(f"/api/v1/schools/{DEMO_UAI}/director-token", headers=service)
    assert again.json()["director_token"] == body["director_token"]
    read = onde.get(
        f"/api/v1/schools/{DEMO_UAI}", headers={"Authorization": f"Bearer {body['director_token']}"}
    )
    assert read.status_code == 200
    assert read.json()["uai"] == DEMO_UAI
    assert "director_token" not in read.json()


def test_director_may_not_create_a_school(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    before = last_seq(onde, service)
    response = onde.post("/api/v1/schools", json={"uai": OTHER_UAI, **SCHOOL}, headers=director)
    assert response.status_code == 403
    assert onde.get(f"/api/v1/schools/{OTHER_UAI}", headers=service).status_code == 404
    assert last_seq(onde, service) == before


def test_director_may_not_read_director_tokens(onde: TestClient, director: dict[str, str]) -> None:
    response = onde.get(f"/api/v1/schools/{DEMO_UAI}/director-token", headers=director)
    assert response.status_code == 403


@pytest.mark.parametrize("uai", ["0021593A", "002159W", "ABCDEFGH", "", "0021593I"])
def test_invalid_uai_is_422_naming_body_uai(
    onde: TestClient, service: dict[str, str], uai: str
) -> None:
    response = onde.post("/api/v1/schools", json={"uai": uai, **SCHOOL}, headers=service)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["body.uai"]
    assert onde.get("/api/v1/schools", headers=service).json()["items"] == []


def test_wrong_key_letter_says_which_one(onde: TestClient, service: dict[str, str]) -> None:
    response = onde.post("/api/v1/schools", json={"uai": "0021593A", **SCHOOL}, headers=service)
    assert "'W'" in response.json()["errors"][0]["reason"]


@pytest.mark.parametrize("field", ["name", "commune", "academie"])
def test_empty_school_fields_are_refused(
    onde: TestClient, service: dict[str, str], field: str
) -> None:
    body = {"uai": DEMO_UAI, **SCHOOL, field: "   "}
    response = onde.post("/api/v1/schools", json=body, headers=service)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == f"body.{field}"


def test_duplicate_school_is_409(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    before = last_seq(onde, service)
    response = onde.post(
        "/api/v1/schools", json={"uai": DEMO_UAI, **SCHOOL, "name": "Autre"}, headers=service
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "body.uai"
    assert onde.get(f"/api/v1/schools/{DEMO_UAI}", headers=service).json()["name"] == SCHOOL["name"]
    assert last_seq(onde, service) == before


def test_director_token_works_only_for_its_school(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    other = make_school(onde, OTHER_UAI, name="École Pasteur")
    assert onde.get(f"/api/v1/schools/{DEMO_UAI}", headers=director).status_code == 200
    assert onde.get(f"/api/v1/schools/{OTHER_UAI}", headers=other).status_code == 200
    assert onde.get(f"/api/v1/schools/{OTHER_UAI}", headers=director).status_code == 403
    assert onde.get(f"/api/v1/schools/{DEMO_UAI}", headers=other).status_code == 403
    before = last_seq(onde, service)
    refused = onde.post(f"/api/v1/schools/{OTHER_UAI}/pupils", json=pupil_body(), headers=director)
    assert refused.status_code == 403
    refused = onde.post(
        f"/api/v1/schools/{OTHER_UAI}/classes",
        json={"label": "CP A", "levels": ["CP"]},
        headers=director,
    )
    assert refused.status_code == 403
    assert onde.get(f"/api/v1/schools/{OTHER_UAI}/classes", headers=director).status_code == 403
    assert last_seq(onde, service) == before


def test_director_sees_only_its_school_in_the_list(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    make_school(onde, OTHER_UAI)
    make_school(onde, "0000002C")
    mine = onde.get("/api/v1/schools", headers=director).json()
    assert [s["uai"] for s in mine["items"]] == [DEMO_UAI]
    everything = onde.get("/api/v1/schools", headers=service).json()
    assert [s["uai"] for s in everything["items"]] == sorted([DEMO_UAI, OTHER_UAI, "0000002C"])


def test_school_list_pages_by_uai(onde: TestClient, service: dict[str, str]) -> None:
    uais = sorted(make_uai(n) for n in range(1, 8))
    for uai in uais:
        make_school(onde, uai)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = onde.get("/api/v1/schools", params=params, headers=service).json()
        seen += [s["uai"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == uais


def test_unknown_school_is_404(onde: TestClient, service: dict[str, str]) -> None:
    assert onde.get(f"/api/v1/schools/{OTHER_UAI}", headers=service).status_code == 404
    response = onde.post(
        f"/api/v1/schools/{OTHER_UAI}/classes",
        json={"label": "CP", "levels": ["CP"]},
        headers=service,
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- classes


def test_create_and_list_classes(onde: TestClient, director: dict[str, str]) -> None:
    cp = make_class(onde, director, "CP Mme Martin", ["CP"])
    mixed = make_class(onde, director, "CE1-CE2 M. Durand", ["CE2", "CE1", "CE2"])
    assert cp["levels"] == ["CP"]
    assert cp["school_uai"] == DEMO_UAI
    assert mixed["levels"] == ["CE1", "CE2"]
    listed = onde.get(f"/api/v1/schools/{DEMO_UAI}/classes", headers=director).json()
    assert [c["label"] for c in listed] == ["CE1-CE2 M. Durand", "CP Mme Martin"]
    assert onde.get(f"/api/v1/classes/{cp['id']}", headers=director).json() == cp


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"label": "CP", "levels": []}, "body.levels"),
        ({"label": "CP", "levels": ["CM3"]}, "body.levels.0"),
        ({"label": "", "levels": ["CP"]}, "body.label"),
        ({"levels": ["CP"]}, "body.label"),
    ],
)
def test_invalid_class_is_422(
    onde: TestClient, director: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = onde.post(f"/api/v1/schools/{DEMO_UAI}/classes", json=body, headers=director)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_duplicate_class_label_is_409_but_fine_in_another_school(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    first = make_class(onde, director, "CP A", ["CP"])
    before = last_seq(onde, service)
    response = onde.post(
        f"/api/v1/schools/{DEMO_UAI}/classes",
        json={"label": "CP A", "levels": ["CE1"]},
        headers=director,
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "body.label"
    assert str(first["id"]) in response.json()["detail"]
    assert last_seq(onde, service) == before
    other = make_school(onde, OTHER_UAI)
    make_class(onde, other, "CP A", ["CP"], uai=OTHER_UAI)


def test_delete_an_empty_class(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    school_class = make_class(onde, director, "CP A", ["CP"])
    response = onde.delete(f"/api/v1/classes/{school_class['id']}", headers=director)
    assert response.status_code == 204
    assert onde.get(f"/api/v1/classes/{school_class['id']}", headers=director).status_code == 404
    last = onde.get("/api/v1/changes", headers=service).json()["items"][-1]
    assert (last["entity"], last["op"], last["entity_id"]) == (
        "class",
        "delete",
        str(school_class["id"]),
    )


def test_a_class_with_pupils_cannot_be_deleted(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    school_class = make_class(onde, director, "CP A", ["CP"])
    pupil = onde.post(
        f"/api/v1/schools/{DEMO_UAI}/pupils",
        json=pupil_body(class_id=school_class["id"]),
        headers=director,
    )
    assert pupil.status_code == 201, pupil.text
    before = last_seq(onde, service)
    response = onde.delete(f"/api/v1/classes/{school_class['id']}", headers=director)
    assert response.status_code == 409
    assert "1 pupil" in response.json()["detail"]
    assert onde.get(f"/api/v1/classes/{school_class['id']}", headers=director).status_code == 200
    assert last_seq(onde, service) == before
    # once the pupil has moved out, the class can go
    moved = onde.patch(
        f"/api/v1/pupils/{pupil.json()['id']}", json={"class_id": None}, headers=director
    )
    assert moved.json()["class_id"] is None
    assert onde.delete(f"/api/v1/classes/{school_class['id']}", headers=director).status_code == 204


def test_director_may_not_touch_another_schools_class(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    other = make_school(onde, OTHER_UAI)
    theirs = make_class(onde, other, "CP B", ["CP"], uai=OTHER_UAI)
    assert onde.get(f"/api/v1/classes/{theirs['id']}", headers=director).status_code == 403
    assert onde.delete(f"/api/v1/classes/{theirs['id']}", headers=director).status_code == 403
    assert onde.get(f"/api/v1/classes/{theirs['id']}", headers=service).status_code == 200


def test_pupil_level_must_be_taught_by_its_class(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    cp = make_class(onde, director, "CP A", ["CP"])
    ce = make_class(onde, director, "CE1-CE2", ["CE1", "CE2"])
    other = make_school(onde, OTHER_UAI)
    theirs = make_class(onde, other, "CP B", ["CP"], uai=OTHER_UAI)
    url = f"/api/v1/schools/{DEMO_UAI}/pupils"
    before = last_seq(onde, service)

    wrong_level = onde.post(url, json=pupil_body(class_id=ce["id"]), headers=director)
    assert wrong_level.status_code == 422
    assert wrong_level.json()["errors"][0]["field"] == "body.class_id"
    assert "CE1, CE2" in wrong_level.json()["errors"][0]["reason"]
    for class_id in (theirs["id"], 999_999):
        refused = onde.post(url, json=pupil_body(class_id=class_id), headers=director)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "body.class_id"
    assert last_seq(onde, service) == before

    pupil = onde.post(url, json=pupil_body(class_id=cp["id"]), headers=director).json()
    # a level change that leaves the class is refused, with the class change it is fine
    refused = onde.patch(f"/api/v1/pupils/{pupil['id']}", json={"level": "CE1"}, headers=director)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.class_id"
    assert onde.get(f"/api/v1/pupils/{pupil['id']}", headers=director).json()["level"] == "CP"
    moved = onde.patch(
        f"/api/v1/pupils/{pupil['id']}",
        json={"level": "CE1", "class_id": ce["id"]},
        headers=director,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["level"], moved.json()["class_id"]) == ("CE1", ce["id"])
