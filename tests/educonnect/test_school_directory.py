"""EduConnect's school directory: `PUT /schools` (the sync), `GET /schools`, and how it names a
school (« École 0021593W » when it does not know it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from edusim_common.db import make_engine
from edusim_common.uai import make_uai
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.main import METADATA
from fake_educonnect.main import create_app as create_educonnect_app
from fake_educonnect.models import School
from fake_educonnect.service.schools import school_label
from tests.educonnect.factories import OTHER_SCHOOL, SCHOOL
from tests.educonnect.helpers import director

PROBLEM = "application/problem+json"
JAURES = {"uai": SCHOOL, "name": "École élémentaire Jean Jaurès", "commune": "Lille"}
MICHEL = {"uai": OTHER_SCHOOL, "name": "École maternelle Louise Michel", "commune": "Roubaix"}


def _put(client: TestClient, headers: dict[str, str], *items: dict[str, Any]) -> Any:
    return client.put("/api/v1/schools", json={"items": list(items)}, headers=headers)


def _listed(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/schools", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_put_adds_renames_and_is_idempotent(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    first = _put(educonnect, ec_service, JAURES, MICHEL)
    assert first.status_code == 200, first.text
    assert first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    stamped = {s["uai"]: s["updated_at"] for s in _listed(educonnect, ec_service)}
    again = _put(educonnect, ec_service, JAURES, MICHEL)
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 2}
    assert {s["uai"]: s["updated_at"] for s in _listed(educonnect, ec_service)} == stamped

    educonnect.put("/api/v1/clock", json={"now": "2026-09-05T08:00:00+02:00"}, headers=ec_service)
    renamed = _put(educonnect, ec_service, JAURES | {"commune": "Lille-Fives"})
    assert renamed.json() == {"created": 0, "updated": 1, "unchanged": 0}
    listed = _listed(educonnect, ec_service)
    assert [(s["uai"], s["name"], s["commune"]) for s in listed] == [
        (SCHOOL, "École élémentaire Jean Jaurès", "Lille-Fives"),
        (OTHER_SCHOOL, "École maternelle Louise Michel", "Roubaix"),
    ]
    assert listed[0]["updated_at"] != stamped[SCHOOL]  # renamed: its time moved
    assert listed[1]["updated_at"] == stamped[OTHER_SCHOOL]  # absent from the call: left alone


def test_get_lists_the_directory_page_by_page(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    _put(educonnect, ec_service, MICHEL, JAURES)
    first = educonnect.get("/api/v1/schools", params={"limit": 1}, headers=ec_service).json()
    assert [s["uai"] for s in first["items"]] == [SCHOOL]
    rest = _listed(educonnect, ec_service, limit=1, cursor=first["next_cursor"])
    assert [s["uai"] for s in rest] == [OTHER_SCHOOL]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"items": [JAURES | {"academie": "Lille"}]}, "academie"),  # strict: unknown field
        ({"items": [JAURES | {"uai": "0021593"}]}, "uai"),
        ({"items": [JAURES | {"uai": "0590401X"}]}, "wrong key letter: 0590401 takes 'R'"),
        ({"items": [JAURES | {"name": ""}]}, "name"),
        ({"items": [JAURES | {"name": "École\x00"}]}, "name"),
        ({"items": [{"uai": SCHOOL, "name": "École"}]}, "commune"),
        ({"items": [JAURES, JAURES | {"name": "Autre"}]}, "items"),  # one UAI twice
        ({"items": []}, "items"),
        ({"items": [JAURES], "dry_run": True}, "dry_run"),
        ([JAURES], "body"),
    ],
)
def test_a_malformed_body_is_a_422_problem_and_changes_nothing(
    educonnect: TestClient, ec_service: dict[str, str], body: Any, where: str
) -> None:
    refused = educonnect.put("/api/v1/schools", json=body, headers=ec_service)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert where in refused.text
    assert _listed(educonnect, ec_service) == []


def test_the_list_length_is_bounded(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    many = [JAURES | {"uai": make_uai(n)} for n in range(5001)]
    refused = educonnect.put("/api/v1/schools", json={"items": many}, headers=ec_service)
    assert refused.status_code == 422
    assert _put(educonnect, ec_service, *many[:5000]).json()["created"] == 5000


def test_the_directory_needs_the_service_token(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    console = director(educonnect, ec_service)
    for headers, status in (({}, 401), (console, 403), ({"Authorization": "Bearer not-it"}, 401)):
        put = _put(educonnect, headers, JAURES)
        got = educonnect.get("/api/v1/schools", headers=headers)
        for answer in (put, got):
            assert answer.status_code == status, answer.text
            assert answer.headers["content-type"].startswith(PROBLEM)
    assert _listed(educonnect, ec_service) == []


def test_the_route_is_documented_with_its_problems(educonnect: TestClient) -> None:
    paths = educonnect.get("/openapi.json").json()["paths"]
    put = paths["/api/v1/schools"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SchoolBatch"
    )
    for status in ("401", "422"):
        assert PROBLEM in put["responses"][status]["content"]
    assert "get" in paths["/api/v1/schools"]


def test_a_school_is_named_by_the_directory_or_by_its_uai() -> None:
    now = datetime(2026, 9, 1)
    jaures = School(
        uai=SCHOOL, name="École élémentaire Jean Jaurès", commune="Lille", updated_at=now
    )
    assert school_label(SCHOOL, jaures) == "École élémentaire Jean Jaurès, Lille"
    assert school_label(SCHOOL, jaures, with_uai=True) == (
        "École élémentaire Jean Jaurès, Lille (0021593W)"
    )
    # The commune only when the name does not already say it (whole words, accents aside).
    here = School(
        uai=SCHOOL, name="École primaire de Sainte-Rose", commune="SAINTE-ROSE", updated_at=now
    )
    assert school_label(SCHOOL, here) == "École primaire de Sainte-Rose"
    eu = School(uai=SCHOOL, name="École Eugène Varlin", commune="Eu", updated_at=now)
    assert school_label(SCHOOL, eu) == "École Eugène Varlin, Eu"
    assert school_label(SCHOOL, None) == "École 0021593W"
    assert school_label(SCHOOL, None, with_uai=True) == "École 0021593W"


def test_a_siecle_fixture_may_name_its_school(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    college = {"school_name": "Collège Jean Moulin", "school_commune": "Arras"}
    child = {
        "source_id": "S1", "ine": "0987654321K", "nom": "Martin", "prenoms": "Théo",
        "birth_date": "2013-05-06", "school_uai": "0620001P", "level": "5E",
    }  # fmt: skip
    unnamed = child | {"source_id": "S2", "school_uai": "0620002R"}
    body = {
        "items": [
            {"source_id": "s-1", "nom": "Martin", "prenom": "Sophie", "mobile": "+33612345678",
             "children": [child | college, unnamed]},
        ]
    }  # fmt: skip
    loaded = educonnect.post("/api/v1/fixtures/siecle", json=body, headers=ec_service)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["results"][0]["outcome"] == "created"
    listed = _listed(educonnect, ec_service)
    assert [(s["uai"], s["name"], s["commune"]) for s in listed] == [
        ("0620001P", "Collège Jean Moulin", "Arras")
    ]


@pytest.mark.usefixtures("db_url")
def test_a_database_of_an_older_version_gets_the_table_at_start(
    educonnect_settings: EduConnectSettings, ec_service: dict[str, str]
) -> None:
    """No migration: ``create_all`` makes the new table, and the schema check accepts the rest."""
    engine = make_engine(educonnect_settings.database_url)
    METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE school"))
    assert "school" not in inspect(engine).get_table_names()
    engine.dispose()
    with TestClient(create_educonnect_app(educonnect_settings)) as client:
        assert _put(client, ec_service, JAURES).status_code == 200
        assert [s["uai"] for s in _listed(client, ec_service)] == [SCHOOL]
