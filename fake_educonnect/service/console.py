"""The director console ("administration des comptes EduConnect"), scoped to one school."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Exists, exists, func, select
from sqlmodel import Session, col

from edusim_common.problems import Conflict, Forbidden
from edusim_common.text import fold_letters
from fake_educonnect.models import (
    Account,
    AccountSource,
    AccountState,
    Attachment,
    AttachmentStatus,
    Child,
    Origin,
)

SELF_ACTIVATED = frozenset({Origin.FranceConnect.value, Origin.Responsable.value})
#: Where a director sends a self-activated parent first: the self-service routes (POST).
SELF_SERVICE_LINKS = {
    "identifiant_oublie": [
        "/api/v1/selfservice/identifiant/sms",
        "/api/v1/selfservice/identifiant/email",
    ],
    "mot_de_passe_oublie": ["/api/v1/selfservice/password"],
}


@dataclass(frozen=True)
class ConsoleFilter:
    """The console's search fields."""

    nom: str | None = None
    prenom: str | None = None
    identifiant: str | None = None
    state: str | None = None
    origin: str | None = None
    email: str | None = None
    class_label: str | None = None


def _of_school(uai: str) -> Exists:
    """The director's scope: accounts with a live (not deleted) responsable in the school."""
    return exists().where(
        col(AccountSource.account_id) == col(Account.id),
        col(AccountSource.school_uai) == uai,
        col(AccountSource.deleted_at).is_(None),
    )


def check_account_in_school(session: Session, account: Account, uai: str) -> None:
    """A director never sees another school's parents (nor one deleted from their school)."""
    found = session.scalar(
        select(col(Account.id)).where(col(Account.id) == account.id, _of_school(uai))
    )
    if found is None:
        raise Forbidden(f"account {account.id} has no responsable in school {uai}")


def check_attachment_in_school(child: Child, uai: str) -> None:
    """A director acts only on the attachments of their own pupils."""
    if child.school_uai != uai:
        raise Forbidden(f"this pupil belongs to school {child.school_uai}, not {uai}")


def search(
    session: Session, uai: str, filters: ConsoleFilter, after: int, limit: int
) -> list[Account]:
    """The school's accounts by id, filtered."""
    query = select(Account).where(col(Account.id) > after, _of_school(uai))
    # The start of a name, as ONDE's lists and the sync's pages search (« Lef » finds Lefèvre):
    # the names key is « familyname|firstname », folded.
    for given in (filters.nom, filters.prenom):
        if given and not fold_letters(given):  # no letter in it: no name starts with it
            return []
    if filters.nom:
        key = fold_letters(filters.nom)
        query = query.where(col(Account.match_key).startswith(key, autoescape=True))
    if filters.prenom:
        key = "|" + fold_letters(filters.prenom)
        query = query.where(col(Account.match_key).contains(key, autoescape=True))
    if filters.identifiant:  # identifiants are lower-case: as the parent types it, or not
        query = query.where(col(Account.identifiant) == filters.identifiant.strip().lower())
    if filters.state:
        query = query.where(col(Account.state) == filters.state)
    if filters.origin:
        query = query.where(col(Account.origin) == filters.origin)
    if filters.email:
        query = query.where(func.lower(col(Account.email)) == filters.email.strip().lower())
    if filters.class_label:
        query = query.where(
            exists().where(
                col(Attachment.account_id) == col(Account.id),
                col(Attachment.child_id) == col(Child.id),
                col(Child.school_uai) == uai,
                col(Child.class_label) == filters.class_label,
            )
        )
    return list(session.scalars(query.order_by(col(Account.id)).limit(limit)))


