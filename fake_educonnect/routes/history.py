"""What EduConnect did for one source responsable, in time order (the sync's timeline reads it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from edusim_common.deps import DbSession, Now
from edusim_common.problems import PROBLEM_RESPONSES
from fake_educonnect.deps import ServiceOnly
from fake_educonnect.models import SourceKind
from fake_educonnect.schemas import AccountPublic, AttachmentPublic, StatementOut
from fake_educonnect.service.explain import explain_source
from fake_educonnect.service.history import source_history
from fake_educonnect.service.views import account_public, attachment_public

router = APIRouter(dependencies=[ServiceOnly], responses=PROBLEM_RESPONSES, tags=["history"])
SourceIdPath = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[\w.:-]+$", examples=["101"])
]


class EventOut(BaseModel):
    """One dated fact about the account or one of its children."""

    at: datetime
    kind: str = Field(
        description="`excluded`, `account_created`, `letter_printed`, `letter_used`, `message`, "
        "`activated`, `first_login`, `last_login`, `child_proposed`, `child_presented`, "
        "`child_attached`, `child_blocked`, `child_refused`, `child_unblocked`, "
        "`child_removed`, `deactivated`."
    )
    details: dict[str, Any] = Field(
        description="e.g. `origin` of an activation; `child`, `child_source`, "
        "`child_source_id`, `attachment_id`, `by`, `reason` of a child's event, and `before` "
        "when the earlier state was overwritten (`blocked_or_refused` for an unblocking, "
        "`unknown` for a removal); `situation` of a letter (`first_activation`, `reset`, "
        "`new_letter`, null for a letter printed by an older version); `channel` and `subject` "
        "of a message (a letter's own outbox copy is folded into its `letter_printed`)."
    )


class SourceHistoryOut(BaseModel):
    """The account a source responsable stands in, its events, and the « explain » diagnosis."""

    source: SourceKind
    source_id: str
    account: AccountPublic | None
    excluded_reason: str | None
    first_login_at: datetime | None = Field(
        description="The earliest login known (ended sessions are kept; a merged-away account's "
        "are not)."
    )
    attachments: list[AttachmentPublic]
    events: list[EventOut] = Field(description="Oldest first.")
    explanation: list[StatementOut] = Field(description="What `GET /explain` answers.")


@router.get(
    "/history/sources/{source}/{source_id}",
    summary="The life of a source responsable's account (service token)",
)
def read_source_history(
    source: SourceKind, source_id: SourceIdPath, session: DbSession, now: Now
) -> SourceHistoryOut:
    """Read-only, rebuilt from the stored timestamps: EduConnect keeps states, not an event log.

    A block later lifted by the school shows as `child_unblocked` only; a link removed by the
    sync does not say what it was before; a restored account keeps no trace of its deactivation;
    an account the source was matched to (2D parent) shows its own, earlier, creation.
    """
    history = source_history(session, source.value, source_id)
    statements = explain_source(session, now, source.value, source_id)
    return SourceHistoryOut(
        source=source,
        source_id=source_id,
        account=account_public(history.account) if history.account is not None else None,
        excluded_reason=history.excluded.reason if history.excluded is not None else None,
        first_login_at=history.first_login_at,
        attachments=[attachment_public(a, c) for a, c in history.attachments],
        events=[EventOut(at=e.at, kind=e.kind, details=e.details) for e in history.events],
        explanation=[StatementOut(code=s.code, text=s.text) for s in statements],
    )
