"""Every failure answers as RFC 9457 problem+json, with a stable code and the fields at fault."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from edusim_common.pagination import decode_cursor, encode_cursor
from edusim_common.problems import (
    PROBLEM_MEDIA_TYPE,
    TYPE_PREFIX,
    InvalidInput,
    install_problem_handlers,
)
from tests.conftest import DEMO_UAI, make_school

PUPIL = {
    "nom": "Martin",
    "prenoms": "Léa",
    "sex": "F",
    "birth_date": "2019-02-03",
    "birth_place": "59350",
    "level": "CP",
}


def assert_problem(
    response: httpx.Response, status: int, code: str, *, fields: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Check the problem+json shape and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == TYPE_PREFIX + code
    assert body["code"] == code
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) == {"field", "reason"}
        assert error["reason"]
    assert set(body) <= {"type", "title", "status", "detail", "instance", "code", "errors", "extra"}
    found = [error["field"] for error in body["errors"]]
    for field in fields:
        assert field in found, (field, found)
    return body


def test_401_without_token(onde: TestClient) -> None:
    response = onde.get("/api/v1/pupils")
    body = assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "bearer" in body["detail"].lower()


@pytest.mark.parametrize(
    "authorization", ["Bearer unknown-token", "Basic dXNlcjpwYXNz", "Bearer", "Bearer    "]
)
def test_401_with_bad_credentials(onde: TestClient, authorization: str) -> None:
    response = onde.get("/api/v1/schools", headers={"Authorization": authorization})
    assert_problem(response, 401, "unauthorized")


def test_401_with_a_forged_director_token(onde: TestClient, director: dict[str, str]) -> None:
    forged = director["Authorization"][:-4] + "0000"
    response = onde.get(f"/api/v1/schools/{DEMO_UAI}", headers={"Authorization": forged})
    assert_problem(response, 401, "unauthorized")


def test_403_for_a_director_on_a_service_operation(
    onde: TestClient, director: dict[str, str]
) -> None:
    body = {"uai": "0000001B", "name": "Autre", "commune": "Douai", "academie": "Lille"}
    response = onde.post("/api/v1/schools", json=body, headers=director)
    assert_problem(response, 403, "forbidden")


def test_403_for_a_director_on_another_school(onde: TestClient, director: dict[str, str]) -> None:
    make_school(onde, "0000001B")
    response = onde.get("/api/v1/schools/0000001B", headers=director)
    body = assert_problem(response, 403, "forbidden")
    assert "0000001B" in body["detail"]


def test_404_for_an_unknown_record(onde: TestClient, service: dict[str, str]) -> None:
    body = assert_problem(onde.get("/api/v1/pupils/999", headers=service), 404, "not-found")
    assert "999" in body["detail"]
    assert_problem(onde.get("/api/v1/schools/0000001B", headers=service), 404, "not-found")


def test_404_for_an_unknown_route(onde: TestClient) -> None:
    assert_problem(onde.get("/api/v1/nowhere"), 404, "not-found")
    assert_problem(onde.get("/nowhere/at/all"), 404, "not-found")


def test_405_for_a_wrong_method(onde: TestClient, service: dict[str, str]) -> None:
    response = onde.delete("/api/v1/schools", headers=service)
    assert_problem(response, 405, "method-not-allowed")
    # Starlette lists the methods of the first route matching the path only (here POST).
    assert response.headers["allow"]
    assert_problem(onde.put("/api/v1/changes", headers=service), 405, "method-not-allowed")


def test_409_for_a_duplicate(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    body = {"uai": DEMO_UAI, "name": "Encore", "commune": "Lille", "academie": "Lille"}
    response = onde.post("/api/v1/schools", json=body, headers=service)
    problem = assert_problem(response, 409, "conflict", fields=("body.uai",))
    assert DEMO_UAI in problem["detail"]


def test_422_names_each_invalid_field(onde: TestClient, director: dict[str, str]) -> None:
    bad = {**PUPIL, "sex": "X", "birth_place": "abc", "level": "CM3"}
    response = onde.post(f"/api/v1/schools/{DEMO_UAI}/pupils", json=bad, headers=director)
    problem = assert_problem(
        response,
        422,
        "invalid-input",
        fields=("body.sex", "body.birth_place", "body.level"),
    )
    assert "body.sex" in problem["detail"]


def test_422_for_a_missing_body_field(onde: TestClient, director: dict[str, str]) -> None:
    bad = {key: value for key, value in PUPIL.items() if key != "nom"}
    response = onde.post(f"/api/v1/schools/{DEMO_UAI}/pupils", json=bad, headers=director)
    assert_problem(response, 422, "invalid-input", fields=("body.nom",))


def test_422_for_a_malformed_json_body(onde: TestClient, director: dict[str, str]) -> None:
    response = onde.post(
        f"/api/v1/schools/{DEMO_UAI}/pupils",
        content=b'{"nom": "Martin",',
        headers={**director, "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"]
    assert problem["errors"][0]["field"].startswith("body")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"nom": "Martin",', "not valid JSON at character 17: Expecting property name"),
        (b'{"nom": "\xff"}', "the body could not be read: JSON encoded in UTF-8 is expected"),
        (b"[" * 100_000 + b"]" * 100_000, "the body could not be read"),  # too deep to parse
    ],
)
def test_an_unreadable_body_is_the_documented_422_saying_why(
    onde: TestClient, director: dict[str, str], content: bytes, reason: str
) -> None:
    """FastAPI answers a body it cannot parse (not UTF-8, too deep) with a bare 400 that the
    OpenAPI document does not list, and locates a JSON syntax error at "body.<character>"."""
    response = onde.post(
        f"/api/v1/schools/{DEMO_UAI}/pupils",
        content=content,
        headers={**director, "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, "invalid-input", fields=("body",))
    assert reason in problem["errors"][0]["reason"]


def test_422_for_a_body_that_is_not_an_object(onde: TestClient, director: dict[str, str]) -> None:
    response = onde.post(f"/api/v1/schools/{DEMO_UAI}/pupils", json=[1, 2], headers=director)
    assert_problem(response, 422, "invalid-input")


def test_422_for_a_bad_query_parameter(onde: TestClient, service: dict[str, str]) -> None:
    response = onde.get("/api/v1/pupils?state=enrolled&limit=0", headers=service)
    assert_problem(response, 422, "invalid-input", fields=("query.state", "query.limit"))


def test_422_for_a_bad_path_parameter(onde: TestClient, service: dict[str, str]) -> None:
    assert_problem(
        onde.get("/api/v1/pupils/abc", headers=service),
        422,
        "invalid-input",
        fields=("path.pupil_id",),
    )
    assert_problem(
        onde.get("/api/v1/pupils/0", headers=service),
        422,
        "invalid-input",
        fields=("path.pupil_id",),
    )


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "not-base64-json",
        encode_cursor({"id": "seven"}),
        encode_cursor({"uai": 3}),
        "W10",  # base64 of "[]"
        encode_cursor({"uai": "\ud800"}),  # a lone surrogate: no UTF-8 for it (was a 500)
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/pupils", "/api/v1/responsables", "/api/v1/schools"])
def test_422_for_a_bad_cursor(
    onde: TestClient, service: dict[str, str], path: str, cursor: str
) -> None:
    response = onde.get(path, params={"cursor": cursor}, headers=service)
    assert_problem(response, 422, "invalid-input", fields=("query.cursor",))


def test_educonnect_refuses_a_school_cursor_with_a_lone_surrogate(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    cursor = encode_cursor({"uai": "0021593W\udfff"})
    response = educonnect.get("/api/v1/schools", params={"cursor": cursor}, headers=ec_service)
    assert_problem(response, 422, "invalid-input", fields=("query.cursor",))


def test_cursor_round_trip_and_type_check() -> None:
    payload = {"id": 42, "uai": "0021593W"}
    assert decode_cursor(encode_cursor(payload), id=int, uai=str) == payload
    assert decode_cursor(None) is None
    assert decode_cursor("") is None
    with pytest.raises(InvalidInput):
        decode_cursor(encode_cursor({"id": True}), id=int)
    with pytest.raises(InvalidInput):
        decode_cursor(encode_cursor({"other": 1}), id=int)


def test_problem_for_field_builds_one_error() -> None:
    problem = InvalidInput.for_field("body.uai", "wrong key", expected="W")
    assert problem.status == 422
    assert problem.detail == "body.uai: wrong key"
    assert [(e.field, e.reason) for e in problem.errors] == [("body.uai", "wrong key")]
    assert problem.extra == {"expected": "W"}


def test_success_is_plain_json(onde: TestClient, director: dict[str, str]) -> None:
    response = onde.get(f"/api/v1/schools/{DEMO_UAI}", headers=director)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "cursor",
    [encode_cursor({"id": 2**31}), encode_cursor({"id": -1}), encode_cursor({"id": 10**30})],
)
def test_422_for_an_out_of_range_cursor(
    onde: TestClient, service: dict[str, str], cursor: str
) -> None:
    response = onde.get("/api/v1/pupils", params={"cursor": cursor}, headers=service)
    assert_problem(response, 422, "invalid-input", fields=("query.cursor",))


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/pupils", {"name": "a\x00"}, "query"),
        ("/api/v1/responsables", {"name": "\x00"}, "query"),
        ("/api/v1/pupils", {"school": "0021593W\x00"}, "query"),
        ("/api/v1/changes", {"school": "\x00"}, "query"),
        ("/api/v1/schools/0021%00593W", {}, "path"),
        ("/api/v1/schools", {"cursor": encode_cursor({"uai": "a\x00"})}, "query.cursor"),
    ],
)
def test_422_for_nul_characters_in_the_url(
    onde: TestClient, director: dict[str, str], path: str, params: dict[str, str], field: str
) -> None:
    # PostgreSQL text cannot hold NUL: without this check these were 500s on PostgreSQL.
    response = onde.get(path, params=params, headers=director)
    assert_problem(response, 422, "invalid-input", fields=(field,))


def test_422_for_out_of_range_ids(onde: TestClient, service: dict[str, str]) -> None:
    # ids are INTEGER columns: 2**31 overflowed PostgreSQL's INTEGER and answered 500.
    too_big = 2**31
    assert_problem(
        onde.get(f"/api/v1/pupils/{too_big}", headers=service),
        422,
        "invalid-input",
        fields=("path.pupil_id",),
    )
    assert_problem(
        onde.get("/api/v1/changes", params={"after": too_big}, headers=service),
        422,
        "invalid-input",
        fields=("query.after",),
    )
    assert onde.get(f"/api/v1/pupils/{too_big - 1}", headers=service).status_code == 404


@pytest.mark.parametrize("service", ["onde", "educonnect", "sync"])
def test_the_openapi_documents_every_error_as_a_problem(
    service: str, request: pytest.FixtureRequest
) -> None:
    """As sent: ``application/problem+json`` with the ``ProblemDetails`` schema, never FastAPI's
    own 422 body (generated clients would type the errors wrongly)."""
    client: TestClient = request.getfixturevalue(service)
    spec = client.get("/openapi.json").json()
    errors = [
        response
        for path_item in spec["paths"].values()
        for operation in path_item.values()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]
    assert len(errors) > 20
    for response in errors:
        assert response["content"] == {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
        }
    problem = spec["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_head_is_get_without_the_body(onde: TestClient, service: dict[str, str]) -> None:
    got = onde.get("/api/v1/schools", headers=service)
    head = onde.head("/api/v1/schools", headers=service)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == got.headers["content-length"]
    assert onde.head("/api/v1/schools").status_code == 401  # the same checks as GET
    assert onde.head("/api/v1/clock/advance").status_code == 405  # POST only


def test_rate_limited_operations_document_their_429(educonnect: TestClient) -> None:
    paths = educonnect.get("/openapi.json").json()["paths"]
    limited = {
        path for path, ops in paths.items() if "429" in ops.get("post", {}).get("responses", {})
    }
    assert {
        "/api/v1/login",
        "/api/v1/activation/sms",
        "/api/v1/activation/sms/confirm",
        "/api/v1/me/password",
        "/api/v1/selfservice/identifiant/sms",
        "/api/v1/selfservice/password",
        "/api/v1/franceconnect/confirm",
    } <= limited
    assert "/api/v1/import/responsables" not in limited


def test_a_database_still_locked_after_the_busy_timeout_is_a_503_to_retry(
    tmp_path: Path,
) -> None:
    """SQLite gives up on a lock another writer holds (after 30 s in the services): the client
    gets a 503 with Retry-After, nothing saved; any other database failure stays a 500."""
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/write")
    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))

    @app.post("/broken")
    def broken() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO absent VALUES (1)"))

    client = TestClient(app, raise_server_exceptions=False)
    holder.execute("BEGIN IMMEDIATE")  # another writer, for longer than the busy timeout
    try:
        busy = client.post("/write")
        body = assert_problem(busy, 503, "database-busy")
        assert busy.headers["Retry-After"] == "5"
        assert "was not saved" in body["detail"]
        assert_problem(client.post("/broken"), 500, "internal-error")
    finally:
        holder.execute("ROLLBACK")
    assert holder.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert client.post("/write").status_code == 200
    assert holder.execute("SELECT count(*) FROM t").fetchone() == (1,)
    holder.close()
    engine.dispose()
