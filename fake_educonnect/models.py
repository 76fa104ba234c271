"""EduConnect data: accounts, their sources, children, attachments, codes, letters, outbox."""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Index, Table, Text, UniqueConstraint, func, text, true
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from edusim_common.db import UTCDateTime, add_missing_columns

log = logging.getLogger("edusim.educonnect")


class EduConnectModel(SQLModel, registry=registry()):
    """Base of EduConnect's tables: their own metadata, apart from the other services'."""


def table_of(model: Any) -> Table:
    """A table model's ``Table``."""
    table: Table = model.__table__
    return table


class AccountState(StrEnum):
    """Life of a parent account (names are an assumption)."""

    non_active = "non_active"
    active = "active"
    desactive = "desactive"


class Origin(StrEnum):
    """How the parent activated the account (the "provenance" shown to the director)."""

    FranceConnect = "FranceConnect"
    Responsable = "Responsable"
    Etablissement = "Etablissement"


class AttachmentStatus(StrEnum):
    """Where the link between an account and a child stands."""

    proposed = "proposed"
    attached = "attached"
    blocked = "blocked"
    refused = "refused"
    removed = "removed"


class SourceKind(StrEnum):
    """Where a record comes from."""

    onde = "onde"
    siecle = "siecle"


class Account(EduConnectModel, table=True):
    # The import's candidates for matching: same names and mobile, found in the index alone.
    __table_args__ = (Index("ix_account_match_mobile", "match_key", "mobile"),)

    id: int | None = Field(default=None, primary_key=True)
    identifiant: str = Field(unique=True, max_length=40)
    identifiant_base: str = Field(max_length=30)
    nom: str = Field(max_length=80)
    prenom: str = Field(max_length=80)
    match_key: str = Field(
        sa_type=Text,
        description="Folded family name|first name (unbounded: folding can lengthen a name, "
        "ß → ss, ﬃ → ffi).",
    )
    mobile: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    email_confirmed: bool = False
    state: str = Field(max_length=12)
    origin: str | None = Field(default=None, max_length=16)
    password_hash: str | None = Field(default=None, max_length=200)
    must_change_password: bool = False
    franceconnect_sub: str | None = Field(default=None, unique=True, max_length=80)
    created_at: datetime = Field(sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deactivated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


_ACCOUNTS = table_of(Account)
# The import matches on emails the parent confirmed (few) and on those the live sources give,
# case-insensitively: two partial expression indexes find them without reading any homonym.
# Written as queries write it (``= 1`` on SQLite): SQLite uses a partial index only for a query
# that repeats its condition.
CONFIRMED_EMAIL = _ACCOUNTS.c.email_confirmed == true()
Index(
    "ix_account_confirmed_email",
    func.lower(_ACCOUNTS.c.email),
    sqlite_where=CONFIRMED_EMAIL,
    postgresql_where=CONFIRMED_EMAIL,
)


class AccountSource(EduConnectModel, table=True):
    """A source record (ONDE responsable, SIECLE responsable) an account stands for."""

    __tablename__ = "account_source"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    source: str = Field(max_length=8)
    source_id: str = Field(max_length=40)
    school_uai: str = Field(max_length=8, index=True)
    civility: str | None = Field(default=None, max_length=3)
    nom: str = Field(max_length=80)
    prenom: str = Field(max_length=80)
    mobile: str | None = Field(default=None, max_length=20)
    accepts_sms: bool = True
    email: str | None = Field(default=None, max_length=254)
    fingerprint: str = Field(max_length=64, description="Hash of the last imported content.")
    updated_at: datetime = Field(sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        description="When the source deleted this record: it no longer gives contact data, nor "
        "a director's rights over the account.",
    )


_SOURCES = table_of(AccountSource)
LIVE_EMAIL = _SOURCES.c.email.is_not(None) & _SOURCES.c.deleted_at.is_(None)
Index(
    "ix_account_source_live_email",
    func.lower(_SOURCES.c.email),
    sqlite_where=LIVE_EMAIL,
    postgresql_where=LIVE_EMAIL,
)


class Child(EduConnectModel, table=True):
    """A pupil known to EduConnect (1D from ONDE, 2D from SIECLE fixtures)."""

    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=8)
    source_id: str = Field(max_length=40)
    # Not indexed: nothing looks a child up by INE, and an index on it was rewritten all over by
    # every import batch (INEs are random keys): see ``upgrade_schema``.
    ine: str = Field(max_length=11)
    nom: str = Field(max_length=80)
    prenoms: str = Field(max_length=80)
    birth_date: date
    school_uai: str = Field(max_length=8, index=True)
    level: str = Field(max_length=8)
    class_label: str | None = Field(default=None, max_length=120)
    degree: str = Field(max_length=2, description="1D or 2D.")
    enrolled: bool = True
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Attachment(EduConnectModel, table=True):
    """The link between an account and a child, and where it stands."""

    __table_args__ = (UniqueConstraint("account_id", "child_id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")  # UNIQUE (account_id, child_id) serves it
    child_id: int = Field(foreign_key="child.id", index=True)
    source_id: str = Field(
        max_length=50, description="The source responsable that links them (``onde:101``)."
    )
    lien: str = Field(max_length=30)
    status: str = Field(max_length=10)
    tries_left: int = 1
    proposed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    presented_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    presented_session_id: int | None = Field(default=None, description="Login that showed it.")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=20)
    reason: str | None = Field(default=None, max_length=200)


