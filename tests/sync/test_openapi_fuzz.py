"""Schemathesis against the sync service's own OpenAPI: no 5xx on any input, every 4xx a problem,
every 2xx as its schema says.

The sync is wired to in-process fakes of ONDE and EduConnect (as the ``sync`` fixture does), so
the clock moves and runs it is asked for really call them. Each generated request carries the
sync's service token. Path parameters are drawn at random and also pinned to records seeded
beforehand (a run awaiting approval, a run with report lines, a saved snapshot), so that the
handlers behind the lookups run too. A move may cross two nights at most here
(``SYNC_MAX_NIGHTS_PER_MOVE``), and extra strategies move the clock by hours or days from where it
stands, or from a position seeded just before (the first and last days of the clock's range, in
either mode), so that moves run their nights rather than being refused for crossing hundreds.
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import response_schema_conformance
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi

from edusim.snapshot_format import SUFFIX
from edusim_common.clock import ClockMode
from sync_service import driver
from sync_service.config import SyncSettings
from sync_service.main import create_app
from sync_service.runner import SyncContext
from tests.conftest import SYNC_TOKEN, make_school
from tests.openapi_checks import check_answer
from tests.sync.onde_steps import add_parent, admit_pupil, one_night

SERVICE = {"Authorization": f"Bearer {SYNC_TOKEN}"}
EXAMPLES_PER_OPERATION = 25
MOVE_EXAMPLES = 40  # more for the moves and runs: each one runs syncs against the fakes
MAX_NIGHTS = 2
MIN_NIGHTS = 5  # nights the moves run at least (some 15 to 35 in practice)
SEED = "seed"
_PATH_PARAMETER = re.compile(r"{(\w+)}")
FAULTS = "/api/v1/faults"
NOTHING_SEEDED = f"DELETE {FAULTS}/{{rule_id}}"
CLOCK = "/api/v1/clock"
RUNS = "/api/v1/runs"
SNAPSHOT = "/api/v1/snapshots/{name}"
# Where a move may start from: where the clock stands, or near either end of its range.
_STARTS = st.sampled_from(
    [
        None,
        None,
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(2999, 12, 30, 12, tzinfo=UTC),
        datetime(2999, 12, 31, 22, tzinfo=UTC),
    ]
)
_EDGES = st.sampled_from(
    ["2999-12-31T23:59:59.999999Z", "2999-12-31T23:59:59+00:00", "1900-01-01T00:00:00Z"]
)
_MODES = st.sampled_from([None, None, "manual", "realtime"])
_SECONDS = st.one_of(
    st.sampled_from([0, 1, 3600, 86399.5, 86400, 2 * 86400, 2 * 86400 + 3600, 3 * 86400]),
    st.floats(0, (MAX_NIGHTS + 1) * 86400),
)

Start = tuple[datetime, ClockMode] | None


def _seed(sync: TestClient, onde: TestClient) -> dict[str, list[Any]]:
    """Three families in ONDE, a night that copies them, a deletion held back, a manual run."""
    director = make_school(onde)
    parents = [
        add_parent(onde, director, admit_pupil(onde, director, prenoms=name)["id"], **fields)
        for name, fields in (
            ("Léa", {}),
            ("Tom", {"nom": "Durand", "prenom": "Paul", "mobile": "06 11 11 11 01"}),
            ("Inès", {"nom": "Petit", "prenom": "Anne", "mobile": None}),
        )
    ]
    first = one_night(sync, SERVICE)
    assert (first["status"], first["counts"]["created"]) == ("succeeded", 3), first
    deleted = onde.delete(f"/api/v1/responsables/{parents[1]['id']}", headers=director)
    assert deleted.status_code == 204, deleted.text
    held = one_night(sync, SERVICE)  # deactivation_max_count is 0: the deletion waits
    assert (held["status"], held["pending_deactivations"]) == ("awaiting_approval", 1), held
    manual = sync.post(RUNS, json={}, headers=SERVICE)
    assert manual.status_code == 200, manual.text
    saved = sync.post("/api/v1/snapshots", json={"name": SEED}, headers=SERVICE)
    assert saved.status_code == 201, saved.text
    return {"run_id": [held["id"], first["id"]], "name": [SEED]}


@pytest.fixture
def fuzz_schema(
    fakes_reachable: Path,
    sync_settings: SyncSettings,
    onde: TestClient,
    educonnect: TestClient,
) -> Iterator[tuple[Any, dict[str, list[Any]], FastAPI, Path]]:
    """The OpenAPI schema of a sync wired to the fakes, whose database holds a few runs."""
    sync_settings.max_nights_per_move = MAX_NIGHTS
    sync_settings.deactivation_max_count = 0
    wired = functools.partial(
        create_app, sync_settings, onde_client=onde, educonnect_client=educonnect
    )
    with TestClient(wired()) as client:
        known = _seed(client, onde)
    app = wired()
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        yield schema, known, app, fakes_reachable / f"{SEED}{SUFFIX}"
    finally:
        asgi.shutdown_lifespans()


def _context(app: FastAPI) -> SyncContext:
    ctx: SyncContext = app.state.sync
    return ctx


@st.composite
def _moves(draw: st.DrawFn, operation: Any, app: FastAPI) -> tuple[Start, Any]:
    """A clock move or a run, from a start drawn first: moves of hours or days, or to either end
    of the range (most cross no more nights than allowed)."""
    when = draw(_STARTS)
    start = None if when is None else (when, ClockMode(draw(st.sampled_from(list(ClockMode)))))
    body: dict[str, Any]
    if operation.path == RUNS:
        body = draw(
            st.fixed_dictionaries({}, optional={"full": st.booleans(), "dry_run": st.booleans()})
        )
    elif operation.path.endswith("/advance"):
        body = {"seconds": draw(_SECONDS)}
    elif operation.path.endswith("/next-day"):
        return start, operation.Case()
    else:
        base = _context(app).clock.now() if when is None else when
        offset = timedelta(hours=draw(st.integers(-72, (MAX_NIGHTS + 1) * 24)))
        now = draw(st.one_of(st.just((base + offset).isoformat()), _EDGES))
        mode = draw(_MODES)
        body = {"now": now} | ({"mode": mode} if mode else {})
    return start, operation.Case(body=body, media_type="application/json")


def _move_strategy(operation: Any, app: FastAPI) -> st.SearchStrategy[tuple[Start, Any]] | None:
    method = operation.method.upper()
    if (operation.path.startswith(CLOCK) and method != "GET") or (
        operation.path == RUNS and method == "POST"
    ):
        return _moves(operation, app)
    return None


def _upload(operation: Any, content: bytes, name: str) -> Any:
    """A real snapshot file uploaded under ``name``."""
    return operation.Case(
        body=content, media_type="application/octet-stream", path_parameters={"name": name}
    )


def _check(case: Any, statuses: list[int], nights: list[str], ok: set[str]) -> None:
    """Send one generated request with the service token and check the answer's shape.

    Records its status, the nights a move ran, and the operations that succeeded.
    """
    # Negative cases may drop or spoil the Authorization header on purpose: a 401 problem is right.
    response = case.call(headers=SERVICE)
    statuses.append(response.status_code)
    check_answer(case, response)  # a snapshot download is gzip: its start is shown decoded
    if response.status_code >= 400:
        return
    case.validate_response(response, checks=[response_schema_conformance])
    ok.add(f"{case.method.upper()} {case.operation.path}")
    if case.operation.path.startswith(CLOCK) and case.method.upper() != "GET":
        nights.extend(run["night"] for run in response.json()["runs"])


def _prepare(app: FastAPI, start: Start, seed_file: Path, seed_bytes: bytes) -> None:
    """Undo what would fail the next request on purpose, then put the clock at ``start``."""
    app.state.faults.remove()  # an injected fault answers a 5xx on purpose
    if not seed_file.is_file():  # the fuzzer may have deleted the seeded snapshot
        seed_file.write_bytes(seed_bytes)
    if start is not None:
        # Jump there (no night runs on the way), then "set" the clock where it is: as after any
        # move back, the nights after it are owed again, and the fakes get the clock.
        ctx = _context(app)
        ctx.clock.set(*start)
        driver.set_time(ctx, *start)


def test_no_5xx_and_every_4xx_is_a_problem(
    fuzz_schema: tuple[Any, dict[str, list[Any]], FastAPI, Path],
) -> None:
    schema, known, app, seed_file = fuzz_schema
    seed_bytes = seed_file.read_bytes()
    statuses: list[int] = []
    nights: list[str] = []
    ok: set[str] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        path: str = operation.path
        strategies: list[st.SearchStrategy[Any]] = [
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        ]
        for name in _PATH_PARAMETER.findall(path):
            for value in known.get(name, []):
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    strategies.append(
                        operation.as_strategy(generation_mode=mode, path_parameters={name: value})
                    )
        if path == SNAPSHOT and operation.method.upper() == "PUT":
            names = st.sampled_from([SEED, "copy", "Copie-2.v1"])
            strategies.append(names.map(functools.partial(_upload, operation, seed_bytes)))
        drawn = st.one_of(strategies).map(lambda case: (None, case))
        examples = EXAMPLES_PER_OPERATION * len(strategies) // 2
        moves = _move_strategy(operation, app)
        if moves is not None:
            drawn = st.one_of(drawn, moves)
            examples += MOVE_EXAMPLES

        @given(drawn=drawn)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(drawn: tuple[Start, Any]) -> None:
            start, case = drawn
            if not case.operation.path.startswith(FAULTS):  # the faults' rules stay meanwhile
                _prepare(app, start, seed_file, seed_bytes)
            _check(case, statuses, nights, ok)

        run()
    counts = collections.Counter(statuses)
    print(sorted(counts.items()), f"{len(nights)} nights run")
    # Every operation succeeded at least once, on the seeded records (no fault rule is seeded).
    expected = {f"{o.method.upper()} {o.path}" for o in operations} - {NOTHING_SEEDED}
    assert expected - ok == set()
    assert counts[200] + counts[201] + counts[204] > len(operations)
    assert len(nights) >= MIN_NIGHTS  # the clock moves did run their nights
