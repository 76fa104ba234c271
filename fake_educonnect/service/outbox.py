"""The outbox: SMS, emails and letters are stored, never sent, readable by tests and trainers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import Session, col

from fake_educonnect.models import OutboxMessage


class Channel(StrEnum):
    """How a message would travel."""

    sms = "sms"
    email = "email"
    letter = "letter"
    school = "school"


def send(
    session: Session,
    now: datetime,
    channel: Channel,
    recipient: str,
    subject: str,
    body: str,
    account_id: int | None = None,
    school_uai: str | None = None,
) -> OutboxMessage:
    """Store one message in the outbox."""
    message = OutboxMessage(
        channel=channel.value,
        recipient=recipient,
        account_id=account_id,
        school_uai=school_uai,
        subject=subject,
        body=body,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def list_messages(
    session: Session,
    after: int,
    limit: int,
    recipient: str | None = None,
    channel: Channel | None = None,
    school_uai: str | None = None,
) -> list[OutboxMessage]:
    """Messages by id after a keyset position, filtered."""
    query = select(OutboxMessage).where(col(OutboxMessage.id) > after)
    if recipient is not None:
        query = query.where(col(OutboxMessage.recipient) == recipient)
    if channel is not None:
        query = query.where(col(OutboxMessage.channel) == channel.value)
    if school_uai is not None:
        query = query.where(col(OutboxMessage.school_uai) == school_uai)
    return list(session.scalars(query.order_by(col(OutboxMessage.id)).limit(limit)))
