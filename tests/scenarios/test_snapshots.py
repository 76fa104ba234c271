"""Snapshots of the whole simulation through the sync's API, on three real services.

Save → change → restore gives back every row of the three databases and the clock of every
service; ids continue as in the original timeline; a run in progress is refused.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, insert
from typer.testing import CliRunner

from edusim.cli import app
from edusim.snapshot import read_clock, reflect, restore, save
from edusim.snapshot_cli import service_metadata
from edusim.snapshot_format import WRITER_LOCK_KEYS, decode_value, encode_value
from edusim_common.clock import ClockMode, ClockRecord
from edusim_common.clock_api import TableClockStore, clock_table
from edusim_common.db import make_engine
from fake_educonnect.main import EDUCONNECT_LOCK_KEY, METADATA
from fake_onde.main import ONDE_LOCK_KEY
from sync_service.locks import RunLock
from sync_service.main import SYNC_LOCK_KEY
from tests.e2e.school import UAI, admit, last_code, open_school, parent_of, set_state
from tests.e2e.stack import SYNC_TOKEN, Stack

pytestmark = pytest.mark.slow
LEA = "2019-02-03"
SERVICES = ("onde", "educonnect", "sync")
DEMO_UAI = "0021593W"


@pytest.fixture
def snap_stack(db_urls: Callable[[str], str], tmp_path: Path) -> Iterator[Stack]:
    """A stack whose sync knows the other databases (as under ``edusim up``)."""
    running = Stack(
        db_urls,
        tmp_path,
        ONDE_DATABASE_URL=db_urls("onde"),
        EDUCONNECT_DATABASE_URL=db_urls("educonnect"),
        EDUSIM_SNAPSHOT_DIR=str(tmp_path / "snapshots"),
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


def dump(db_urls: Callable[[str], str]) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Every row of every table of the three databases."""
    out: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for service in SERVICES:
        engine = make_engine(db_urls(service))
        with engine.connect() as conn:
            metadata = reflect(conn)
            out[service] = {
                table.name: sorted((tuple(row) for row in conn.execute(table.select())), key=repr)
                for table in metadata.sorted_tables
            }
        engine.dispose()
    return out


def clocks(stack: Stack) -> list[str]:
    """What each service's clock reads."""
    return [
        stack.onde_call("GET", "/api/v1/clock").json()["now"],
        stack.ec_call("GET", "/api/v1/clock").json()["now"],
        stack.sync_call("GET", "/api/v1/clock").json()["now"],
    ]


def _activate_by_sms(stack: Stack) -> None:
    started = stack.ec_call(
        "POST",
        "/api/v1/activation/sms",
        json={"nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"},
    ).json()
    done = stack.ec_call(
        "POST",
        "/api/v1/activation/sms/confirm",
        json={
            "request_id": started["request_id"],
            "code": last_code(stack, "+33612345678"),
            "password": "Soleil2026",
        },
    )
    assert done.status_code == 200, done.text


def test_the_writer_lock_keys_are_the_services_own() -> None:
    assert WRITER_LOCK_KEYS == {
        "onde": ONDE_LOCK_KEY,
        "educonnect": EDUCONNECT_LOCK_KEY,
        "sync": SYNC_LOCK_KEY,
    }


@pytest.mark.db
def test_reading_educonnect_warns_of_nothing(db_urls: Callable[[str], str]) -> None:
    """Its indexes on ``lower(email)`` cannot be reflected: a snapshot does not need them."""
    engine = make_engine(db_urls("educonnect"))
    METADATA.create_all(engine)
    with warnings.catch_warnings(), engine.connect() as conn:
        warnings.simplefilter("error")
        tables = reflect(conn).tables
    engine.dispose()
    assert {"account", "account_source", "attachment"} <= set(tables)


@pytest.mark.db
def test_a_realtime_clock_is_saved_at_the_time_it_shows(db_urls: Callable[[str], str]) -> None:
    """Not at the time it was last set: it ran on since (a manual clock stood still)."""
    engine = make_engine(db_urls("sync"))
    metadata = MetaData()
    store = TableClockStore(engine, clock_table(metadata))
    metadata.create_all(engine)
    wall = datetime.fromtimestamp(1_000_000.0 + 5400, UTC)
    try:
        for mode, shown in (
            ("realtime", "2027-01-01T01:30:00+00:00"),
            ("manual", "2027-01-01T00:00:00+00:00"),
        ):
            wall_anchor = 1_000_000.0 if mode == "realtime" else None
            store.save(ClockRecord(datetime(2027, 1, 1, tzinfo=UTC), ClockMode(mode), wall_anchor))
            with engine.connect() as conn:
                assert read_clock(conn, reflect(conn), wall) == {"now": shown, "mode": mode}
    finally:
        engine.dispose()


