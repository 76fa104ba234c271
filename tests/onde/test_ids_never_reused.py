"""Ids never come back: EduConnect knows a parent and a child by their ONDE id.

A responsable deleted in ONDE keeps their EduConnect account (deactivated); a newcomer given the
same id would take it over. So a deleted row's id is never given again, through the API (SQLite
AUTOINCREMENT, PostgreSQL sequences) nor by the seed, which sets ids itself.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from edusim.snapshot import restore, save
from edusim_common.db import make_engine
from fake_onde.config import OndeSettings
from fake_onde.seed import (
    CLASS_TABLE,
    LINK_TABLE,
    PUPIL_TABLE,
    RESPONSABLE_TABLE,
    seed_database,
    seed_demo_school,
)
from tests.conftest import DEMO_UAI, make_school
from tests.onde.test_responsables import OTHER_UAI, link, new_parent, new_pupil

NOW = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)


def _class(client: TestClient, headers: dict[str, str], label: str, uai: str) -> int:
    made = client.post(
        f"/api/v1/schools/{uai}/classes",
        json={"label": label, "levels": ["CP"]},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    class_id: int = made.json()["id"]
    return class_id


def _deleted(client: TestClient, headers: dict[str, str], path: str) -> None:
    gone = client.delete(path, headers=headers)
    assert gone.status_code == 204, gone.text


def _made_and_deleted(
    client: TestClient, headers: dict[str, str], uai: str = DEMO_UAI
) -> dict[str, int]:
    """A class, a pupil, a responsable and a link made, then deleted: the highest ids."""
    class_id = _class(client, headers, "CP Mme Essai", uai)
    pupil = new_pupil(client, headers, uai, class_id=class_id, state="inscrit")
    parent = new_parent(client, headers, uai)
    linked = link(client, headers, pupil["id"], parent["id"])
    assert linked.status_code == 201, linked.text
    _deleted(client, headers, f"/api/v1/pupils/{pupil['id']}/responsables/{parent['id']}")
    _deleted(client, headers, f"/api/v1/responsables/{parent['id']}")
    _deleted(client, headers, f"/api/v1/pupils/{pupil['id']}")
    _deleted(client, headers, f"/api/v1/classes/{class_id}")
    return {
        "class": class_id,
        "pupil": pupil["id"],
        "responsable": parent["id"],
        "link": linked.json()["id"],
    }


def _made(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    class_id = _class(client, headers, "CP M. Suivant", DEMO_UAI)
    pupil = new_pupil(client, headers, prenoms="Zoé", class_id=class_id)
    parent = new_parent(client, headers, prenom="Nadia")
    linked = link(client, headers, pupil["id"], parent["id"])
    assert linked.status_code == 201, linked.text
    return {
        "class": class_id,
        "pupil": pupil["id"],
        "responsable": parent["id"],
        "link": linked.json()["id"],
    }


def test_the_api_never_gives_a_deleted_id_again(onde: TestClient, director: dict[str, str]) -> None:
    gone = _made_and_deleted(onde, director)
    assert gone == {"class": 1, "pupil": 1, "responsable": 1, "link": 1}
    fresh = _made(onde, director)
    assert fresh == {"class": 2, "pupil": 2, "responsable": 2, "link": 2}


def _highest(settings: OndeSettings) -> dict[str, int]:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            found: dict[str, Any] = {
                name: conn.execute(select(table.c.id).order_by(table.c.id.desc())).first()
                for name, table in (
                    ("class", CLASS_TABLE),
                    ("pupil", PUPIL_TABLE),
                    ("responsable", RESPONSABLE_TABLE),
                    ("link", LINK_TABLE),
                )
            }
    finally:
        engine.dispose()
    return {name: row[0] for name, row in found.items()}


def _lowest_seeded_after(settings: OndeSettings, known: dict[str, int]) -> dict[str, int]:
    """The smallest id of each table above ``known``: the first id the seed just gave."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return {
                name: conn.execute(
                    select(func.min(table.c.id)).where(table.c.id > known[name])
                ).scalar_one()
                for name, table in (
                    ("class", CLASS_TABLE),
                    ("pupil", PUPIL_TABLE),
                    ("responsable", RESPONSABLE_TABLE),
                    ("link", LINK_TABLE),
                )
            }
    finally:
        engine.dispose()


def test_the_seed_starts_after_deleted_ids_and_the_api_after_the_seed(
    onde: TestClient,
    director: dict[str, str],
    service: dict[str, str],
    onde_settings: OndeSettings,
) -> None:
    engine = make_engine(onde_settings.database_url)
    try:
        seed_database(engine, schools=1, pupils=20, seed=3, now=NOW)
        before = _highest(onde_settings)
        # The highest rows deleted: the seed must not give their ids again.
        gone = _made_and_deleted(onde, director)
        assert all(gone[name] > before[name] for name in gone)
        seed_database(engine, schools=1, pupils=20, seed=3, now=NOW)
        first = _lowest_seeded_after(onde_settings, before)
        assert first == {name: gone[name] + 1 for name in gone}
        # The seed's own highest rows deleted: the API goes on after them.
        top = _highest(onde_settings)
        _deleted(onde, service, f"/api/v1/responsables/{top['responsable']}")
        parent = new_parent(onde, director, prenom="Inès")
        assert parent["id"] == top["responsable"] + 1
    finally:
        engine.dispose()


def test_the_demo_seed_starts_after_deleted_ids(
    onde: TestClient, onde_settings: OndeSettings
) -> None:
    other = make_school(onde, OTHER_UAI)
    gone = _made_and_deleted(onde, other, OTHER_UAI)
    engine = make_engine(onde_settings.database_url)
    try:
        assert seed_demo_school(engine, NOW).pupils > 0
    finally:
        engine.dispose()
    first = _lowest_seeded_after(onde_settings, dict.fromkeys(gone, 0))
    assert first == {name: gone[name] + 1 for name in gone}


def test_a_restored_snapshot_keeps_the_ids_given_before_it(
    onde: TestClient, director: dict[str, str], onde_settings: OndeSettings
) -> None:
    gone = _made_and_deleted(onde, director)
    engine = make_engine(onde_settings.database_url)
    try:
        saved = io.BytesIO()
        info = save({"onde": engine}, saved, "apres-suppression", datetime.now(UTC))
        assert info.databases["onde"]["sequences"]["responsable"] == gone["responsable"]
        later = _made_and_deleted(onde, director)  # a timeline the restore throws away
        assert all(later[name] > gone[name] for name in gone)
        restore({"onde": engine}, io.BytesIO(saved.getvalue()))
    finally:
        engine.dispose()
    # As the original timeline: the ids after the saved counters, never the deleted ones.
    fresh = _made(onde, director)
    assert fresh == {name: gone[name] + 1 for name in gone}
