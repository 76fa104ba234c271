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
    OutboxMessage,
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


def logged_in(session: Session, now: datetime, token: str) -> tuple[LoginSession, Account] | None:
    """The live session of a bearer token and its account, or None.

    A session outlives neither its account nor the account's activity: once the account is
    deactivated (no enrolled child left), its open sessions stop working, as its login does.
    """
    login = session_for(session, now, token)
    account = session.get(Account, login.account_id) if login else None
    if login is None or account is None or account.state == AccountState.desactive.value:
        return None
    return login, account


ENDED = "ended-"
"""Prefix of the token hash of an ended session (a SHA-256 digest is hex: it never matches)."""


def end_session(login: LoginSession, now: datetime) -> None:
    """Close a session for good: its token stops working, even if the clock is set back.

    The row is kept, not deleted: its id is never given to a later session (the proposals shown
    at a login are tied to it; on SQLite a deleted last row's id would be reused), and the
    account's first login stays on record.
    """
    login.token_hash = f"{ENDED}{login.id}"
    login.expires_at = min(login.expires_at, now)


def _live_letter(session: Session, account_id: int, now: datetime) -> Letter | None:
    """The account's school letter still usable (a new letter voids the earlier ones)."""
    return session.scalars(
        select(Letter)
        .where(
            col(Letter.account_id) == account_id,
            col(Letter.used_at).is_(None),
            col(Letter.expires_at) > now,
        )
        .order_by(col(Letter.id).desc())
        .limit(1)
    ).first()


def verify_login(
    session: Session, passwords: Passwords, now: datetime, identifiant: str, password: str
) -> tuple[Account, Letter | None] | None:
    """The account if the password (or a live school letter's password) is right, else None.

    Every path does the same work, two argon2 checks (the password, then the letter; a decoy
    hash stands in for what is missing), so the answer's timing tells nothing about whether the
    account exists, has a password, or has a letter waiting.
    """
    account = session.scalars(
        select(Account).where(col(Account.identifiant) == identifiant.strip().lower())
    ).first()
    letter = _live_letter(session, account.id if account and account.id else 0, now)
    password_ok = passwords.verify(account.password_hash if account else None, password)
    letter_ok = passwords.verify(letter.password_hash if letter else None, password)
    if account is None:
        return None
    if password_ok:
        return account, None
    if letter_ok and letter is not None:
        return account, letter
    return None


class PasswordRule(StrEnum):
    """What a parent must prove to choose a new password within her session."""

    forced = "forced"
    """After a school letter's temporary password: the new one is chosen at once."""
    first = "first"
    """No password yet (an account opened with FranceConnect): the parent's own session suffices."""
    change = "change"
    """The current password is asked."""


def password_rule(account: Account, login: LoginSession) -> PasswordRule:
    """Whether the current password is asked before a new one is set.

    An account with no password can only be logged into through FranceConnect (a school
    letter's login is the forced step): there is no current password to ask, and the session,
    opened by FranceConnect, proves the parent.
    """
    if login.step == Step.change_password.value:
        return PasswordRule.forced
    if account.password_hash is None:
        return PasswordRule.first
    return PasswordRule.change


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
            col(Attachment.account_id) == login.account_id,
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


# How a merge settles one child that both accounts hold: the most restrictive, most informative
# status wins. A refusal ("not the legal representative") or a block (wrong birth date) is never
# turned into an attachment by a merge: only the school can lift it.
_MERGE_RANK = {
    AttachmentStatus.refused.value: 4,
    AttachmentStatus.blocked.value: 3,
    AttachmentStatus.attached.value: 2,
    AttachmentStatus.proposed.value: 1,
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
    if other is not None and other.id == target.id:
        other = None
    letter = _live_letter(session, other.id if other and other.id else 0, now)
    # One argon2 check on every path (a decoy hash when there is no letter).
    proved = passwords.verify(letter.password_hash if letter else None, temporary_password)
    if other is None or not proved:
        return None
    if other.match_key != target.match_key:
        raise Conflict(
            f"the family name and first name of {other.identifiant} ({other.prenom} {other.nom}) "
            f"differ from yours ({target.prenom} {target.nom}): the school must correct ONDE first"
        )
    return _absorb(session, now, target, other)


def _merged_status(status: str) -> str:
    """What an attachment of the absorbed account becomes here.

    The school letter that proves the other account vouches for its open proposals (they are
    attached); a blocked, refused or removed link keeps its status.
    """
    if status == AttachmentStatus.proposed.value:
        return AttachmentStatus.attached.value
    return status


def _absorb(session: Session, now: datetime, target: Account, other: Account) -> list[Child]:
    mine = {
        a.child_id: a
        for a in session.scalars(select(Attachment).where(col(Attachment.account_id) == target.id))
    }
    moved: list[Child] = []
    for attachment in session.scalars(
        select(Attachment).where(col(Attachment.account_id) == other.id)
    ).all():
        status = _merged_status(attachment.status)
        current = mine.get(attachment.child_id)
        if current is not None and _MERGE_RANK[current.status] >= _MERGE_RANK[status]:
            session.delete(attachment)
            continue
        if current is not None:
            session.delete(current)
            # The delete must reach the database before the move: (account, child) is unique.
            session.flush()
        attachment.account_id = target.id or 0
        if status != attachment.status:
            attachment.status = status
            attachment.decided_at = now
            attachment.decided_by = "merge"
            attachment.reason = f"added from account {other.identifiant}"
        if status == AttachmentStatus.attached.value and (
            current is None or current.status != AttachmentStatus.attached.value
        ):
            child = session.get(Child, attachment.child_id)
            if child is not None:
                moved.append(child)
    session.execute(
        update(AccountSource)
        .where(col(AccountSource.account_id) == other.id)
        .values(account_id=target.id)
    )
    # The messages sent about the other account are this parent's too; none must stay under an
    # id that a later account may be given.
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.account_id) == other.id)
        .values(account_id=target.id)
    )
    for model in (Letter, OneTimeCode, LoginSession):
        session.execute(delete(model).where(col(model.account_id) == other.id))
    session.flush()
    session.delete(other)
    target.updated_at = now
    return moved
