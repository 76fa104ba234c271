"""What the sync service and administrators use: import, accounts, outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from edusim_common.collector import collection_paused
from edusim_common.deps import DbSession, Now
from edusim_common.pagination import Page, decode_cursor, encode_cursor
from edusim_common.phones import normalize_phone
from edusim_common.problems import PROBLEM_RESPONSES, InvalidInput, NotFound
from fake_educonnect.deps import MAX_ID, IdPath, PasswordsDep, ServiceOnly, Settings
from fake_educonnect.models import Account, AccountState, Origin, SourceKind
from fake_educonnect.schemas import (
    AccountDetail,
    AccountPublic,
    Explanation,
    ImportBatch,
    ImportReport,
    OutboxPublic,
    SchoolBatch,
    SchoolPublic,
    SchoolsReport,
    SiecleBatch,
    StatementOut,
)
from fake_educonnect.service import accounts, outbox, schools
from fake_educonnect.service.explain import Statement, explain_account, explain_source
from fake_educonnect.service.fixtures import load_siecle
from fake_educonnect.service.imports import BatchReport, ImportPolicy, import_batch
from fake_educonnect.service.outbox import Channel
from fake_educonnect.service.views import account_detail, account_public

router = APIRouter(dependencies=[ServiceOnly], responses=PROBLEM_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=5000)]
Cursor = Annotated[str | None, Query(max_length=200)]


async def _import_batch(request: Request) -> AsyncIterator[ImportBatch]:
    """The batch validated straight from the JSON bytes by pydantic's own parser.

    FastAPI would build the whole tree with ``json.loads`` first, then validate it: ~25 % slower
    on batches of 2,000 responsables (30 ms against 24 per batch). Errors are the same 422 problem,
    located in ``body``. The garbage collector is paused from the parse until the transaction is
    over (this dependency is the first one in, so the last one out): see
    ``edusim_common.collector``.
    """
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media_type != "application/json" and not media_type.endswith("+json"):
        reason = f"expected an application/json body, not {media_type or 'none'}"
        raise RequestValidationError(
            [{"type": "model_attributes_type", "loc": ("body",), "msg": reason}]
        )
    body = await request.body()
    with collection_paused():
        try:
            batch = ImportBatch.model_validate_json(body)
        except ValidationError as exc:
            errors = [
                {**err, "loc": ("body", *err["loc"])} for err in exc.errors(include_url=False)
            ]
            raise RequestValidationError(errors) from None
        yield batch


IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportBatch"}}},
    }
}


def import_schemas() -> dict[str, Any]:
    """``ImportBatch`` and the models it uses, for the OpenAPI components (see ``IMPORT_BODY``)."""
    schema = ImportBatch.model_json_schema(ref_template="#/components/schemas/{model}")
    defs: dict[str, Any] = schema.pop("$defs", {})
    return {**defs, "ImportBatch": schema}


@router.post(
    "/import/responsables",
    tags=["import"],
    summary="Upsert responsables (the sync)",
    response_model=ImportReport,
    openapi_extra=IMPORT_BODY,
)
def import_responsables(
    batch: Annotated[ImportBatch, Depends(_import_batch, scope="function")],
    session: DbSession,
    now: Now,
    settings: Settings,
) -> Response:
    """Idempotent, set-based upsert: accounts, matching, proposals, removals, (de)activation."""
    policy = ImportPolicy(
        identifiant_seed=settings.identifiant_seed, birthdate_tries=settings.birthdate_tries
    )
    report = import_batch(session, now, batch, policy)
    if batch.dry_run:
        session.rollback()
    return _report_response(report)


def _report_response(report: BatchReport) -> Response:
    """The ``ImportReport`` body, encoded straight from the import's dataclasses.

    ``response_model`` documents it; going through it would validate and serialise up to 50,000
    results again, work the answer does not need.
    """
    return Response(report.json(), media_type="application/json")


@router.get("/accounts", tags=["accounts"], summary="List accounts")
def list_accounts(
    session: DbSession,
    identifiant: Annotated[str | None, Query(max_length=40)] = None,
    state: AccountState | None = None,
    origin: Origin | None = None,
    school: Annotated[str | None, Query(max_length=8, description="UAI of a source")] = None,
    source: SourceKind | None = None,
    source_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[AccountPublic]:
    """Accounts by id, one page at a time."""
    position = decode_cursor(cursor, id=int)
    found = accounts.list_accounts(
        session,
        accounts.AccountFilter(
            identifiant=identifiant,
            state=state.value if state else None,
            origin=origin.value if origin else None,
            school_uai=school,
            source=source.value if source else None,
            source_id=source_id,
        ),
        position["id"] if position else 0,
        limit,
    )
    next_cursor = encode_cursor({"id": found[-1].id}) if len(found) == limit else None
    return Page(items=[account_public(a) for a in found], next_cursor=next_cursor)


@router.get("/accounts/{account_id}", tags=["accounts"], summary="Read an account in full")
def read_account(account_id: IdPath, session: DbSession) -> AccountDetail:
    """An account, the source records it stands for, and its attachments."""
    return account_detail(session, accounts.get_account(session, account_id))


@router.get("/outbox", tags=["outbox"], summary="Read the outbox (SMS, emails, letters)")
def read_outbox(
    session: DbSession,
    recipient: Annotated[str | None, Query(max_length=254)] = None,
    channel: Channel | None = None,
    school: Annotated[str | None, Query(max_length=8)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Limit = 100,
) -> list[OutboxPublic]:
    """Messages after `after`, oldest first; filter by recipient to pick up a code.

    A phone number may be written as people write it (`06 12 34 56 78`): it is compared in the
    E.164 form the outbox stores (`+33612345678`).
    """
    if recipient is not None:
        try:
            recipient = normalize_phone(recipient)
        except ValueError:
            recipient = recipient.strip()  # an email, a parent's name (letters), a school's UAI
    return [
        OutboxPublic.model_validate(m, from_attributes=True)
        for m in outbox.list_messages(session, after, limit, recipient, channel, school)
    ]


@router.post(
    "/fixtures/siecle",
    tags=["fixtures"],
    summary="Load SIECLE (2D) parent accounts",
    response_model=ImportReport,
)
def load_siecle_fixtures(
    batch: SiecleBatch, session: DbSession, now: Now, settings: Settings, passwords: PasswordsDep
) -> Response:
    """Parents who already have an active account through a secondary-school child."""
    policy = ImportPolicy(
        identifiant_seed=settings.identifiant_seed, birthdate_tries=settings.birthdate_tries
    )
    return _report_response(load_siecle(session, now, passwords, policy, batch))


@router.put("/schools", tags=["schools"], summary="Record schools' names (the sync)")
def put_schools(batch: SchoolBatch, session: DbSession, now: Now) -> SchoolsReport:
    """Add or rename schools in EduConnect's directory, which names them on the parents' pages,
    the console and the school letters (« École 0021593W » for a school it does not know).

    Idempotent and set-based: the sync sends ONDE's schools, a page at a time, at the start of
    each run. Schools absent from the call are left as they are.
    """
    return schools.record_schools(
        session, now, ((school.uai, school.name, school.commune) for school in batch.items)
    )


@router.get("/schools", tags=["schools"], summary="List the school directory")
def list_schools(
    session: DbSession, cursor: Cursor = None, limit: Limit = 100
) -> Page[SchoolPublic]:
    """The schools EduConnect can name, by UAI, one page at a time."""
    position = decode_cursor(cursor, uai=str)
    found = schools.list_schools(session, position["uai"] if position else None, limit)
    next_cursor = encode_cursor({"uai": found[-1].uai}) if len(found) == limit else None
    return Page(
        items=[SchoolPublic.model_validate(s, from_attributes=True) for s in found],
        next_cursor=next_cursor,
    )


@router.get("/explain", tags=["explain"], summary="Where a responsable or an account stands")
def explain(
    session: DbSession,
    now: Now,
    source: SourceKind = SourceKind.onde,
    source_id: Annotated[str | None, Query(max_length=40)] = None,
    identifiant: Annotated[str | None, Query(max_length=60)] = None,
) -> Explanation:
    """The FAQ as a diagnosis, for a source responsable (`source_id`) or an `identifiant`."""
    if identifiant:
        found = accounts.list_accounts(
            session, accounts.AccountFilter(identifiant=identifiant), 0, 1
        )
        if not found:
            raise NotFound(f"no account with identifiant {identifiant}")
        statements = explain_account(session, now, found[0])
        return _explanation(identifiant, found[0], statements)
    if not source_id:
        raise InvalidInput.for_field("query.source_id", "give source_id or identifiant")
    statements = explain_source(session, now, source.value, source_id)
    subject = f"{source.value} responsable {source_id}"
    linked = accounts.list_accounts(
        session, accounts.AccountFilter(source=source.value, source_id=source_id), 0, 1
    )
    return _explanation(subject, linked[0] if linked else None, statements)


def _explanation(subject: str, account: Account | None, statements: list[Statement]) -> Explanation:
    return Explanation(
        subject=subject,
        account=account_public(account) if account else None,
        statements=[StatementOut(code=s.code, text=s.text) for s in statements],
    )
