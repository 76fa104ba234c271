"""The change log and the full export, read by the sync service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from edusim_common.clock import as_utc
from edusim_common.collector import collection_paused
from edusim_common.deps import DbSession
from edusim_common.problems import PROBLEM_RESPONSES, InvalidInput
from edusim_common.types import DateTimeText
from fake_onde.deps import MAX_ID, Caller, Settings, page_limit
from fake_onde.models import ChangeOp, EntityKind, Uai
from fake_onde.service import changes
from fake_onde.service.export import ExportEmbed, ExportKind, export_page

router = APIRouter(tags=["sync"], responses=PROBLEM_RESPONSES)


class ChangePublic(BaseModel):
    """One recorded change."""

    seq: int = Field(description="Position in the log; strictly increasing, no gaps in order.")
    at: datetime = Field(description="Simulated time of the change.")
    entity: EntityKind
    op: ChangeOp
    entity_id: str
    school_uai: str
    data: dict[str, Any] = Field(description="The entity as it stands after the change.")


class ChangePage(BaseModel):
    """A page of the change log."""

    items: list[ChangePublic]
    next_after: int = Field(description="Pass as `after` to read on; unchanged if nothing new.")
    has_more: bool = Field(description="More changes up to `until` are waiting.")
    last_seq: int = Field(description="Latest committed change, regardless of `until`.")


class ExportPage(BaseModel):
    """A page of the full export."""

    entity: ExportKind
    items: list[dict[str, Any]]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null at the end."
    )
    watermark: int = Field(
        description="Latest change when this page was read: keep the first page's value and "
        "read the change log from it to catch up with writes made during the export."
    )


def _json(payload: bytes) -> Response:
    return Response(content=payload, media_type="application/json")


def _iso(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


@router.get(
    "/changes",
    summary="Read the change log after a cursor, up to a cut-off time",
    response_model=ChangePage,
)
def read_changes(
    session: DbSession,
    principal: Caller,
    settings: Settings,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="Last `seq` already read.")] = 0,
    until: Annotated[
        DateTimeText | None,
        Query(description="Cut-off: only changes recorded at or before it (ISO 8601)."),
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=50000)] = None,
    school: Annotated[Uai | None, Query(description="Only this UAI")] = None,
) -> Response:
    """Everything after `after` up to `until`, in order; directors read only their school."""
    school_uai = school or principal.uai  # ``Uai``: checked, trimmed, upper-case
    if school_uai is not None:
        principal.check_school(school_uai)
    if until is not None and (until.year < 1900 or until.year > 2999):
        raise InvalidInput.for_field("query.until", "must be between years 1900 and 2999")
    found = changes.read_changes(
        session,
        after,
        as_utc(until) if until else None,
        page_limit(settings, limit),
        school_uai,
    )
    # The data column already holds JSON: embed it as is rather than parse and re-encode it.
    items = [
        {
            "seq": row.seq,
            "at": _iso(row.at),
            "entity": row.entity,
            "op": row.op,
            "entity_id": row.entity_id,
            "school_uai": row.school_uai,
            "data": orjson.Fragment(row.data),
        }
        for row in found.rows
    ]
    body = {
        "items": items,
        "next_after": found.next_after,
        "has_more": found.has_more,
        "last_seq": found.last_seq,
    }
    return _json(orjson.dumps(body))


@router.get(
    "/export/{entity}",
    summary="Export every record of one kind (service token)",
    response_model=ExportPage,
)
def export(
    entity: ExportKind,
    session: DbSession,
    principal: Caller,
    settings: Settings,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="Last id already read.")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=50000)] = None,
    embed: Annotated[
        ExportEmbed | None,
        Query(description="`links`: each responsable carries its links (responsables only)."),
    ] = None,
) -> Response:
    """Keyset pages of the current state, for a full reconciliation."""
    principal.require_service()
    if embed is not None and entity is not ExportKind.responsables:
        raise InvalidInput.for_field(
            "query.embed", f"only the responsables export embeds links, not {entity.value}"
        )
    watermark = changes.last_seq(session)
    size = page_limit(settings, limit)
    with collection_paused():  # a page builds thousands of dicts, all gone once it is encoded
        items = export_page(session, entity, after, size, embed_links=embed is ExportEmbed.links)
        next_after = items[-1]["id"] if len(items) == size else None
        body = {
            "entity": entity.value,
            "items": items,
            "next_after": next_after,
            "watermark": watermark,
        }
        return _json(orjson.dumps(body))
