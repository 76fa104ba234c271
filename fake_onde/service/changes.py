"""The change log: every change recorded in order, read back by cursor up to a cut-off time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, insert, select
from sqlmodel import Session

from fake_onde.models import Change, ChangeOp, EntityKind

CHANGE_TABLE = Change.__table__  # type: ignore[attr-defined]


def record(
    session: Session,
    at: datetime,
    entity: EntityKind,
    op: ChangeOp,
    entity_id: object,
    school_uai: str,
    data: Mapping[str, Any],
) -> None:
    """Append one change; its sequence number orders it after every committed one."""
    session.execute(
        insert(CHANGE_TABLE).values(
            at=at,
            entity=entity.value,
            op=op.value,
            entity_id=str(entity_id),
            school_uai=school_uai,
            data=orjson.dumps(data).decode(),
        )
    )


def change_rows(
    at: datetime, entity: EntityKind, op: ChangeOp, items: Iterable[Mapping[str, Any]], id_key: str
) -> list[dict[str, Any]]:
    """Change-log rows for many entities at once (bulk paths)."""
    return [
        {
            "at": at,
            "entity": entity.value,
            "op": op.value,
            "entity_id": str(item[id_key]),
            "school_uai": item["school_uai"],
            "data": orjson.dumps(item).decode(),
        }
        for item in items
    ]


@dataclass(frozen=True)
class ChangeSlice:
    """A page of the change log."""

    rows: list[Any]
    next_after: int
    has_more: bool
    last_seq: int


def read_changes(
    session: Session,
    after: int,
    until: datetime | None,
    limit: int,
    school_uai: str | None = None,
) -> ChangeSlice:
    """Changes with ``seq > after`` in order, stopping at ``limit`` or at the first after ``until``.

    Stopping (rather than skipping) at the first change recorded after the cut-off keeps the
    cursor safe: nothing before the cursor is ever left unread, even if the clock was set back.
    """
    table = CHANGE_TABLE
    query = select(
        table.c.seq,
        table.c.at,
        table.c.entity,
        table.c.op,
        table.c.entity_id,
        table.c.school_uai,
        table.c.data,
    ).where(table.c.seq > after)
    if school_uai is not None:
        query = query.where(table.c.school_uai == school_uai)
    rows = list(session.execute(query.order_by(table.c.seq).limit(limit + 1)))
    if until is not None:
        for index, row in enumerate(rows):
            if row.at > until:
                rows = rows[:index]
                break
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_after = rows[-1].seq if rows else after
    return ChangeSlice(rows, next_after, has_more, last_seq(session))


def last_seq(session: Session) -> int:
    """The sequence number of the latest committed change (0 when the log is empty)."""
    return int(session.execute(select(func.coalesce(func.max(CHANGE_TABLE.c.seq), 0))).scalar_one())