class OutboxMessage(EduConnectModel, table=True):
    """An SMS, email or letter that the real system would send; stored, never sent."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=8)
    recipient: str = Field(max_length=254, index=True)
    account_id: int | None = Field(default=None, index=True)
    school_uai: str | None = Field(default=None, max_length=8)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


class OneTimeCode(EduConnectModel, table=True):
    """A code sent by SMS or email: expires, and dies after too many wrong tries."""

    __tablename__ = "one_time_code"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    request_hash: str = Field(unique=True, max_length=64, description="Digest of the request id.")
    purpose: str = Field(max_length=30)
    channel: str = Field(max_length=8)
    code_hash: str = Field(max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    tries_left: int
    context: str | None = Field(
        default=None, max_length=80, description="e.g. a FranceConnect sub."
    )
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Letter(EduConnectModel, table=True):
    """A notification letter printed by the school: identifiant and temporary password."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    school_uai: str = Field(max_length=8)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    situation: str | None = Field(
        default=None,
        max_length=20,
        description="Why it was printed: `first_activation`, `reset` or `new_letter` (null: "
        "printed by an older version).",
    )


class LoginSession(EduConnectModel, table=True):
    """A parent's session after login; ``step`` says what they must do before going on.

    Ended sessions are kept (their token hash voided), and ids are never reused (SQLite
    AUTOINCREMENT; a PostgreSQL sequence never goes back): the proposals shown at a login are
    tied to its id.
    """

    __tablename__ = "login_session"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    account_id: int = Field(foreign_key="account.id", index=True)
    step: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class RateEvent(EduConnectModel, table=True):
    """One attempt counted by a rate limit (per account, per client)."""

    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)
    at: datetime = Field(sa_type=UTCDateTime)


class FranceConnectIdentity(EduConnectModel, table=True):
    """A test identity of the fake FranceConnect, with the pivot claims."""

    __tablename__ = "franceconnect_identity"

    sub: str = Field(primary_key=True, max_length=80)
    given_name: str = Field(max_length=120)
    family_name: str = Field(max_length=80)
    birthdate: date
    gender: str = Field(max_length=6)
    birthplace: str | None = Field(default=None, max_length=5)
    birthcountry: str = Field(default="99100", max_length=5)
    email: str | None = Field(default=None, max_length=254)
    phone_number: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ExcludedSource(EduConnectModel, table=True):
    """A source responsable the import refused an account, and why (for the "explain" answer)."""

    __tablename__ = "excluded_source"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=8)
    source_id: str = Field(max_length=40)
    school_uai: str = Field(max_length=8)
    nom: str = Field(max_length=80)
    prenom: str = Field(max_length=80)
    reason: str = Field(max_length=300)
    at: datetime = Field(sa_type=UTCDateTime)


class IdentifiantWalk(EduConnectModel, table=True):
    """How far the walk of candidate identifiants of one base has gone (``p.nom`` → 3 used)."""

    __tablename__ = "identifiant_walk"

    base: str = Field(primary_key=True, max_length=30)
    position: int = Field(description="Candidates used up: the next identifiant is tried here.")


class School(EduConnectModel, table=True):
    """A school of the directory, to name it on the pages and letters (« École 0021593W » else).

    The sync copies ONDE's schools here at the start of each run (``PUT /schools``); a SIECLE
    fixture may name its secondary schools. The real EduConnect reads the national directory.
    """

    uai: str = Field(primary_key=True, max_length=8)
    name: str = Field(max_length=120)
    commune: str | None = Field(default=None, max_length=120)
    updated_at: datetime = Field(sa_type=UTCDateTime)


def upgrade_schema(engine: Engine) -> None:
    """Bring a database made by an older version up to date (``create_all`` adds only tables).

    Drops ``ix_child_ine``, which no query used: at 1 M pupils each import batch wrote most of
    its pages again, since INEs are random keys. Adds ``letter.situation`` (null for the letters
    printed before).
    """
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX IF EXISTS ix_child_ine"))
    add_missing_columns(engine, "letter", {"situation": "VARCHAR(20)"})
    if engine.dialect.name == "postgresql":
        add_email_statistics(engine)


EMAIL_STATISTICS = {
    "st_account_lower_email": "account",
    "st_account_source_lower_email": "account_source",
}


def add_email_statistics(engine: Engine) -> list[str]:
    """PostgreSQL: statistics on ``lower(email)`` of the two tables the import matches emails in.

    Their indexes are partial, and PostgreSQL takes no estimate from a partial index: it guessed
    that a batch's emails matched nearly every source, and joined by reading all of ``account``
    and ``account_source`` (1.1 s of a 1,000-change night at 1 M pupils, against 31 ms through
    the index). Extended statistics on the expression (PostgreSQL 14 or later) give the estimate;
    the tables are analysed once when they are added. The names of those added.
    """
    added = []
    with engine.begin() as connection:
        present = set(
            connection.scalars(
                text(
                    "SELECT stxname FROM pg_statistic_ext "
                    "WHERE stxnamespace = current_schema()::regnamespace"
                )
            )
        )
        for name, table in EMAIL_STATISTICS.items():
            if name in present:
                continue
            try:
                with connection.begin_nested():
                    connection.execute(
                        text(f"CREATE STATISTICS {name} ON (lower(email::text)) FROM {table}")
                    )
            except DBAPIError as exc:  # before PostgreSQL 14, or not the table's owner
                log.warning(
                    "no statistics on lower(email) of %s (PostgreSQL 14 or later and the "
                    "table's owner needed): %s",
                    table,
                    exc.orig,
                )
                continue
            added.append(name)
    if added:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE account, account_source"))
    return added
