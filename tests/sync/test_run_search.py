"""The run report's name search reads the mirror's folded names: whatever the names, the lines
and the snapshots restored, it answers and finds them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.sync.onde_steps import add_families, add_parent, admit_pupil

HTML = {"accept": "text/html"}


def _found(sync: TestClient, run_id: int, term: str) -> list[str]:
    page = sync.get(f"/runs/{run_id}", params={"nom": term}, headers=HTML)
    assert page.status_code == 200, page.text
    return re.findall(r'id="line-\d+">([^<]+) <span', page.text)


def _name_keys(sync: TestClient) -> list[str | None]:
    engine = sync.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        query = "SELECT name_key FROM mirror_responsable ORDER BY id"
        return [key for (key,) in connection.execute(text(query))]


def test_a_name_that_folds_longer_than_typed_does_not_stop_the_runs(
    sync: TestClient, sync_admin: dict[str, str], onde: TestClient, director: dict[str, str]
) -> None:
    # « ﷺ » is one letter ONDE accepts, folded into 18: a fixed-length key column stopped every
    # run on PostgreSQL (its page never applied, the cursor never past it).
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"], prenom="ﷺ" * 10)
    run = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert run["status"] == "succeeded", run
    (key,) = _name_keys(sync)
    assert key is not None
    assert len(key) > 170
    assert _found(sync, run["id"], "ﷺ" * 10) == ["ﷺ" * 10 + " Martin"]


def test_a_line_with_a_non_numeric_id_is_passed_over(
    sync: TestClient, sync_admin: dict[str, str], onde: TestClient, director: dict[str, str]
) -> None:
    # Only an edited snapshot holds such a line; PostgreSQL refused to cast it (a 500).
    add_families(onde, director, 1)
    run = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    with sync.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(
            text(
                "INSERT INTO run_line (run_id, source_id, outcome, reason) "
                "VALUES (:run, '²', 'failed', ''), (:run, 'x1', 'failed', '')"
            ),
            {"run": run["id"]},
        )
    assert _found(sync, run["id"], "parenta") == ["Parenta Martin"]


def test_a_restored_snapshot_without_name_keys_gets_them(
    sync_with_snapshots: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
) -> None:
    sync = sync_with_snapshots
    add_families(onde, director, 2)
    run = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    # As a snapshot saved by a version without the column restores them: no key.
    with sync.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(text("UPDATE mirror_responsable SET name_key = NULL"))
    saved = sync.post("/api/v1/snapshots", json={"name": "sans-cles"}, headers=sync_admin)
    assert saved.status_code == 201, saved.text
    restored = sync.post("/api/v1/snapshots/sans-cles/restore", headers=sync_admin)
    assert restored.status_code == 200, restored.text
    assert _name_keys(sync) == ["parenta martin", "parentb martin"]
    assert _found(sync, run["id"], "parentb") == ["Parentb Martin"]
