"""Reading accounts, their sources and their attachments."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from edusim_common.problems import NotFound
from fake_educonnect.models import Account, AccountSource, Attachment, Child


@dataclass(frozen=True)
class AccountFilter:
    """Filters of the account list."""

    identifiant: str | None = None
    state: str | None = None
    origin: str | None = None
    school_uai: str | None = None
    source: str | None = None
    source_id: str | None = None


def get_account(session: Session, account_id: int) -> Account:
    """The account with this id, or 404."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account with id {account_id}")
    return account


def list_accounts(
    session: Session, filters: AccountFilter, after: int, limit: int
) -> list[Account]:
    """Accounts by id after a keyset position, filtered."""
    query = select(Account).where(col(Account.id) > after)
    if filters.identifiant is not None:
        query = query.where(col(Account.identifiant) == filters.identifiant.strip().lower())
    if filters.state is not None:
        query = query.where(col(Account.state) == filters.state)
    if filters.origin is not None:
        query = query.where(col(Account.origin) == filters.origin)
    if any(value is not None for value in (filters.school_uai, filters.source, filters.source_id)):
        sources = select(col(AccountSource.account_id))
        if filters.school_uai is not None:
            sources = sources.where(col(AccountSource.school_uai) == filters.school_uai)
        if filters.source is not None:
            sources = sources.where(col(AccountSource.source) == filters.source)
        if filters.source_id is not None:
            sources = sources.where(col(AccountSource.source_id) == filters.source_id)
        query = query.where(col(Account.id).in_(sources))
    return list(session.scalars(query.order_by(col(Account.id)).limit(limit)))


def sources_of(session: Session, account_id: int) -> list[AccountSource]:
    """The source records an account stands for."""
    query = select(AccountSource).where(col(AccountSource.account_id) == account_id)
    return list(session.scalars(query.order_by(col(AccountSource.id))))


def attachments_of(session: Session, account_id: int) -> list[tuple[Attachment, Child]]:
    """An account's attachments with their children."""
    query = (
        select(Attachment, Child)
        .join(Child, col(Child.id) == col(Attachment.child_id))
        .where(col(Attachment.account_id) == account_id)
        .order_by(col(Attachment.id))
    )
    return [(row[0], row[1]) for row in session.execute(query)]
