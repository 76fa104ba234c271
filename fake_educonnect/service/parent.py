"""What a parent does once known: log in, change the password, confirm or refuse children."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from edusim_common.problems import Conflict
from fake_educonnect.models import (
    Account,
    AccountSource,
    AccountState,
    Attachment,
    AttachmentStatus,
    Child,
    Letter,
    LoginSession,
    OneTimeCode,
    Origin,
)
from fake_educonnect.security import Passwords, new_token, token_digest
from fake_educonnect.service import outbox


class Step(StrEnum):
    """What a parent must do before going on."""

    change_password = "change_password"
    attachment = "attachment"


@dataclass(frozen=True)
class Opened:
    """A new session and its bearer token."""

    token: str
    login: LoginSession


def open_session(session: Session, now: datetime, account: Account, ttl: timedelta) -> Opened:
    """Log ``account`` in: a session, the last-login time, and the proposals to present."""
    token = new_token()
    login = LoginSession(
        token_hash=token_digest(token),
        account_id=account.id or 0,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(login)
    session.flush()
    account.last_login_at = now
    if account.must_change_password:
        login.step = Step.change_password.value
    else:
        _present_proposals(session, now, account, login)
    return Opened(token, login)


def _present_proposals(
    session: Session, now: datetime, account: Account, login: LoginSession
) -> None:
    """Show every proposal not yet shown; proposals are shown at one login only."""
    shown = session.execute(
        update(Attachment)
        .where(
            col(Attachment.account_id) == account.id,
            col(Attachment.status) == AttachmentStatus.proposed.value,
            col(Attachment.presented_at).is_(None),
        )
        .values(presented_at=now, presented_session_id=login.id)
    )
    login.step = Step.attachment.value if shown.rowcount else None  # type: ignore[attr-defined]


def session_for(session: Session, now: datetime, token: str) -> LoginSession | None:
    """The live session of a bearer token, or None."""
    login = session.scalars(
        select(LoginSession).where(col(LoginSession.token_hash) == token_digest(token))
    ).first()
    if login is None or login.expires_at <= now:
        return None
    return login


def verify_login(
    session: Session, passwords: Passwords, now: datetime, identifiant: str, password: str
) -> tuple[Account, Letter | None] | None:
    """The account if the password (or a live school letter's password) is right, else None."""
    account = session.scalars(
        select(Account).where(col(Account.identifiant) == identifiant.strip().lower())
    ).first()
    if account is None:
        passwords.verify(None, password)
        return None
    if account.password_hash and passwords.verify(account.password_hash, password):
        return account, None
    letters = session.scalars(
        select(Letter).where(
            col(Letter.account_id) == account.id,
            col(Letter.used_at).is_(None),
            col(Letter.expires_at) > now,
        )
    ).all()
    for letter in letters:
        if passwords.verify(letter.password_hash, password):
            return account, letter
    if not account.password_hash and not letters:
        passwords.verify(None, password)
    return None


def set_password(
    session: Session,
    passwords: Passwords,
    now: datetime,
    account: Account,
    login: LoginSession,
    new_password: str,
) -> None:
    """Choose a new password; a school letter's first login activates the account."""
    account.password_hash = passwords.hash(new_password)
    account.must_change_password = False
    account.updated_at = now
    session.execute(
        update(Letter)
        .where(col(Letter.account_id) == account.id, col(Letter.used_at).is_(None))
        .values(used_at=now)
    )
    if account.state == AccountState.non_active.value:
        activate(account, now, Origin.Etablissement)
    if login.step == Step.change_password.value:
        _present_proposals(session, now, account, login)


def activate(account: Account, now: datetime, origin: Origin) -> None:
    """Make ``account`` active with its origin (set once, at activation)."""
    account.state = AccountState.active.value
    account.origin = origin.value
    account.activated_at = now
    account.updated_at = now


def presented_proposals(session: Session, login: LoginSession) -> list[tuple[Attachment, Child]]:
    """The proposals shown at this login and still open."""
    query = (
        select(Attachment, Child)
        .join(Child, col(Child.id) == col(Attachment.child_id))
        .where(
            col(Attachment.presented_session_id) == login.id,
            col(Attachment.status) == AttachmentStatus.proposed.value,
        )
        .order_by(col(Attachment.id))
    )
    return [(row[0], row[1]) for row in session.execute(query)]


class Decision(StrEnum):
    """What became of one proposal."""

    attached = "attached"
    wrong_date = "wrong_date"
    blocked = "blocked"
    refused = "refused"


def confirm_child(
    session: Session,
    now: datetime,
    login: LoginSession,
    attachment: Attachment,
    child: Child,
    birth_date: date,
) -> Decision:
    """Check the child's birth date: right → attached; wrong → one try less, blocked at zero."""
    if birth_date == child.birth_date:
        _decide(attachment, now, AttachmentStatus.attached, "parent", None)
        decision = Decision.attached
    else:
        attachment.tries_left -= 1
        if attachment.tries_left <= 0:
            _decide(
                attachment,
                now,
                AttachmentStatus.blocked,
                "parent",
                "wrong birth date: the school can unblock it",
            )
            decision = Decision.blocked
        else:
            decision = Decision.wrong_date
    _settle_step(session, login)
    return decision


def refuse_child(
    session: Session,
    now: datetime,
    login: LoginSession,
    attachment: Attachment,
    child: Child,
    account: Account,
) -> Decision:
    """ "Je ne suis pas le représentant légal de cet élève": refuse, and tell the school."""
    _decide(attachment, now, AttachmentStatus.refused, "parent", "not the legal representative")
    outbox.send(
        session,
        now,
        outbox.Channel.school,
        child.school_uai,
        "Rattachement refusé par un responsable",
        f"Le compte EduConnect {account.identifiant} ({account.prenom} {account.nom}) déclare ne "
        f"pas être le représentant légal de l'élève {child.prenoms} {child.nom} (INE {child.ine}). "
        "Vérifiez les responsables de cet élève dans ONDE.",
        account_id=account.id,
        school_uai=child.school_uai,
    )
    _settle_step(session, login)
    return Decision.refused


def _decide(
    attachment: Attachment, now: datetime, status: AttachmentStatus, by: str, reason: str | None
) -> None:
    attachment.status = status.value
    attachment.decided_at = now
    attachment.decided_by = by
    attachment.reason = reason


def _settle_step(session: Session, login: LoginSession) -> None:
    session.flush()
    if login.step == Step.attachment.value and not presented_proposals(session, login):
        login.step = None


_RANK = {
    AttachmentStatus.attached.value: 4,
    AttachmentStatus.proposed.value: 3,
    AttachmentStatus.blocked.value: 2,
    AttachmentStatus.refused.value: 1,
    AttachmentStatus.removed.value: 0,
}


def merge_from(
    session: Session,
    now: datetime,
    passwords: Passwords,
    target: Account,
    identifiant: str,
    temporary_password: str,
) -> list[Child] | None:
    """ "Ajouter des élèves depuis un autre compte": absorb an account known by its letter.

    The other account is proved by its identifiant and the temporary password of a live school
    letter; its family name and first name must be identical. Its children are attached here, its
    source records move here, and it is deleted. None if the credentials are wrong.
    """
    other = session.scalars(
        select(Account).where(col(Account.identifiant) == identifiant.strip().lower())
    ).first()
    letters = (
        session.scalars(
            select(Letter).where(
                col(Letter.account_id) == other.id,
                col(Letter.used_at).is_(None),
                col(Letter.expires_at) > now,
            )
        ).all()
        if other is not None and other.id != target.id
        else []
    )
    if other is None or not any(
        passwords.verify(x.password_hash, temporary_password) for x in letters
    ):
        passwords.verify(None, temporary_password)
        return None
    if other.match_key != target.match_key:
        raise Conflict(
            f"the family name and first name of {other.identifiant} ({other.prenom} {other.nom}) "
            f"differ from yours ({target.prenom} {target.nom}): the school must correct ONDE first"
        )
    return _absorb(session, now, target, other)


def _absorb(session: Session, now: datetime, target: Account, other: Account) -> list[Child]:
    mine = {
        a.child_id: a
        for a in session.scalars(select(Attachment).where(col(Attachment.account_id) == target.id))
    }
    moved: list[Child] = []
    for attachment in session.scalars(
        select(Attachment).where(col(Attachment.account_id) == other.id)
    ).all():
        child = session.get(Child, attachment.child_id)
        current = mine.get(attachment.child_id)
        if current is not None and _RANK[current.status] >= _RANK[attachment.status]:
            session.delete(attachment)
            continue
        if current is not None:
            session.delete(current)
        attachment.account_id = target.id or 0
        if attachment.status != AttachmentStatus.removed.value:
            attachment.status = AttachmentStatus.attached.value
            attachment.decided_at = now
            attachment.decided_by = "merge"
            attachment.reason = f"added from account {other.identifiant}"
            if child is not None:
                moved.append(child)
    session.execute(
        update(AccountSource)
        .where(col(AccountSource.account_id) == other.id)
        .values(account_id=target.id)
    )
    for model in (Letter, OneTimeCode, LoginSession):
        session.execute(delete(model).where(col(model.account_id) == other.id))
    session.flush()
    session.delete(other)
    target.updated_at = now
    return moved
