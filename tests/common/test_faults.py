"""Fault injection: rules, their counters, and what a client sees."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient

from edusim_common.faults import FaultRegistry, FaultRuleIn


def test_skip_count_method_and_probability() -> None:
    registry = FaultRegistry(rng=random.Random(1))
    registry.add(FaultRuleIn(path="^/api/v1/changes", method="GET", status=503, skip=1, count=2))
    fired = [registry.match("GET", "/api/v1/changes") is not None for _ in range(5)]
    assert fired == [False, True, True, False, False]
    assert registry.match("POST", "/api/v1/changes") is None
    half = FaultRegistry(rng=random.Random(7))
    half.add(FaultRuleIn(path="x", status=500, probability=0.5))
    hits = sum(half.match("GET", "/x") is not None for _ in range(1000))
    assert 400 < hits < 600


def test_a_bad_pattern_is_refused() -> None:
    with pytest.raises(ValueError, match="regular expression"):
        FaultRuleIn(path="([", status=500)


def test_a_method_in_any_case_and_a_rule_that_changes_nothing(
    onde: TestClient, service: dict[str, str]
) -> None:
    lower = onde.post(
        "/api/v1/faults", json={"path": "^/api/v1/pupils", "method": "get", "status": 503},
        headers=service,
    )  # fmt: skip
    assert lower.status_code == 201, lower.text
    assert lower.json()["method"] == "GET"
    idle = onde.post("/api/v1/faults", json={"path": "^/api/v1/pupils"}, headers=service)
    assert idle.status_code == 422
    assert "would change nothing" in idle.json()["detail"]
    assert [rule["method"] for rule in onde.get("/api/v1/faults", headers=service).json()] == [
        "GET"
    ]


def test_injected_status_and_clearing_through_the_api(
    onde: TestClient, service: dict[str, str], director: dict[str, str]
) -> None:
    added = onde.post(
        "/api/v1/faults", json={"path": "^/api/v1/pupils$", "status": 503, "count": 1},
        headers=service,
    )  # fmt: skip
    assert added.status_code == 201, added.text
    failed = onde.get("/api/v1/pupils", headers=director)
    assert failed.status_code == 503
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["code"] == "injected-fault"
    assert onde.get("/api/v1/pupils", headers=director).status_code == 200
    rules = onde.get("/api/v1/faults", headers=service).json()
    assert [(r["id"], r["fired"]) for r in rules] == [(added.json()["id"], 1)]
    assert onde.delete("/api/v1/faults", headers=service).json() == {"removed": 1}
    assert onde.delete("/api/v1/faults/99", headers=service).status_code == 404


def test_faults_need_the_service_token_and_spare_health(
    onde: TestClient, service: dict[str, str], director: dict[str, str]
) -> None:
    assert onde.post("/api/v1/faults", json={"path": ".", "status": 500}).status_code == 401
    assert onde.get("/api/v1/faults", headers=director).status_code == 403
    onde.post("/api/v1/faults", json={"path": ".", "status": 500}, headers=service)
    assert onde.get("/health").status_code == 200
    assert onde.get("/api/v1/faults", headers=service).status_code == 200
    bad = onde.post("/api/v1/faults", json={"path": "([", "status": 500}, headers=service)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.path"


def test_fault_rules_see_head_as_head(onde: TestClient, service: dict[str, str]) -> None:
    """HEAD answers as GET, but a GET rule is not used up by a HEAD, and a HEAD rule fires."""
    get_rule = {"path": "^/api/v1/clock$", "method": "GET", "status": 503, "count": 1}
    head_rule = {"path": "^/api/v1/schools$", "method": "HEAD", "status": 500, "count": 1}
    for rule in (get_rule, head_rule):
        assert onde.post("/api/v1/faults", json=rule, headers=service).status_code == 201
    assert onde.head("/api/v1/clock").status_code == 200
    assert onde.get("/api/v1/clock").status_code == 503
    assert onde.head("/api/v1/schools", headers=service).status_code == 500
    assert [r["fired"] for r in onde.get("/api/v1/faults", headers=service).json()] == [1, 1]
