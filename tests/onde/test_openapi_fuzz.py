"""Schemathesis against the fake ONDE's own OpenAPI: no 5xx on any input, every 4xx a problem."""

from __future__ import annotations

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

from fake_onde.config import OndeSettings
from fake_onde.main import create_app
from tests.conftest import DEMO_UAI, SERVICE_TOKEN, make_school
from tests.openapi_checks import check_answer, header

SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
EXAMPLES_PER_OPERATION = 25
_PATH_PARAMETER = re.compile(r"{(\w+)}")
STATUSES: list[int] = []


def _seed(client: TestClient) -> dict[str, Any]:
    """A school with a class, a pupil, a responsable and their link; returns their ids."""
    director = make_school(client)
    school_class = client.post(
        f"/api/v1/schools/{DEMO_UAI}/classes",
        json={"label": "CP A", "levels": ["CP"]},
        headers=director,
    ).json()
    pupil = client.post(
        f"/api/v1/schools/{DEMO_UAI}/pupils",
        json={
            "nom": "Martin",
            "prenoms": "Léa",
            "sex": "F",
            "birth_date": "2019-02-03",
            "birth_place": "59350",
            "level": "CP",
            "class_id": school_class["id"],
        },
        headers=director,
    ).json()
    parent = client.post(
        f"/api/v1/schools/{DEMO_UAI}/responsables",
        json={"civility": "MME", "nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"},
        headers=director,
    ).json()
    link = client.post(
        f"/api/v1/pupils/{pupil['id']}/responsables",
        json={"responsable_id": parent["id"], "lien": "mere"},
        headers=director,
    )
    assert link.status_code == 201, link.text
    return {
        "uai": DEMO_UAI,
        "class_id": school_class["id"],
        "pupil_id": pupil["id"],
        "responsable_id": parent["id"],
    }


@pytest.fixture
def fuzz_schema(onde_settings: OndeSettings) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The OpenAPI schema of a fake ONDE whose database holds a few records."""
    with TestClient(create_app(onde_settings)) as client:
        known = _seed(client)
    app = create_app(onde_settings)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app), known
    finally:
        asgi.shutdown_lifespans()


def _check(case: Any) -> None:
    """Send one generated request with the service token and check the answer's shape."""
    # Negative cases may drop the Authorization header on purpose: a 401 problem is then right.
    response = case.call(headers=SERVICE)
    STATUSES.append(response.status_code)
    where = check_answer(case, response)
    if response.status_code < 400 and response.status_code != 204:
        assert header(response, "content-type") == "application/json", where


def test_no_5xx_and_every_4xx_is_a_problem(fuzz_schema: tuple[Any, dict[str, Any]]) -> None:
    schema, known = fuzz_schema
    STATUSES.clear()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        names = _PATH_PARAMETER.findall(operation.path)
        existing = {name: known[name] for name in names if name in known}
        strategies = [
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        ]
        if existing:
            strategies.append(
                operation.as_strategy(
                    generation_mode=GenerationMode.POSITIVE, path_parameters=existing
                )
            )
            strategies.append(
                operation.as_strategy(
                    generation_mode=GenerationMode.NEGATIVE, path_parameters=existing
                )
            )

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION * len(strategies) // 2,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            _check(case)

        run()
    import collections

    print(collections.Counter(STATUSES))
