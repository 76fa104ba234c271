"""RFC 9457 problem details: one base error, one renderer, handlers for every failure path.

Domain code raises :class:`Problem` subclasses (never ``HTTPException``); the handlers installed by
:func:`install_problem_handlers` turn them, FastAPI's validation errors, unknown routes and any
unexpected exception into ``application/problem+json`` bodies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:edusim:problem:"

log = logging.getLogger("edusim.problems")


class FieldError(BaseModel):
    """One invalid input: where it is and what is wrong with it."""

    field: str = Field(
        description="Dotted location of the input, e.g. `body.uai` or `query.state`."
    )
    reason: str = Field(description="What is wrong, in plain words.")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem details body."""

    type: str = Field(examples=["urn:edusim:problem:invalid-input"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["uai: the key letter should be 'W'"])
    instance: str | None = Field(default=None, examples=["/api/v1/schools"])
    code: str = Field(description="Stable machine-readable code.", examples=["invalid-input"])
    errors: list[FieldError] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict, description="Problem-specific members.")


class Problem(Exception):
    """Base of every error the services answer with: a status, a stable code, a message."""

    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.extra = extra or {}

    @classmethod
    def for_field(cls, field: str, reason: str, **extra: Any) -> Problem:
        """Build the problem for one invalid field."""
        return cls(
            f"{field}: {reason}", errors=[FieldError(field=field, reason=reason)], extra=extra
        )


class InvalidInput(Problem):
    """The request is well-formed but a value breaks a domain rule."""

    status = 422
    code = "invalid-input"
    title = "Invalid input"


class Unauthorized(Problem):
    """No or unknown credentials."""

    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(Problem):
    """Known credentials, but not allowed to touch this resource."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(Problem):
    """The resource does not exist."""

    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(Problem):
    """The request conflicts with the current state (duplicate, illegal transition...)."""

    status = 409
    code = "conflict"
    title = "Conflict"


class TooManyRequests(Problem):
    """Rate limit reached."""

    status = 429
    code = "too-many-requests"
    title = "Too many requests"


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: Sequence[FieldError] = (),
    extra: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Render one problem+json response."""
    body = ProblemDetails(
        type=TYPE_PREFIX + code,
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        code=code,
        errors=list(errors),
        extra=extra or {},
    ).model_dump(mode="json", exclude_none=True)
    if not body["extra"]:
        del body["extra"]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_reason(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    # pydantic prefixes messages of custom validators with "Value error, "
    return message.removeprefix("Value error, ")


ErrorPage = Callable[[Request, int, str], Response]
NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi", "/health")


def as_page(request: Request, status: int, detail: str, answer: JSONResponse) -> Response:
    """A browser asking for a page gets the service's French error page, the API gets JSON."""
    error_page: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if (
        error_page is None
        or request.url.path.startswith(NOT_PAGES)
        or "text/html" not in request.headers.get("accept", "")
    ):
        return answer
    return error_page(request, status, detail)


def render(problem: Problem, request: Request) -> JSONResponse:
    """Answer with ``problem`` without raising, so that the request's transaction still commits.

    Used where a refused try must count (wrong codes, failed logins, rate limits).
    """
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return problem_response(
        problem.status,
        problem.code,
        problem.title,
        problem.detail,
        request.url.path,
        problem.errors,
        problem.extra,
        headers,
    )


async def _handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return as_page(request, exc.status, exc.detail, render(exc, request))


def _field_error(err: dict[str, Any]) -> FieldError:
    loc = tuple(err.get("loc", ()))
    if err.get("type") == "json_invalid" and loc[:1] == ("body",):
        # FastAPI locates a JSON syntax error at ("body", character): said, not a field path
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        error = (err.get("ctx") or {}).get("error")
        return FieldError(
            field="body", reason=f"not valid JSON{at}" + (f": {error}" if error else "")
        )
    return FieldError(field=_location(loc), reason=_validation_reason(err))


async def _handle_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(err) for err in exc.errors()]
    detail = "; ".join(f"{e.field}: {e.reason}" for e in errors[:5]) or "invalid request"
    answer = problem_response(
        422, "invalid-input", "Invalid input", detail, request.url.path, errors
    )
    return as_page(request, 422, detail, answer)


#: What a page says of the framework's own refusals (their details are English: the API's).
HTTP_DETAILS_FR = {
    400: "Le formulaire reçu est illisible ou trop volumineux : rien n'a été enregistré. "
    "Rechargez la page et recommencez.",
    404: "Cette page n'existe pas : vérifiez l'adresse.",
    405: "Cette action n'est pas possible à cette adresse.",
    413: "Le formulaire envoyé est trop volumineux : rien n'a été enregistré.",
}
HTTP_DETAIL_FR = "La demande n'a pas pu être traitée : rien n'a été enregistré."