@pytest.mark.db
def test_a_restored_realtime_clock_runs_on_from_the_snapshot_time(
    db_urls: Callable[[str], str],
) -> None:
    """Not from its saved time plus all the wall time since the save (the saved wall anchor)."""
    # Each with its service's writer lock, as the services and the snapshot API open them.
    engines = {svc: make_engine(db_urls(svc), lock_key=WRITER_LOCK_KEYS[svc]) for svc in SERVICES}
    stores = {}
    for svc, metadata in service_metadata().items():
        metadata.create_all(engines[svc])
        stores[svc] = TableClockStore(engines[svc], clock_table(metadata))
    an_hour_ago = time.time() - 3600
    anchor = datetime(2027, 1, 1, tzinfo=UTC)
    try:
        for store in stores.values():
            store.save(ClockRecord(anchor, ClockMode.realtime, an_hour_ago))
        saved = io.BytesIO()
        info = save(engines, saved, "rt", datetime.now(UTC))
        shown = datetime.fromisoformat(info.clock["now"]) if info.clock else None
        assert shown is not None
        assert shown >= anchor + timedelta(minutes=59)
        for store in stores.values():  # the simulation goes on, a year later
            store.save(ClockRecord(anchor.replace(year=2028), ClockMode.manual, None))
        saved.seek(0)
        restore(engines, saved)
        for store in stores.values():
            record = store.load()
            assert record is not None
            assert (record.anchor, record.mode) == (shown, ClockMode.realtime)
            assert record.wall_anchor is not None
            assert record.wall_anchor > time.time() - 60
    finally:
        for engine in engines.values():
            engine.dispose()


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 2.5, "é", datetime(2026, 9, 1, 8, 0), b"\x00\xff", {"a": [1]}],
)
def test_values_round_trip(value: Any) -> None:
    assert decode_value(encode_value(value)) == value


def test_save_change_restore_gives_back_every_row_and_the_clock(
    snap_stack: Stack, db_urls: Callable[[str], str]
) -> None:
    stack = snap_stack
    director = open_school(stack)
    lea = admit(stack, director, "Léa", LEA)
    parent_of(stack, director, lea)
    stack.next_day()
    _activate_by_sms(stack)
    saved = stack.sync_call("POST", "/api/v1/snapshots", json={"name": "avant"})
    assert saved.status_code == 201, saved.text
    assert saved.json()["rows"]["educonnect"] > 0
    before, clocks_before = dump(db_urls), clocks(stack)

    # The day goes on: a new pupil, a struck-off one, a night.
    zoe = admit(stack, director, "Zoé", LEA)
    set_state(stack, director, lea, "radie")
    stack.next_day()
    assert dump(db_urls) != before
    assert clocks(stack) != clocks_before

    restored = stack.sync_call("POST", "/api/v1/snapshots/avant/restore")
    assert restored.status_code == 200, restored.text
    assert dump(db_urls) == before
    assert clocks(stack) == clocks_before
    # The restored timeline goes on as the original one did: same ids, same night.
    assert admit(stack, director, "Zoé", LEA) == zoe
    night = stack.next_day()["runs"][0]
    assert night["counts"]["responsables_sent"] == 0  # Zoé has no responsable yet
    listed = stack.sync_call("GET", "/api/v1/snapshots").json()
    assert [s["name"] for s in listed] == ["avant"]


def test_restoring_a_later_snapshot_moves_the_ids_forward(snap_stack: Stack) -> None:
    stack = snap_stack
    director = open_school(stack)
    assert stack.sync_call("POST", "/api/v1/snapshots", json={"name": "vide"}).status_code == 201
    first = admit(stack, director, "Léa", LEA)
    second = admit(stack, director, "Zoé", LEA)
    assert stack.sync_call("POST", "/api/v1/snapshots", json={"name": "deux"}).status_code == 201
    assert stack.sync_call("POST", "/api/v1/snapshots/vide/restore").status_code == 200
    assert stack.sync_call("POST", "/api/v1/snapshots/deux/restore").status_code == 200
    third = admit(stack, director, "Inès", LEA)  # no id taken twice (PostgreSQL sequences)
    assert third > second > first


