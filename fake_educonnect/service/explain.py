"""The FAQ turned into a diagnosis: where a responsable or an account stands, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from edusim_common.clock import PARIS
from fake_educonnect.models import (
    Account,
    AccountSource,
    AccountState,
    AttachmentStatus,
    ExcludedSource,
    Letter,
)
from fake_educonnect.service.accounts import attachments_of, sources_of


@dataclass(frozen=True)
class Statement:
    """One plain-words fact with a stable code."""

    code: str
    text: str


def _day(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y") if value else "?"


def explain_source(session: Session, now: datetime, source: str, source_id: str) -> list[Statement]:
    """Why a source responsable has, or has not, an account."""
    excluded = session.scalars(
        select(ExcludedSource).where(
            col(ExcludedSource.source) == source, col(ExcludedSource.source_id) == source_id
        )
    ).first()
    if excluded is not None:
        return [Statement("excluded", f"{excluded.prenom} {excluded.nom}: {excluded.reason}.")]
    link = session.scalars(
        select(AccountSource).where(
            col(AccountSource.source) == source, col(AccountSource.source_id) == source_id
        )
    ).first()
    if link is None:
        how = (
            "a change made in ONDE on day D reaches EduConnect with the night's sync, on D+1"
            if source == "onde"
            else "secondary-school (SIECLE) records are loaded as fixtures (POST "
            "/api/v1/fixtures/siecle), not synchronised from ONDE"
        )
        return [
            Statement(
                "not_synchronised",
                f"No EduConnect record for {source} responsable {source_id} yet: {how}.",
            )
        ]
    account = session.get(Account, link.account_id)
    assert account is not None
    statements = explain_account(session, now, account)
    if link.deleted_at is not None:
        statements.insert(
            0,
            Statement(
                "source_deleted",
                f"{source} responsable {source_id} was deleted in {source.upper()} on "
                f"{_day(link.deleted_at)}: its links were removed and it gives the account no "
                "contact data any more.",
            ),
        )
    return statements


def explain_account(
    session: Session, now: datetime, account: Account, school_uai: str | None = None
) -> list[Statement]:
    """Where an account stands: state, origin, contact, and each child's attachment.

    With ``school_uai`` (the director console), only that school's responsables, letters and
    pupils are looked at: a director learns nothing of another school.
    """
    out: list[Statement] = []
    who = f"{account.prenom} {account.nom} ({account.identifiant})"
    if account.state == AccountState.non_active.value:
        out.append(
            Statement(
                "non_active",
                f"{who}: account created on {_day(account.created_at)} by the sync, never "
                "activated. Activation: FranceConnect (preferred), SMS to the mobile known from "
                "ONDE, or a letter printed by the school.",
            )
        )
        sources = [
            s
            for s in sources_of(session, account.id or 0)
            if s.deleted_at is None and school_uai in (None, s.school_uai)
        ]
        if not any(s.mobile for s in sources):
            out.append(
                Statement(
                    "no_mobile",
                    "No mobile in ONDE: SMS activation impossible; use FranceConnect or a letter "
                    "from the school (the director can also add the mobile in ONDE: it arrives "
                    "the next day).",
                )
            )
        elif not any(s.mobile and s.accepts_sms for s in sources):
            out.append(
                Statement("sms_refused", "The mobile in ONDE does not accept SMS: no SMS code.")
            )
    elif account.state == AccountState.active.value:
        last = f"last login {_day(account.last_login_at)}" if account.last_login_at else "no login"
        out.append(
            Statement(
                "active",
                f"{who}: activated on {_day(account.activated_at)} (origin {account.origin}); "
                f"{last}.",
            )
        )
        if account.origin in ("FranceConnect", "Responsable"):
            out.append(
                Statement(
                    "self_activated",
                    "This parent activated alone: for a lost identifiant or password, send them "
                    "to the self-service tools before resetting the account.",
                )
            )
    else:
        out.append(
            Statement(
                "desactive",
                f"{who}: deactivated on {_day(account.deactivated_at)}: no enrolled child left. "
                "It comes back by itself if a child is enrolled again.",
            )
        )
    letters = select(Letter).where(
        col(Letter.account_id) == account.id,
        col(Letter.used_at).is_(None),
        col(Letter.expires_at) > now,
    )
    if school_uai is not None:
        letters = letters.where(col(Letter.school_uai) == school_uai)
    letter = session.scalars(letters).first()
    if letter is not None:
        out.append(
            Statement(
                "letter_pending",
                f"A school letter printed on {_day(letter.created_at)} is valid until "
                f"{_day(letter.expires_at)}.",
            )
        )
    for attachment, child in attachments_of(session, account.id or 0):
        if school_uai is not None and child.school_uai != school_uai:
            continue
        name = f"{child.prenoms} {child.nom}"
        status = attachment.status
        if status == AttachmentStatus.attached.value:
            text = f"{name} is attached ({attachment.decided_by or 'parent'})."
        elif status == AttachmentStatus.proposed.value and attachment.presented_at is None:
            text = f"{name} will be proposed at the next login (birth-date check)."
        elif status == AttachmentStatus.proposed.value:
            text = (
                f"{name} was proposed at the login of {_day(attachment.presented_at)} and left "
                "open: proposals are shown once; the director can unblock it (proposed again at "
                "the next login) or attach it by hand."
            )
            status = "proposed_open"
        elif status == AttachmentStatus.blocked.value:
            text = (
                f"Attachment of {name} blocked after a wrong birth date: the director can unblock "
                "it or attach it by hand."
            )
        elif status == AttachmentStatus.refused.value:
            text = (
                f"{name}: the parent said they are not the legal representative; the school was "
                "told."
            )
        else:
            text = (
                f"{name}: link removed by the sync on {_day(attachment.decided_at)} (pupil struck "
                "off, or the link was deleted in ONDE)."
            )
        out.append(Statement(status, text))
    return out
