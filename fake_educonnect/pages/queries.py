"""Reads the pages need and the API does not offer: lists for pickers, newest-first outbox."""

from __future__ import annotations

from sqlalchemy import select, union
from sqlmodel import Session, col

from fake_educonnect.models import AccountSource, Child, OutboxMessage

PICKER_LIMIT = 500


def known_schools(session: Session) -> list[str]:
    """The UAIs EduConnect knows (of responsables or pupils), for the console's school picker."""
    query = union(
        select(col(AccountSource.school_uai)).distinct(),
        select(col(Child.school_uai)).distinct(),
    )
    return sorted({str(row[0]) for row in session.execute(query)})[:PICKER_LIMIT]


def class_labels(session: Session, uai: str) -> list[str]:
    """The class labels of a school's pupils, for the console's class filter."""
    query = (
        select(col(Child.class_label))
        .where(col(Child.school_uai) == uai, col(Child.class_label).is_not(None))
        .distinct()
        .order_by(col(Child.class_label))
        .limit(PICKER_LIMIT)
    )
    return [str(label) for label in session.scalars(query)]


def latest_messages(
    session: Session,
    before: int | None,
    limit: int,
    recipient: str | None = None,
    channel: str | None = None,
    school_uai: str | None = None,
) -> list[OutboxMessage]:
    """Outbox messages, newest first, before a keyset position, filtered."""
    query = select(OutboxMessage)
    if before is not None:
        query = query.where(col(OutboxMessage.id) < before)
    if recipient is not None:
        query = query.where(col(OutboxMessage.recipient) == recipient)
    if channel is not None:
        query = query.where(col(OutboxMessage.channel) == channel)
    if school_uai is not None:
        query = query.where(col(OutboxMessage.school_uai) == school_uai)
    return list(session.scalars(query.order_by(col(OutboxMessage.id).desc()).limit(limit)))
