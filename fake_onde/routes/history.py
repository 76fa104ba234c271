"""A responsable's history: the change-log entries about them, their links and their children."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from edusim_common.deps import DbSession
from edusim_common.problems import PROBLEM_RESPONSES
from fake_onde.deps import MAX_ID, Caller, IdPath
from fake_onde.models import ResponsablePublic
from fake_onde.routes.changes import ChangePublic
from fake_onde.service.history import responsable_history, school_of_responsable
from fake_onde.service.snapshots import responsable_dict

router = APIRouter(tags=["history"], responses=PROBLEM_RESPONSES)


class ResponsableHistoryPublic(BaseModel):
    """The life of one responsable in ONDE, oldest change first."""

    responsable_id: int
    school_uai: str
    responsable: ResponsablePublic | None = Field(
        description="The responsable as they stand now; null once deleted."
    )
    pupil_ids: list[int] = Field(description="Every pupil they were ever linked to.")
    items: list[ChangePublic] = Field(
        description="Changes of the responsable, of their links (`data.responsable_id`) and of "
        "those pupils (admission, strike-off, identity), in log order."
    )
    next_after: int | None = Field(description="Pass as `after` to read on; null at the end.")


@router.get(
    "/history/responsables/{responsable_id}",
    summary="A responsable's change history (admissions, edits, links)",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "responsable_id": 7,
                        "school_uai": "0021593W",
                        "responsable": None,
                        "pupil_ids": [3],
                        "items": [
                            {
                                "seq": 12,
                                "at": "2026-09-01T08:10:00Z",
                                "entity": "link",
                                "op": "create",
                                "entity_id": "5",
                                "school_uai": "0021593W",
                                "data": {
                                    "id": 5,
                                    "pupil_id": 3,
                                    "responsable_id": 7,
                                    "school_uai": "0021593W",
                                    "lien": "mere",
                                    "autorite_parentale": True,
                                },
                            }
                        ],
                        "next_after": None,
                    }
                }
            }
        }
    },
)
def read_history(
    responsable_id: IdPath,
    session: DbSession,
    principal: Caller,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="Last `seq` already read.")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> ResponsableHistoryPublic:
    """Read-only; works for a deleted responsable too. A director reads only their school's."""
    uai = school_of_responsable(session, responsable_id)
    principal.check_school(uai)
    history = responsable_history(session, responsable_id, uai, after, limit)
    items = [_change(row) for row in history.rows]
    current = history.responsable
    return ResponsableHistoryPublic(
        responsable_id=responsable_id,
        school_uai=uai,
        responsable=ResponsablePublic.model_validate(responsable_dict(current))
        if current is not None
        else None,
        pupil_ids=history.pupil_ids,
        items=items,
        next_after=items[-1].seq if history.has_more and items else None,
    )


def _change(row: Any) -> ChangePublic:
    data: dict[str, Any] = orjson.loads(row.data)
    return ChangePublic(
        seq=row.seq,
        at=row.at,
        entity=row.entity,
        op=row.op,
        entity_id=row.entity_id,
        school_uai=row.school_uai,
        data=data,
    )