def school_attachments(
    session: Session, account_ids: list[int], uai: str
) -> dict[int, list[tuple[Attachment, Child]]]:
    """The attachments of these accounts to the school's pupils, in one query."""
    found: dict[int, list[tuple[Attachment, Child]]] = {
        account_id: [] for account_id in account_ids
    }
    if not account_ids:
        return found
    query = (
        select(Attachment, Child)
        .join(Child, col(Child.id) == col(Attachment.child_id))
        .where(col(Attachment.account_id).in_(account_ids), col(Child.school_uai) == uai)
        .order_by(col(Attachment.id))
    )
    for row in session.execute(query):
        found[row[0].account_id].append((row[0], row[1]))
    return found


class AccountDeactivated(Conflict):
    """A deactivated account gets no letter and no reset."""

    code = "account-deactivated"


def check_not_deactivated(account: Account) -> None:
    """No letter nor reset for a deactivated account: it could not be used (its login is
    refused), and it comes back by itself when a child of the parent is enrolled again."""
    if account.state == AccountState.desactive.value:
        raise AccountDeactivated(
            f"account {account.identifiant} is deactivated: no enrolled child is left on it, so "
            "it gets no letter nor password reset (its login is refused); it is restored by the "
            "sync when one of its children is admitted again",
            extra={"state": account.state, "reason": "no_enrolled_child"},
        )


def check_reset_allowed(account: Account, confirmed: bool) -> None:
    """No letter nor reset for a deactivated account; a parent who activated alone is first
    sent to the self-service tools."""
    check_not_deactivated(account)
    if account.origin in SELF_ACTIVATED and not confirmed:
        raise Conflict(
            f"this parent activated the account alone (origin {account.origin}): send them to "
            "the self-service tools first (identifiant oublié, mot de passe oublié); to reset "
            "anyway, repeat with confirm=true",
            extra={"origin": account.origin, "self_service": SELF_SERVICE_LINKS},
        )


def unblock(attachment: Attachment, now: datetime, tries: int) -> None:
    """Propose the child again at the parent's next login."""
    if attachment.status not in (
        AttachmentStatus.blocked.value,
        AttachmentStatus.refused.value,
        AttachmentStatus.proposed.value,
    ):
        raise Conflict(f"attachment {attachment.id} is {attachment.status}: nothing to unblock")
    attachment.status = AttachmentStatus.proposed.value
    attachment.tries_left = tries
    attachment.proposed_at = now
    attachment.presented_at = None
    attachment.presented_session_id = None
    attachment.decided_at = now
    attachment.decided_by = "director"
    attachment.reason = "unblocked by the school: proposed again at the next login"


def attach_by_hand(attachment: Attachment, now: datetime) -> None:
    """The director attaches the child directly."""
    if attachment.status == AttachmentStatus.removed.value:
        raise Conflict(f"attachment {attachment.id} was removed by the sync: the link is gone")
    if attachment.status == AttachmentStatus.attached.value:
        raise Conflict(f"attachment {attachment.id} is already attached")
    attachment.status = AttachmentStatus.attached.value
    attachment.decided_at = now
    attachment.decided_by = "director"
    attachment.reason = "attached by the school"


@dataclass(frozen=True)
class Stats:
    """Activation statistics of one school."""

    accounts: int
    by_state: dict[str, int]
    by_origin: dict[str, int]
    attachments: dict[str, int]


def stats(session: Session, uai: str) -> Stats:
    """Counts per state, per origin and per attachment status for the school."""
    rows = session.execute(
        select(col(Account.state), col(Account.origin)).where(_of_school(uai))
    ).all()
    by_state = Counter(state for state, _ in rows)
    by_origin = Counter(origin or "none" for _, origin in rows)
    statuses = session.execute(
        select(col(Attachment.status), func.count())
        .join(Child, col(Child.id) == col(Attachment.child_id))
        .where(col(Child.school_uai) == uai)
        .group_by(col(Attachment.status))
    ).all()
    return Stats(
        accounts=len(rows),
        by_state=dict(by_state),
        by_origin=dict(by_origin),
        attachments={str(row[0]): int(row[1]) for row in statuses},
    )
