"""The full reconciliation, committed page by page: the mirror it leaves, and a run that stops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_service import runner
from sync_service.mirror import CLASSES, LINKS, PUPILS, RESPONSABLES
from tests.conftest import DEMO_UAI
from tests.sync.onde_steps import PUPIL, add_families, add_parent, next_day

MIRROR = (CLASSES, PUPILS, RESPONSABLES, LINKS)


def _mirror(sync: TestClient) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the sync's mirror of ONDE, table by table, in id order."""
    engine = sync.app.state.sync.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(select(table).order_by("id"))]
            for table in MIRROR
        }


def _full(sync: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    run: dict[str, Any] = sync.post("/api/v1/runs", json={"full": True}, headers=admin).json()
    return run


def _import_watched(
    sync: TestClient, monkeypatch: pytest.MonkeyPatch, at: int, then: Callable[[], None]
) -> list[list[str]]:
    """EduConnect's import, watched: the source ids of each call, in order; ``then`` runs at the
    ``at``-th call, before it goes (raising, it fails that call)."""
    educonnect = sync.app.state.sync.educonnect  # type: ignore[attr-defined]
    post_batch = educonnect.post_batch
    sent: list[list[str]] = []

    def watched(body: bytes) -> bytes:
        sent.append([item["source_id"] for item in orjson.loads(body)["items"]])
        if len(sent) == at:
            then()
        answer: bytes = post_batch(body)
        return answer

    monkeypatch.setattr(educonnect, "post_batch", watched)
    return sent


def _went_away() -> None:
    raise RuntimeError("EduConnect went away")


def _lines(sync: TestClient, run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    lines = sync.get(f"/api/v1/runs/{run['id']}/lines").json()
    return {line["source_id"]: line for line in lines}


def test_a_full_run_on_a_mirror_leaves_the_one_a_full_run_from_nothing_would(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
) -> None:
    """Each page replaces its rows in place, and what ONDE no longer has is deleted at the end:
    removed links, deleted pupils, responsables and classes, changed rows."""
    add_families(onde, director, 5)
    extra = add_parent(onde, director, 1, lien="pere", prenom="Marc", mobile="06 99 00 00 01")
    gone = add_parent(onde, director, 2, lien="pere", prenom="Paul", mobile="06 99 00 00 02")
    waiting = onde.post(
        f"/api/v1/schools/{DEMO_UAI}/pupils",
        json=PUPIL | {"prenoms": "Zoé", "state": "inscrit"},
        headers=director,
    )
    assert waiting.status_code == 201, waiting.text
    empty = onde.post(
        f"/api/v1/schools/{DEMO_UAI}/classes",
        json={"label": "CM2 B", "levels": ["CM2"]},
        headers=director,
    )
    assert empty.status_code == 201, empty.text
    next_day(sync, sync_admin)  # the first full run
    before = _mirror(sync)
    for path in (
        f"/api/v1/pupils/1/responsables/{extra['id']}",
        f"/api/v1/responsables/{gone['id']}",
        f"/api/v1/pupils/{waiting.json()['id']}",
        f"/api/v1/classes/{empty.json()['id']}",
    ):
        assert onde.delete(path, headers=director).status_code == 204, path
    moved = onde.patch(
        "/api/v1/responsables/3", json={"mobile": "06 55 44 33 22"}, headers=director
    )
    assert moved.status_code == 200, moved.text
    sync.app.state.sync.settings.page_size = 2  # type: ignore[attr-defined]

    run = _full(sync, sync_admin)
    assert run["status"] == "succeeded", run
    in_place = _mirror(sync)
    assert in_place != before
    engine = sync.app.state.sync.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        for table in reversed(MIRROR):
            connection.execute(table.delete())
    assert _full(sync, sync_admin)["status"] == "succeeded"
    assert _mirror(sync) == in_place
    assert len(in_place["mirror_link"]) == len(before["mirror_link"]) - 2
    counts = (len(in_place["mirror_pupil"]), len(in_place["mirror_class"]))
    assert counts == (5, len(before["mirror_class"]) - 1)
    assert gone["id"] not in {row[0] for row in in_place["mirror_responsable"]}


def test_a_full_run_that_fails_half_way_keeps_what_educonnect_took_and_the_next_ends_clean(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pages EduConnect accepted are committed with their report lines; the mirror still
    holds the responsables the run had not reached, so the next full run still finds the one
    deleted in ONDE, and the cursor has not moved."""
    add_families(onde, director, 6)
    next_day(sync, sync_admin)
    cursor = sync.get("/api/v1/status").json()["cursor"]
    assert onde.delete("/api/v1/responsables/6", headers=director).status_code == 204
    ctx = sync.app.state.sync  # type: ignore[attr-defined]
    ctx.settings.page_size = 2
    ctx.settings.batch_size = 2
    monkeypatch.setattr(runner, "FIRST_BATCH", 1)
    _import_watched(sync, monkeypatch, 3, _went_away)
    failed = _full(sync, sync_admin)
    assert (failed["status"], failed["error"]) == ("failed", "EduConnect went away"), failed
    assert sorted(_lines(sync, failed)) == ["1", "2", "3"]  # batches of 1 and 2, accepted
    assert sync.get("/api/v1/status").json()["cursor"] == cursor
    with ctx.engine.connect() as connection:
        kept = set(connection.scalars(select(RESPONSABLES.c.id)))
    assert kept == {1, 2, 3, 4, 5, 6}

    run = _full(sync, sync_admin)  # the watcher lets every later call through
    assert run["status"] == "succeeded", run
    lines = _lines(sync, run)
    assert sorted(lines) == ["1", "2", "3", "4", "5", "6"]
    assert "deleted in ONDE" in lines["6"]["reason"]
    accounts = educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"]
    states = {a["prenom"]: a["state"] for a in accounts}
    assert states == {f"Parent{x}": "non_active" for x in "abcde"} | {"Parentf": "desactive"}
    with ctx.engine.connect() as connection:
        assert set(connection.scalars(select(RESPONSABLES.c.id))) == {1, 2, 3, 4, 5}


def _mirrored(sync: TestClient) -> set[int]:
    engine = sync.app.state.sync.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return set(connection.scalars(select(RESPONSABLES.c.id)))


def test_vanished_responsables_leave_the_mirror_with_the_answer_for_them(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each batch of responsables gone from ONDE leaves the mirror in the transaction that records
    EduConnect's answer for it: a run stopped between two such batches keeps the second in the
    mirror, and the next full run sends it (as deleted)."""
    add_families(onde, director, 4)
    next_day(sync, sync_admin)
    for gone in (3, 4):
        assert onde.delete(f"/api/v1/responsables/{gone}", headers=director).status_code == 204
    ctx = sync.app.state.sync  # type: ignore[attr-defined]
    ctx.settings.batch_size = 1
    monkeypatch.setattr(runner, "FIRST_BATCH", 1)
    sent = _import_watched(sync, monkeypatch, 4, _went_away)
    failed = _full(sync, sync_admin)
    assert failed["status"] == "failed", failed
    assert sent == [["1"], ["2"], ["3"], ["4"]]  # the living, then the vanished
    assert "deleted in ONDE" in _lines(sync, failed)["3"]["reason"]
    assert _mirrored(sync) == {1, 2, 4}

    run = _full(sync, sync_admin)
    assert run["status"] == "succeeded", run
    lines = _lines(sync, run)
    assert "deleted in ONDE" in lines["4"]["reason"]
    # 3's deactivation, held back by the failed run, is taken over: sent as deleted, not alive
    assert "deleted in ONDE" in lines["3"]["reason"]
    assert "account deactivated" in lines["3"]["reason"]
    assert _mirrored(sync) == {1, 2}


def test_a_full_run_taken_over_by_another_process_stops_and_saves_nothing_more(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Marked interrupted by another process while EduConnect imports its first batch (its run
    lock lost), a full run commits none of its later pages and ends failed."""
    add_families(onde, director, 4)
    ctx = sync.app.state.sync  # type: ignore[attr-defined]
    ctx.settings.page_size = 1
    ctx.settings.batch_size = 1
    monkeypatch.setattr(runner, "FIRST_BATCH", 1)
    marked: list[int] = []  # what another process would do, once its lock seems free
    sent = _import_watched(
        sync, monkeypatch, 1, lambda: marked.append(runner.mark_interrupted(ctx.engine))
    )
    run = sync.post("/api/v1/runs", json={"full": True}, headers=sync_admin).json()
    assert (run["status"], marked) == ("failed", [1]), run
    assert "its run lock was lost" in run["error"]
    assert len(sent) <= 2  # stopped at its next commit, not at the end of the export
    assert _mirrored(sync) <= {1, 2}
    assert sync.get("/api/v1/status").json()["mirror_ready"] is False
