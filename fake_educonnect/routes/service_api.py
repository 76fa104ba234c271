"""What the sync service and administrators use: import, accounts, outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from edusim_common.deps import DbSession, Now
from edusim_common.pagination import Page, decode_cursor, encode_cursor
from edusim_common.problems import PROBLEM_RESPONSES
from fake_educonnect.deps import IdPath, ServiceOnly, Settings
from fake_educonnect.models import AccountState, Origin, SourceKind
from fake_educonnect.schemas import (
    AccountDetail,
    AccountPublic,
    ImportBatch,
    ImportReport,
    OutboxPublic,
)
from fake_educonnect.service import accounts, outbox
from fake_educonnect.service.imports import ImportPolicy, import_batch
from fake_educonnect.service.outbox import Channel
from fake_educonnect.service.views import account_detail, account_public

router = APIRouter(dependencies=[ServiceOnly], responses=PROBLEM_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=5000)]
Cursor = Annotated[str | None, Query(max_length=200)]


@router.post("/import/responsables", tags=["import"], summary="Upsert responsables (the sync)")
def import_responsables(
    batch: ImportBatch, session: DbSession, now: Now, settings: Settings
) -> ImportReport:
    """Idempotent, set-based upsert: accounts, matching, proposals, removals, (de)activation."""
    policy = ImportPolicy(
        identifiant_seed=settings.identifiant_seed, birthdate_tries=settings.birthdate_tries
    )
    return import_batch(session, now, batch, policy)


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
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Limit = 100,
) -> list[OutboxPublic]:
    """Messages after `after`, oldest first; filter by recipient to pick up a code."""
    return [
        OutboxPublic.model_validate(m, from_attributes=True)
        for m in outbox.list_messages(session, after, limit, recipient, channel, school)
    ]