def test_a_run_in_progress_is_refused_and_names_are_checked(
    snap_stack: Stack, db_urls: Callable[[str], str]
) -> None:
    stack = snap_stack
    open_school(stack)
    stack.next_day()
    engine = make_engine(db_urls("sync"))
    with engine.begin() as conn:
        run = reflect(conn).tables["run"]
        conn.execute(
            insert(run).values(
                kind="nightly", dry_run=False, status="running", cutoff=datetime(2026, 9, 1),
                started_at=datetime(2026, 9, 1), wall_seconds=0, from_cursor=0, to_cursor=0,
                counts="{}", pending_deactivations="[]",
            )
        )  # fmt: skip
    live = RunLock(engine)  # the run's process is alive: it holds the run lock
    assert live.acquire(blocking=False)
    try:
        refused = stack.sync_call("POST", "/api/v1/snapshots", json={"name": "pendant"})
        assert refused.status_code == 409
        assert "in progress" in refused.json()["detail"]
        assert stack.sync_call("GET", "/api/v1/snapshots").json() == []
    finally:
        live.release()  # its process died: the run no longer stands in the way
    engine.dispose()
    saved = stack.sync_call("POST", "/api/v1/snapshots", json={"name": "apres"})
    assert saved.status_code == 201, saved.text
    assert stack.sync_call("GET", "/api/v1/runs").json()[0]["status"] == "interrupted"
    assert stack.sync_call("POST", "/api/v1/snapshots/absent/restore").status_code == 404
    bad = stack.sync_call("POST", "/api/v1/snapshots", json={"name": "../etc"})
    assert bad.status_code == 422
    garbage = stack.sync_call("PUT", "/api/v1/snapshots/garbage", content=gzip.compress(b"{}\n"))
    assert garbage.status_code == 422
    assert "not an EduSim snapshot" in garbage.json()["detail"]


def test_download_then_upload_under_another_name(snap_stack: Stack) -> None:
    stack = snap_stack
    director = open_school(stack)
    admit(stack, director, "Léa", LEA)
    assert stack.sync_call("POST", "/api/v1/snapshots", json={"name": "un"}).status_code == 201
    again = stack.sync_call("POST", "/api/v1/snapshots", json={"name": "un"})
    assert again.status_code == 409
    assert "overwrite" in again.json()["detail"]
    online = ["--sync", stack.sync.url, "--sync-token", SYNC_TOKEN]
    cli = CliRunner().invoke(app, ["snapshot", "save", "un", *online])
    assert cli.exit_code == 1, cli.output
    assert "snapshot un exists: add --overwrite to replace it" in cli.output  # the CLI's option
    file = stack.sync_call("GET", "/api/v1/snapshots/un")
    assert file.status_code == 200
    uploaded = stack.sync_call("PUT", "/api/v1/snapshots/copie", content=file.content)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["rows"] == stack.sync_call("GET", "/api/v1/snapshots").json()[0]["rows"]
    assert stack.sync_call("DELETE", "/api/v1/snapshots/un").status_code == 204
    assert [s["name"] for s in stack.sync_call("GET", "/api/v1/snapshots").json()] == ["copie"]
    pupils = stack.onde_call("GET", "/api/v1/pupils", params={"school": UAI}).json()["items"]
    assert [p["prenoms"] for p in pupils] == ["Léa"]


def _relined(content: bytes, change: Callable[[list[Any]], None]) -> bytes:
    """A snapshot file with its lines (parsed JSON) changed."""
    lines = [json.loads(raw) for raw in gzip.decompress(content).splitlines()]
    change(lines)
    return gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode())


