"""The data generator: reproducible, valid, realistic, readable through the API, append-safe."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import EmailStr, TypeAdapter
from sqlalchemy import Engine, Table, create_engine, select, text

from edusim_common.db import make_engine
from edusim_common.types import PersonName
from fake_onde.identifiers import normalize_ine, normalize_insee, normalize_phone, normalize_uai
from fake_onde.models import OndeModel
from fake_onde.seed import (
    CHANGE_TABLE,
    CLASS_TABLE,
    COMPANION_UAI,
    DEMO_UAI,
    LINK_TABLE,
    PUPIL_TABLE,
    RESPONSABLE_TABLE,
    SCHOOL_TABLE,
    seed_database,
    seed_demo_school,
)
from fake_onde.service.pupils import identity_key
from tests.conftest import PG_URL_ENV

NOW = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
TABLES: tuple[Table, ...] = (
    SCHOOL_TABLE,
    CLASS_TABLE,
    PUPIL_TABLE,
    RESPONSABLE_TABLE,
    LINK_TABLE,
    CHANGE_TABLE,
)
LEVEL_AGE = {"TPS": 2, "PS": 3, "MS": 4, "GS": 5, "CP": 6, "CE1": 7, "CE2": 8, "CM1": 9, "CM2": 10}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The test's database with ONDE's tables."""
    engine = make_engine(db_url)
    OndeModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _rows(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    order = next(iter(table.primary_key))
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(table).order_by(order))]


