"""The life of one responsable in the change log: their own changes, their links, their children.

Read-only: the timeline of the sync service asks for it. The change log has no column naming the
responsable of a link, so link changes are found by their JSON snapshot (``"responsable_id":N,``,
written by :func:`fake_onde.service.snapshots.link_dict` in a fixed key order), within the
responsable's school so that the school index bounds the scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, or_, select
from sqlmodel import Session

from edusim_common.problems import NotFound
from fake_onde.models import EntityKind, Responsable
from fake_onde.service.changes import CHANGE_TABLE


@dataclass(frozen=True)
class ResponsableHistory:
    """Where the responsable belongs, and the changes about them, oldest first."""

    responsable_id: int
    school_uai: str
    responsable: Responsable | None
    rows: list[Any]
    pupil_ids: list[int]
    has_more: bool


def school_of_responsable(session: Session, responsable_id: int) -> str:
    """The school of a responsable, even one deleted since (read from the change log), or 404."""
    current = session.get(Responsable, responsable_id)
    if current is not None:
        return current.school_uai
    table = CHANGE_TABLE
    uai = session.scalar(
        select(table.c.school_uai)
        .where(
            table.c.entity == EntityKind.responsable.value,
            table.c.entity_id == str(responsable_id),
        )
        .limit(1)
    )
    if uai is None:
        raise NotFound(f"no responsable with id {responsable_id}, now or in the change log")
    return str(uai)


def _link_marker(responsable_id: int) -> str:
    # link_dict writes "responsable_id" followed by "school_uai": the comma ends the number.
    return f'%"responsable_id":{responsable_id},%'


def responsable_history(
    session: Session, responsable_id: int, school_uai: str, after: int, limit: int
) -> ResponsableHistory:
    """Changes of the responsable, of their links, and of every pupil they were ever linked to."""
    table = CHANGE_TABLE
    in_school = table.c.school_uai == school_uai
    link_rows = session.execute(
        select(table.c.data).where(
            in_school,
            table.c.entity == EntityKind.link.value,
            table.c.data.like(_link_marker(responsable_id)),
        )
    ).all()
    pupil_ids = sorted({int(orjson.loads(row.data)["pupil_id"]) for row in link_rows})
    about = [
        and_(
            table.c.entity == EntityKind.responsable.value,
            table.c.entity_id == str(responsable_id),
        ),
        and_(
            table.c.entity == EntityKind.link.value,
            table.c.data.like(_link_marker(responsable_id)),
        ),
    ]
    if pupil_ids:
        about.append(
            and_(
                table.c.entity == EntityKind.pupil.value,
                table.c.entity_id.in_([str(p) for p in pupil_ids]),
            )
        )
    query = (
        select(
            table.c.seq,
            table.c.at,
            table.c.entity,
            table.c.op,
            table.c.entity_id,
            table.c.school_uai,
            table.c.data,
        )
        .where(in_school, table.c.seq > after, or_(*about))
        .order_by(table.c.seq)
        .limit(limit + 1)
    )
    rows = list(session.execute(query))
    return ResponsableHistory(
        responsable_id=responsable_id,
        school_uai=school_uai,
        responsable=session.get(Responsable, responsable_id),
        rows=rows[:limit],
        pupil_ids=pupil_ids,
        has_more=len(rows) > limit,
    )