def test_a_damaged_file_is_refused_at_upload_and_never_restored(
    snap_stack: Stack, db_urls: Callable[[str], str], tmp_path: Path
) -> None:
    """A file is checked whole when uploaded (422, nothing stored); one put in the directory by
    hand is left out of the list, and its restore refused (409) before anything is changed: an
    unknown clock mode used to be written into every service's clock, which then answered 500 to
    every request."""
    stack = snap_stack
    director = open_school(stack)
    admit(stack, director, "Léa", LEA)
    assert stack.sync_call("POST", "/api/v1/snapshots", json={"name": "bon"}).status_code == 201
    good = stack.sync_call("GET", "/api/v1/snapshots/bon").content

    def clock_mode(lines: list[Any]) -> None:
        lines[0]["clock"]["mode"] = "zzz"

    def row_removed(lines: list[Any]) -> None:
        lines.pop(next(i for i, line in enumerate(lines) if isinstance(line, list)))

    def same_row_twice(lines: list[Any]) -> None:
        first = next(i for i, line in enumerate(lines) if isinstance(line, list))
        lines.insert(first, lines[first])
        table = lines[first - 1]["table"]
        lines[0]["databases"][table["database"]]["tables"][table["name"]] += 1

    damaged = {
        "mode": (_relined(good, clock_mode), "clock.mode 'zzz'"),
        "coupe": (good[: len(good) // 2], "damaged snapshot file"),
        "ligne": (_relined(good, row_removed), "rows, its header says"),
    }
    for name, (content, reason) in damaged.items():
        refused = stack.sync_call("PUT", f"/api/v1/snapshots/{name}", content=content)
        assert refused.status_code == 422, (name, refused.text)
        assert reason in refused.json()["detail"], name
        assert stack.sync_call("GET", f"/api/v1/snapshots/{name}").status_code == 404
    strict = stack.sync_call("POST", "/api/v1/snapshots", json={"name": "bon", "overwrite": "yes"})
    assert strict.status_code == 422, strict.text

    before, clocks_before = dump(db_urls), clocks(stack)
    directory = tmp_path / "snapshots"
    (directory / "mode.snapshot.jsonl.gz").write_bytes(damaged["mode"][0])
    (directory / "double.snapshot.jsonl.gz").write_bytes(_relined(good, same_row_twice))
    listed = stack.sync_call("GET", "/api/v1/snapshots")
    assert listed.status_code == 200
    assert sorted(s["name"] for s in listed.json()) == ["bon", "double"]
    for name, reason in (("mode", "clock.mode 'zzz'"), ("double", "do not fit")):
        refused = stack.sync_call("POST", f"/api/v1/snapshots/{name}/restore")
        assert refused.status_code == 409, (name, refused.text)
        assert reason in refused.json()["detail"], name
    assert dump(db_urls) == before
    assert clocks(stack) == clocks_before
    for call in (stack.onde_call, stack.ec_call, stack.sync_call):
        assert call("GET", "/health").status_code == 200


def test_reset_demo_rewinds_a_running_simulator(
    snap_stack: Stack, db_urls: Callable[[str], str]
) -> None:
    stack = snap_stack
    director = open_school(stack)
    parent_of(stack, director, admit(stack, director, "Léa", LEA))
    stack.next_day()
    stack.next_day()
    assert stack.ec_call("GET", "/api/v1/accounts").json()["items"]
    result = CliRunner().invoke(
        app,
        ["reset", "--demo", "--yes", "--sync", stack.sync.url, "--sync-token", SYNC_TOKEN],
    )
    assert result.exit_code == 0, result.output
    assert "demo seed" in result.output
    assert stack.ec_call("GET", "/api/v1/accounts").json()["items"] == []
    # the demo's FranceConnect test identities, as after `edusim up` or an offline reset --demo
    identities = dump(db_urls)["educonnect"]["franceconnect_identity"]
    assert sorted(str(row[0]) for row in identities) == [
        "demo-fc-alexandrie-dalmeida",
        "demo-fc-andre-dacosta",
        "demo-fc-camille-fontaine",
        "demo-fc-ines-martin",
        "demo-fc-ines-ndiaye",
    ]
    schools = stack.onde_call("GET", "/api/v1/schools").json()["items"]
    assert [s["name"] for s in schools] == [
        "École élémentaire Jean Jaurès",
        "École maternelle Louise Michel",
    ]
    demo_pupils = stack.onde_call("GET", "/api/v1/pupils", params={"school": DEMO_UAI})
    assert len(demo_pupils.json()["items"]) == 60
    assert set(clocks(stack)) == {"2026-09-01T06:00:00Z"}
    assert stack.sync_call("GET", "/api/v1/runs").json() == []
    # The demo then goes on as after a first `edusim up`: the first night reconciles it all.
    night = stack.next_day()["runs"][0]
    assert night["kind"] == "nightly"
    assert night["counts"]["created"] > 0
    listed = stack.sync_call("GET", "/api/v1/snapshots").json()
    assert [s["name"] for s in listed] == ["demo-seed"]