def _all(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    return {table.name: _rows(engine, table) for table in TABLES}


def _second_database(tmp_path: Path, db_url: str) -> Iterator[Engine]:
    if db_url.startswith("sqlite"):
        other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
        OndeModel.metadata.create_all(other)
        yield other
        other.dispose()
        return
    import os
    import uuid

    base = os.environ[PG_URL_ENV]
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    other = make_engine(f"{base}{separator}options=-csearch_path%3D{schema}")
    OndeModel.metadata.create_all(other)
    try:
        yield other
    finally:
        other.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def other_engine(tmp_path: Path, db_url: str) -> Iterator[Engine]:
    """A second, empty database of the same kind."""
    yield from _second_database(tmp_path, db_url)


def test_same_seed_same_rows_and_another_seed_other_rows(
    engine: Engine, other_engine: Engine, tmp_path: Path
) -> None:
    first = seed_database(engine, schools=2, pupils=300, seed=7, now=NOW)
    again = seed_database(other_engine, schools=2, pupils=300, seed=7, now=NOW)
    assert first.pupils == again.pupils == 300
    assert _all(engine) == _all(other_engine)

    different = make_engine(f"sqlite:///{tmp_path / 'different.db'}")
    OndeModel.metadata.create_all(different)
    seed_database(different, schools=2, pupils=300, seed=8, now=NOW)
    names = {row[2:4] for row in _rows(engine, PUPIL_TABLE)}
    other_names = {row[2:4] for row in _rows(different, PUPIL_TABLE)}
    assert names != other_names
    different.dispose()


def test_counts_ratios_and_one_create_per_row(engine: Engine) -> None:
    progressed: list[int] = []
    report = seed_database(
        engine, schools=3, pupils=2000, seed=1, now=NOW, progress=progressed.append
    )
    assert sum(progressed) == report.pupils == 2000
    assert report.schools == 3
    counts = {table.name: len(_rows(engine, table)) for table in TABLES}
    assert counts == {
        "school": 3,
        "school_class": report.classes,
        "pupil": 2000,
        "responsable": report.responsables,
        "pupil_responsable": report.links,
        "change_log": report.changes,
    }
    assert 1.6 <= report.responsables / report.pupils <= 2.0
    assert 1.7 <= report.links / report.pupils <= 2.2
    assert report.changes == (
        report.schools + report.classes + report.pupils + report.responsables + report.links
    )
    with engine.connect() as conn:
        per_kind = dict(
            conn.execute(
                select(CHANGE_TABLE.c.entity, text("count(*)")).group_by(CHANGE_TABLE.c.entity)
            ).all()
        )
        states = Counter(conn.scalars(select(PUPIL_TABLE.c.state)))
        no_mobile = conn.scalar(
            select(text("count(*)"))
            .select_from(RESPONSABLE_TABLE)
            .where(RESPONSABLE_TABLE.c.mobile.is_(None))
        )
    assert per_kind == {
        "school": 3,
        "class": report.classes,
        "pupil": 2000,
        "responsable": report.responsables,
        "link": report.links,
    }
    assert states["admis"] + states["admis_definitif"] > 0.85 * 2000
    assert {"inscrit", "en_attente", "radie"} <= set(states)
    assert 0.02 < (no_mobile or 0) / report.responsables < 0.10


def test_identifiers_and_contact_data_are_valid(engine: Engine) -> None:
    seed_demo_school(engine, NOW)
    seed_database(engine, schools=2, pupils=500, seed=3, now=NOW)
    email = TypeAdapter(EmailStr)
    name = TypeAdapter(PersonName)
    with engine.connect() as conn:
        schools = conn.execute(select(SCHOOL_TABLE)).mappings().all()
        pupils = conn.execute(select(PUPIL_TABLE)).mappings().all()
        responsables = conn.execute(select(RESPONSABLE_TABLE)).mappings().all()
        classes = {row.id: row.levels.split(",") for row in conn.execute(select(CLASS_TABLE))}
    assert all(normalize_uai(s["uai"]) == s["uai"] for s in schools)
    assert len({p["ine"] for p in pupils}) == len(pupils)
    school_year = 2026
    for pupil in pupils:
        assert normalize_ine(pupil["ine"]) == pupil["ine"]
        assert normalize_insee(pupil["birth_place"]) == pupil["birth_place"]
        assert name.validate_python(pupil["nom"]) == pupil["nom"]
        assert name.validate_python(pupil["prenoms"]) == pupil["prenoms"]
        birth: date = pupil["birth_date"]
        assert school_year - birth.year - LEVEL_AGE[pupil["level"]] in (0, 1)
        assert pupil["identity_key"] == identity_key(
            pupil["nom"], pupil["prenoms"], pupil["sex"], birth, pupil["birth_place"]
        )
        if pupil["class_id"] is not None:
            assert pupil["level"] in classes[pupil["class_id"]]
    enrolled = [p["identity_key"] for p in pupils if p["state"] in ("admis", "admis_definitif")]
    assert len(set(enrolled)) == len(enrolled), "the duplicate check would refuse these pupils"
    for person in responsables:
        assert name.validate_python(person["nom"]) == person["nom"]
        assert name.validate_python(person["prenom"]) == person["prenom"]
        if person["mobile"] is not None:
            assert normalize_phone(person["mobile"], mobile=True) == person["mobile"]
        for phone in (person["home_phone"], person["work_phone"]):
            if phone is not None:
                assert normalize_phone(phone) == phone
        if person["email"] is not None:
            assert email.validate_python(person["email"]) == person["email"]
        if person["postal_code"] is not None:
            assert len(person["postal_code"]) == 5
            assert person["postal_code"].isdigit()


def _demo(onde: TestClient, service: dict[str, str], kind: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        page = onde.get(
            f"/api/v1/export/{kind}", params={"after": after, "limit": 500}, headers=service
        ).json()
        items += page["items"]
        if page["next_after"] is None:
            return items
        after = page["next_after"]


def test_the_demo_school_holds_every_family_case(
    onde: TestClient, service: dict[str, str], onde_settings: Any
) -> None:
    engine = make_engine(onde_settings.database_url)
    report = seed_demo_school(engine, NOW)
    assert seed_demo_school(engine, NOW).pupils == 0  # idempotent
    engine.dispose()
    assert report.schools == 2
    pupils = _demo(onde, service, "pupils")
    people = {r["id"]: r for r in _demo(onde, service, "responsables")}
    links = _demo(onde, service, "links")
    demo_pupils = [p for p in pupils if p["school_uai"] == DEMO_UAI]
    assert 55 <= len(demo_pupils) <= 65
    classes = onde.get(f"/api/v1/schools/{DEMO_UAI}/classes", headers=service).json()
    assert len(classes if isinstance(classes, list) else classes["items"]) == 5

    demo_links = [link for link in links if link["school_uai"] == DEMO_UAI]
    assert {link["lien"] for link in demo_links} >= {
        "mere", "pere", "tuteur", "ase", "famille_accueil", "autre_membre_famille", "autre"
    }  # fmt: skip
    no_authority = {link["lien"] for link in demo_links if not link["autorite_parentale"]}
    assert {"famille_accueil", "autre_membre_famille"} <= no_authority
    children_of = Counter(link["responsable_id"] for link in demo_links)
    assert max(children_of.values()) >= 2, "siblings share their responsables' records"
    demo_people = [p for p in people.values() if p["school_uai"] == DEMO_UAI]
    assert any(p["mobile"] is None for p in demo_people)
    assert any(not p["accepts_sms"] for p in demo_people)
    emails = Counter(p["email"] for p in demo_people if p["email"])
    assert max(emails.values()) >= 2, "two parents sharing one email"
    addresses = {
        (link["pupil_id"], people[link["responsable_id"]]["address"]["line1"])
        for link in demo_links
        if link["lien"] in ("mere", "pere")
    }
    per_pupil = Counter(pupil_id for pupil_id, _ in addresses)
    assert max(per_pupil.values()) == 2, "separated parents live at two addresses"

    companion_people = [p for p in people.values() if p["school_uai"] == COMPANION_UAI]
    shared = {p["mobile"] for p in demo_people} & {p["mobile"] for p in companion_people}
    assert shared - {None}, "a parent recorded in both schools with the same mobile"

    names = Counter((p["nom"], p["prenoms"]) for p in demo_pupils)
    assert names[("Martin", "Léa")] == 2, "homonyms"
    homonyms = [p for p in demo_pupils if (p["nom"], p["prenoms"]) == ("Martin", "Léa")]
    assert homonyms[0]["birth_date"] != homonyms[1]["birth_date"]
    all_names = {p["nom"] for p in demo_pupils}
    assert {"N'Diaye", "Le Goff-Éloi", "Lefèvre"} <= all_names
    assert {"inscrit", "en_attente", "radie", "admis"} <= {p["state"] for p in demo_pupils}

    found = onde.get(
        "/api/v1/pupils", params={"school": DEMO_UAI, "name": "ndiaye"}, headers=service
    )
    assert found.status_code == 200, found.text


def test_seeded_rows_are_read_through_the_api(
    onde: TestClient, service: dict[str, str], onde_settings: Any
) -> None:
    engine = make_engine(onde_settings.database_url)
    report = seed_database(engine, schools=2, pupils=300, seed=5, now=NOW)
    engine.dispose()
    pupils = _demo(onde, service, "pupils")
    assert len(pupils) == 300
    assert len(_demo(onde, service, "responsables")) == report.responsables
    listed = onde.get("/api/v1/pupils", params={"limit": 500}, headers=service).json()
    listed_items = listed if isinstance(listed, list) else listed["items"]
    assert len(listed_items) == 300

    changes: list[dict[str, Any]] = []
    after = 0
    while True:
        page = onde.get(
            "/api/v1/changes", params={"after": after, "limit": 500}, headers=service
        ).json()
        changes += page["items"]
        if not page["has_more"]:
            break
        after = page["next_after"]
    assert len(changes) == report.changes
    assert all(c["op"] == "create" for c in changes)
    created = {(c["entity"], c["entity_id"]) for c in changes}
    assert len(created) == len(changes)
    by_id = {p["id"]: p for p in pupils}
    for change in changes:
        if change["entity"] == "pupil":
            assert change["data"] == by_id[int(change["entity_id"])]
    order = [c["entity"] for c in changes]
    assert order[:1] == ["school"]
    assert order.index("pupil") > max(i for i, e in enumerate(order) if e == "class")


def test_api_writes_after_seeding_and_seeding_twice_append(
    onde: TestClient, service: dict[str, str], onde_settings: Any
) -> None:
    engine = make_engine(onde_settings.database_url)
    first = seed_database(engine, schools=2, pupils=200, seed=9, now=NOW)
    school = onde.get("/api/v1/schools", headers=service).json()
    uai = (school if isinstance(school, list) else school["items"])[0]["uai"]
    created = onde.post(
        f"/api/v1/schools/{uai}/pupils",
        json={
            "nom": "Martin",
            "prenoms": "Zoé",
            "sex": "F",
            "birth_date": "2020-02-03",
            "birth_place": "59350",
            "level": "CP",
        },
        headers=service,
    )
    assert created.status_code == 201, created.text
    assert created.json()["id"] == first.pupils + 1
    parent = onde.post(
        f"/api/v1/schools/{uai}/responsables",
        json={"civility": "MME", "nom": "Martin", "prenom": "Anne"},
        headers=service,
    )
    assert parent.status_code == 201, parent.text
    second = seed_database(engine, schools=2, pupils=200, seed=9, now=NOW)
    demo = seed_demo_school(engine, NOW)
    engine.dispose()
    pupils = _demo(onde, service, "pupils")
    assert len(pupils) == first.pupils + 1 + second.pupils + demo.pupils
    assert len({p["ine"] for p in pupils}) == len(pupils)
    assert len({p["school_uai"] for p in pupils}) == 6
    # Seeding again with the same seed adds new people, not clones of the first ones.
    assert pupils[0]["nom"] != pupils[first.pupils + 1]["nom"] or (
        pupils[0]["prenoms"] != pupils[first.pupils + 1]["prenoms"]
    )
    again = onde.post(
        f"/api/v1/schools/{uai}/responsables",
        json={"civility": "M", "nom": "Petit", "prenom": "Paul"},
        headers=service,
    )
    assert again.status_code == 201, again.text
    log = onde.get("/api/v1/changes", params={"after": 0, "limit": 1}, headers=service).json()
    assert log["last_seq"] == first.changes + second.changes + 2 + demo.changes + 1
    data = orjson.loads(orjson.dumps(log["items"][0]["data"]))
    assert data["uai"] == normalize_uai(data["uai"])
