"""Schemathesis against the fake EduConnect's own OpenAPI: no 5xx on any input, every 4xx a problem.

Each generated request carries the credentials its endpoint expects, so the fuzzer gets past the
guards: the service token for the sync's endpoints, a director's token for the console, and a
fresh parent session (opened straight in the database) for ``/me`` and ``/logout``. Path
parameters are drawn at random and also pinned to records seeded beforehand, so that the handlers
behind the lookups run too.
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from sqlalchemy import Engine, select

from edusim_common.clock_api import clock_table
from edusim_common.db import make_engine, unit_of_work
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.main import METADATA, create_app
from tests.conftest import EC_SERVICE_TOKEN
from tests.educonnect.factories import OTHER_SCHOOL, SCHOOL, child, responsable
from tests.educonnect.helpers import (
    activate_by_sms,
    director,
    import_items,
    letter_for,
    reopen_parent_session,
)
from tests.openapi_checks import check_answer

SERVICE = {"Authorization": f"Bearer {EC_SERVICE_TOKEN}"}
EXAMPLES_PER_OPERATION = 25
IMPORT = "/api/v1/import/responsables"
IMPORT_EXAMPLES = 100  # more for the import: the heaviest logic behind one endpoint
_PATH_PARAMETER = re.compile(r"{(\w+)}")
_PARENT_PATHS = ("/api/v1/me", "/api/v1/logout")
_CONSOLE_PATHS = ("/api/v1/console/",)
CLOCK = clock_table(METADATA)


# Small pools, so that generated batches collide with the seeded records and with each other.
_NAMES = st.sampled_from(["Martin", "MARTIN", "Durand", "Petit", "N'Diaye-Éloi", "Ωμέγα", "É" * 80])
_FIRST_NAMES = st.sampled_from(["Sophie", "sophie", "Paul", "Inès", "Jean-Pierre", "Léa"])
_MOBILES = st.sampled_from([None, "+33612345678", "+33611111101", "+33611111102", "+447700900123"])
_EMAILS = st.sampled_from([None, "ines@example.org", "INES@EXAMPLE.ORG", "paul@example.org"])
_UAIS = st.sampled_from([SCHOOL, OTHER_SCHOOL])
_LIENS = st.sampled_from(["mere", "pere", "tuteur", "ase", "famille_accueil", "autre"])


@st.composite
def _child_links(draw: st.DrawFn) -> dict[str, Any]:
    return child(
        draw(st.sampled_from(["1", "2", "3", "4", "5", "6", "7"])),
        nom=draw(_NAMES),
        prenoms=draw(_FIRST_NAMES),
        birth_date=draw(st.sampled_from(["2019-02-03", "2018-12-31", "2020-02-29"])),
        school_uai=draw(_UAIS),
        lien=draw(_LIENS),
        autorite_parentale=draw(st.booleans()),
        enrolled=draw(st.booleans()),
    )


@st.composite
def _import_items(draw: st.DrawFn) -> dict[str, Any]:
    return responsable(
        draw(st.sampled_from(["101", "102", "103", "104", "905", "106", "107", "108"])),
        nom=draw(_NAMES),
        prenom=draw(_FIRST_NAMES),
        mobile=draw(_MOBILES),
        email=draw(_EMAILS),
        school_uai=draw(_UAIS),
        children=draw(st.lists(_child_links(), max_size=4)),
        source=draw(st.sampled_from(["onde", "onde", "siecle"])),
        accepts_sms=draw(st.booleans()),
        deleted=draw(st.booleans()),
    )


_IMPORT_BATCHES = st.fixed_dictionaries(
    {"items": st.lists(_import_items(), min_size=1, max_size=6)},
    optional={"allow_deactivation": st.booleans(), "dry_run": st.booleans()},
)


def _seed(client: TestClient) -> dict[str, Any]:
    """A few accounts: with two children, without mobile, homonyms, one parent in two schools."""
    results = import_items(
        client,
        SERVICE,
        responsable("101", children=[child("1"), child("2", prenoms="Tom")]),
        responsable("102", nom="Durand", prenom="Paul", mobile="+33611111101"),
        responsable("103", nom="Petit", prenom="Inès", mobile=None, email="ines@example.org"),
        responsable(
            "104",
            nom="Durand",
            prenom="Paul",
            mobile="+33611111102",
            children=[child("3", nom="Durand")],
        ),
        responsable(
            "905",
            nom="Martin",
            prenom="Sophie",
            school_uai=OTHER_SCHOOL,
            children=[child("4", school_uai=OTHER_SCHOOL)],
        ),
        responsable(
            "106",
            nom="Leroy",
            prenom="Anne",
            mobile="+33612345679",
            children=[child("5", lien="famille_accueil")],
        ),
    )
    assert [r["outcome"] for r in results] == [
        "created",
        "created",
        "created",
        "created",
        "matched",
        "excluded",
    ]
    # Found by this fuzzer once: the same responsable excluded, then eligible, in one batch.
    again = import_items(client, SERVICE, responsable("107", children=[]), responsable("107"))
    assert [r["outcome"] for r in again] == ["excluded", "matched"]
    parent_id = results[0]["account_id"]
    account = client.get(f"/api/v1/accounts/{parent_id}", headers=SERVICE).json()
    letter_for(client, SERVICE, results[1]["account_id"])
    activate_by_sms(client, SERVICE, nom="Durand", prenom="Paul", mobile="06 11 11 11 02")
    return {
        "account_id": parent_id,
        "attachment_id": account["attachments"][0]["id"],
        "uai": SCHOOL,
        "console": director(client, SERVICE, SCHOOL),
    }


def _parent_session(engine: Engine, account_id: int) -> dict[str, str]:
    """A fresh session of the seeded parent, whose children are all proposed again."""
    with unit_of_work(engine) as session:
        # The app's simulated time, as it saved it (the fuzzer may move the clock).
        now = session.execute(select(CLOCK.c.sim_now)).scalar_one()
    return {"Authorization": f"Bearer {reopen_parent_session(engine, now, account_id)}"}


@pytest.fixture
def fuzz_schema(
    educonnect_settings: EduConnectSettings,
) -> Iterator[tuple[Any, dict[str, Any], Engine]]:
    """The OpenAPI schema of a fake EduConnect whose database holds a few records."""
    with TestClient(create_app(educonnect_settings)) as client:
        known = _seed(client)
    app = create_app(educonnect_settings)
    engine = make_engine(educonnect_settings.database_url)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app), known, engine
    finally:
        asgi.shutdown_lifespans()
        engine.dispose()


def _import_case(operation: Any, body: dict[str, Any]) -> Any:
    return operation.Case(body=body, media_type="application/json")


def _credentials(path: str, known: dict[str, Any], engine: Engine) -> dict[str, str]:
    """The headers a well-behaved caller of ``path`` would send."""
    if path.startswith(_PARENT_PATHS):
        return _parent_session(engine, known["account_id"])
    if path.startswith(_CONSOLE_PATHS):
        console: dict[str, str] = known["console"]
        return console
    return SERVICE


def _check(case: Any, headers: dict[str, str], statuses: list[int]) -> None:
    """Send one generated request with ``headers`` and check the answer's shape."""
    # Negative cases may drop or spoil the Authorization header on purpose: a 401 problem is right.
    response = case.call(headers=headers)
    statuses.append(response.status_code)
    check_answer(case, response)


def test_no_5xx_and_every_4xx_is_a_problem(
    fuzz_schema: tuple[Any, dict[str, Any], Engine],
) -> None:
    schema, known, engine = fuzz_schema
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35
    for operation in operations:
        path: str = operation.path
        names = _PATH_PARAMETER.findall(path)
        existing = {name: known[name] for name in names if name in known}
        strategies = [
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        ]
        extra = 0
        if path == IMPORT:
            # Random bodies rarely pass the name rules: valid batches reach the import's logic.
            strategies.append(_IMPORT_BATCHES.map(functools.partial(_import_case, operation)))
            extra = IMPORT_EXAMPLES
        if existing:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategies.append(
                    operation.as_strategy(generation_mode=mode, path_parameters=existing)
                )

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION * len(strategies) // 2 + extra,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            _check(case, _credentials(case.operation.path, known, engine), statuses)

        run()
    counts = collections.Counter(statuses)
    print(sorted(counts.items()))
    assert counts[200] + counts[201] + counts[202] + counts[204] > len(operations)