#: FastAPI's answer to a body it could not parse at all (not UTF-8, nested too deeply, a broken
#: form): a 400 with this detail and nothing else.
FASTAPI_UNPARSED_BODY = "There was an error parsing the body"
UNPARSED_BODY = (
    "the body could not be read: JSON encoded in UTF-8 is expected (or, for a page, its form)"
)


async def _handle_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == FASTAPI_UNPARSED_BODY:
        # The same 422 invalid-input as a JSON syntax error, which the API documents
        errors = [FieldError(field="body", reason=UNPARSED_BODY)]
        detail = f"body: {UNPARSED_BODY}"
        answer = problem_response(
            422, "invalid-input", "Invalid input", detail, request.url.path, errors
        )
        return as_page(request, 400, HTTP_DETAILS_FR[400], answer)
    codes = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized", 403: "forbidden"}
    code = codes.get(exc.status_code, f"http-{exc.status_code}")
    title = code.replace("-", " ").capitalize()
    detail = str(exc.detail) if exc.detail else title
    answer = problem_response(
        exc.status_code, code, title, detail, request.url.path, headers=exc.headers
    )
    shown = HTTP_DETAILS_FR.get(exc.status_code, HTTP_DETAIL_FR)
    return as_page(request, exc.status_code, shown, answer)


async def _handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    detail = "An unexpected error occurred; nothing was saved."
    answer = problem_response(500, "internal-error", "Internal error", detail, request.url.path)
    return as_page(request, 500, detail, answer)


#: SQLite's answer once its busy timeout (30 s) has passed and another writer still holds the lock.
_BUSY_MESSAGES = ("database is locked", "database table is locked")
BUSY_DETAIL = (
    "the database stayed busy with another write for 30 s (e.g. a long sync run on SQLite): "
    "this request's last step was not saved (nothing at all, for a request of one step); try "
    "again in a moment"
)
BUSY_DETAIL_FR = (
    "La base de données est occupée par une autre écriture (par exemple une longue "
    "synchronisation) : rien n'a été enregistré. Réessayez dans un instant."
)


async def _handle_database_error(request: Request, exc: Exception) -> Response:
    """A writer that waited out SQLite's busy timeout: a 503 to retry, not a 500."""
    if not any(message in str(getattr(exc, "orig", exc)) for message in _BUSY_MESSAGES):
        return await _handle_unexpected(request, exc)
    log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
    answer = problem_response(
        503,
        "database-busy",
        "Database busy",
        BUSY_DETAIL,
        request.url.path,
        headers={"Retry-After": "5"},
    )
    return as_page(request, 503, BUSY_DETAIL_FR, answer)


def map_exception(
    app: FastAPI, exc_type: type[Exception], status: int, code: str, title: str
) -> None:
    """Answer ``exc_type`` (raised by code that is not an API's) as a problem of ``status``.

    E.g. the sync's ``RemoteError``: ONDE or EduConnect unreachable → 503, not a 500.
    """

    async def handle(request: Request, exc: Exception) -> Response:
        detail = str(exc) or title
        answer = problem_response(status, code, title, detail, request.url.path)
        return as_page(request, status, detail, answer)

    app.add_exception_handler(exc_type, handle)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` answer as problem+json."""
    app.add_exception_handler(Problem, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(OperationalError, _handle_database_error)
    app.add_exception_handler(Exception, _handle_unexpected)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    # The schema is set by ``document_problems``: FastAPI would file a "model" under JSON.
    status: {"description": description}
    for status, description in {
        401: "Missing or unknown bearer token",
        403: "Not allowed (e.g. another school's data)",
        404: "Not found",
        409: "Conflict with the current state",
        422: "Invalid input",
    }.items()
}

RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many tries: the limit per client or per account is reached in the "
        "current window (simulated time); try again later"
    }
}
"""The extra answer of a rate-limited operation (its schema is set by ``document_problems``)."""

_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
#: FastAPI's own 422 body, which these services never send (their 422 is a problem).
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every error answer of an OpenAPI ``schema`` as it is sent.

    FastAPI puts a response's model under ``application/json`` and leaves the media type given
    beside it empty; its default 422 is a body these services never send. Every 4xx and 5xx is
    ``application/problem+json`` with the ``ProblemDetails`` schema.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["ProblemDetails"] = problem
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                if str(status)[:1] in ("4", "5"):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": dict(_PROBLEM_REF)}}
    for name in _FASTAPI_VALIDATION:
        components.pop(name, None)
    return schema


def install_problem_openapi(app: FastAPI) -> None:
    """Have ``app``'s OpenAPI document its errors as problem+json (see ``document_problems``)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
