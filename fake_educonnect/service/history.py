"""What EduConnect did for one source responsable, in time order, rebuilt from what it stores.

EduConnect keeps the current state, not an event log, so the history is read from the
timestamps it keeps: exclusion, account creation, activation and origin, letters, outbox
messages, logins, and each child's attachment (proposed, shown at a login, decided). What was
overwritten is not invented: an attachment unblocked by the school shows only its unblocking (its
earlier block is gone: ``details.before`` says it was blocked or refused, not when), a link removed
by the sync does not say what it was before, an account restored by the sync keeps no trace of its
deactivation, and the first login is the earliest one still known (a session ended by a logout
leaves no trace; the last-login time stays). A letter says why it was printed (``situation``:
first activation, reset, new letter; null for a letter printed by an older version); its copy in
the outbox is folded into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from fake_educonnect.models import (
    Account,
    AccountSource,
    Attachment,
    AttachmentStatus,
    Child,
    ExcludedSource,
    Letter,
    LoginSession,
    OutboxMessage,
)
from fake_educonnect.service.accounts import attachments_of
from fake_educonnect.service.imports import source_key


@dataclass(frozen=True)
class Event:
    """One dated fact: ``kind`` is a stable code, ``details`` its data."""

    at: datetime
    kind: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceHistory:
    """The account a source responsable stands in (if any), and the events, oldest first."""

    account: Account | None
    excluded: ExcludedSource | None
    attachments: list[tuple[Attachment, Child]]
    events: list[Event]
    first_login_at: datetime | None


def account_of_source(session: Session, source: str, source_id: str) -> Account | None:
    """The account a source record stands for, if the sync created or matched one."""
    account_id = session.scalar(
        select(col(AccountSource.account_id)).where(
            col(AccountSource.source) == source, col(AccountSource.source_id) == source_id
        )
    )
    return session.get(Account, account_id) if account_id is not None else None


def _child(child: Child, attachment: Attachment, via: str) -> dict[str, Any]:
    return {
        "attachment_id": attachment.id,
        "child_id": child.id,
        "child_source_id": child.source_id,
        "child": f"{child.prenoms} {child.nom}",
        "child_source": child.source,
        "school_uai": child.school_uai,
        "degree": child.degree,
        "via_this_source": attachment.source_id == via,
    }


def _attachment_events(attachment: Attachment, child: Child, via: str) -> list[Event]:
    base = _child(child, attachment, via)
    events: list[Event] = []
    unblocked = attachment.decided_by == "director" and attachment.status == (
        AttachmentStatus.proposed.value
    )
    if attachment.proposed_at is not None and not unblocked:
        events.append(Event(attachment.proposed_at, "child_proposed", base))
    if attachment.decided_at is not None:
        kind = "child_unblocked" if unblocked else f"child_{attachment.status}"
        details = base | {"by": attachment.decided_by, "reason": attachment.reason}
        if unblocked:
            details["before"] = "blocked_or_refused"  # which one, and when, is overwritten
        elif attachment.status == AttachmentStatus.removed.value:
            details["before"] = "unknown"  # attached, proposed, blocked…: overwritten
        events.append(Event(attachment.decided_at, kind, details))
    if attachment.presented_at is not None:
        events.append(Event(attachment.presented_at, "child_presented", base))
    return events


def _first_login(session: Session, account: Account, presented: list[datetime]) -> datetime | None:
    earliest = session.scalar(
        select(func.min(col(LoginSession.created_at))).where(
            col(LoginSession.account_id) == account.id
        )
    )
    known = [t for t in (earliest, *presented, account.last_login_at) if t is not None]
    return min(known) if known else None


def source_history(session: Session, source: str, source_id: str) -> SourceHistory:
    """The events of one source responsable: exclusion, or its account's whole life."""
    excluded = session.scalars(
        select(ExcludedSource).where(
            col(ExcludedSource.source) == source, col(ExcludedSource.source_id) == source_id
        )
    ).first()
    events: list[Event] = []
    if excluded is not None:
        events.append(Event(excluded.at, "excluded", {"reason": excluded.reason}))
    account = account_of_source(session, source, source_id)
    if account is None:
        return SourceHistory(None, excluded, [], events, None)
    account_id = account.id or 0
    events.append(
        Event(account.created_at, "account_created", {"identifiant": account.identifiant})
    )
    messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(col(OutboxMessage.account_id) == account_id)
            .order_by(col(OutboxMessage.id))
        )
    )
    copies = _letter_copies(messages)
    for letter in session.scalars(
        select(Letter).where(col(Letter.account_id) == account_id).order_by(col(Letter.id))
    ):
        copy = copies.get((letter.school_uai, letter.created_at), [])
        if copy:
            copy.pop(0)  # its event says it: the copy is not a step of its own
        situation = letter.situation
        details = {"expires_at": letter.expires_at.isoformat(), "situation": situation}
        events.append(Event(letter.created_at, "letter_printed", details))
        if letter.used_at is not None:
            events.append(Event(letter.used_at, "letter_used", {"situation": situation}))
    unpaired = {m.id for left in copies.values() for m in left}
    for message in messages:
        if message.channel == "letter" and message.id not in unpaired:
            continue  # the letter's own copy: its event says it
        events.append(
            Event(
                message.created_at,
                "message",
                {"channel": message.channel, "subject": message.subject},
            )
        )
    if account.activated_at is not None:
        events.append(Event(account.activated_at, "activated", {"origin": account.origin}))
    via = source_key(source, source_id)
    attachments = attachments_of(session, account_id)
    for attachment, child in attachments:
        events.extend(_attachment_events(attachment, child, via))
    first_login = _first_login(
        session, account, [a.presented_at for a, _ in attachments if a.presented_at is not None]
    )
    if first_login is not None:
        events.append(Event(first_login, "first_login"))
    if account.last_login_at is not None and account.last_login_at != first_login:
        events.append(Event(account.last_login_at, "last_login"))
    if account.deactivated_at is not None:
        events.append(Event(account.deactivated_at, "deactivated"))
    order = {kind: rank for rank, kind in enumerate(_SAME_TIME_ORDER)}
    events.sort(key=lambda e: (e.at, order.get(e.kind, len(order))))
    return SourceHistory(account, excluded, attachments, events, first_login)


def _letter_copies(
    messages: list[OutboxMessage],
) -> dict[tuple[str | None, datetime], list[OutboxMessage]]:
    """The outbox copies of the letters, by school and time, oldest first (a letter and its copy
    are written together, at the same instant)."""
    copies: dict[tuple[str | None, datetime], list[OutboxMessage]] = {}
    for message in messages:
        if message.channel == "letter":
            copies.setdefault((message.school_uai, message.created_at), []).append(message)
    return copies


# Events at the same instant, in the order they happen (an SMS activation logs in at once).
_SAME_TIME_ORDER = (
    "excluded",
    "account_created",
    "child_proposed",
    "letter_printed",
    "message",
    "activated",
    "letter_used",
    "first_login",
    "last_login",
    "child_presented",
    "child_attached",
    "child_blocked",
    "child_refused",
    "child_unblocked",
    "child_removed",
    "deactivated",
)
