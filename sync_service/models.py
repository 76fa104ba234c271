"""The sync's own data: its cursor, its mirror of ONDE, its runs and their report lines."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Engine, Index, Text, bindparam, inspect, select, text, update
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from edusim_common.db import UTCDateTime, add_missing_columns
from edusim_common.text import name_key


class SyncModel(SQLModel, registry=registry()):
    """Base of the sync's tables."""


class SyncState(SyncModel, table=True):
    """One row: where the sync stands in ONDE's change log."""

    __tablename__ = "sync_state"

    id: int = Field(default=1, primary_key=True)
    cursor: int = Field(default=0, description="Last change-log seq applied.")
    mirror_ready: bool = Field(default=False, description="A full reconciliation has run.")
    last_night: date | None = Field(default=None, description="Day of the last nightly run.")


class MirrorClass(SyncModel, table=True):
    """A class of ONDE, for its label."""

    __tablename__ = "mirror_class"

    id: int = Field(primary_key=True)
    school_uai: str = Field(max_length=8)
    label: str = Field(max_length=120)


class MirrorPupil(SyncModel, table=True):
    """A pupil of ONDE as of the last applied change."""

    __tablename__ = "mirror_pupil"

    id: int = Field(primary_key=True)
    ine: str = Field(max_length=11)
    nom: str = Field(max_length=80)
    prenoms: str = Field(max_length=80)
    birth_date: date
    school_uai: str = Field(max_length=8)
    class_id: int | None = None
    level: str = Field(max_length=3)
    enrolled: bool


class MirrorResponsable(SyncModel, table=True):
    """A responsable of ONDE as of the last applied change."""

    __tablename__ = "mirror_responsable"

    id: int = Field(primary_key=True)
    school_uai: str = Field(max_length=8)
    civility: str | None = Field(default=None, max_length=3)
    nom: str = Field(max_length=80)
    prenom: str = Field(max_length=80)
    mobile: str | None = Field(default=None, max_length=20)
    accepts_sms: bool = True
    email: str | None = Field(default=None, max_length=254)
    # Text: folding may lengthen a name (« ﷺ » becomes 18 letters), beyond any length ONDE keeps.
    name_key: str | None = Field(
        default=None,
        sa_type=Text,
        description="« anne lefevre »: the folded « Prénom Nom » the run report's search reads.",
    )


class MirrorLink(SyncModel, table=True):
    """A pupil-responsable link of ONDE."""

    __tablename__ = "mirror_link"
    __table_args__ = (
        Index("ix_mirror_link_pupil", "pupil_id"),
        Index("ix_mirror_link_responsable", "responsable_id"),
    )

    id: int = Field(primary_key=True)
    pupil_id: int
    responsable_id: int
    lien: str = Field(max_length=30)
    autorite_parentale: bool


class RunKind(StrEnum):
    """Why a run happened."""

    nightly = "nightly"
    manual = "manual"
    full = "full"


class RunStatus(StrEnum):
    """Where a run stands."""

    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    awaiting_approval = "awaiting_approval"
    interrupted = "interrupted"


class Run(SyncModel, table=True):
    """One sync run and its counts."""

    __table_args__ = (Index("ux_run_night", "night", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    night: date | None = Field(
        default=None,
        description="Day of a nightly run (its cut-off is the end of the day before): unique, so "
        "each night is claimed once whichever path (scheduler, clock move) gets there first.",
    )
    dry_run: bool = False
    status: str = Field(max_length=20)
    cutoff: datetime = Field(sa_type=UTCDateTime, description="Changes up to this time.")
    started_at: datetime = Field(sa_type=UTCDateTime, description="Simulated time.")
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    wall_seconds: float = 0.0
    from_cursor: int = 0
    to_cursor: int = 0
    counts: str = Field(default="{}", sa_type=Text, description="JSON counts.")
    pending_deactivations: str = Field(
        default="[]",
        sa_type=Text,
        description="JSON list of the responsable ids whose deactivation the run held back, as of "
        "its end (the working set is `pending_deactivation`).",
    )
    error: str | None = Field(default=None, sa_type=Text)


class RunLine(SyncModel, table=True):
    """One object of a run's report, with its outcome and reason."""

    __tablename__ = "run_line"
    __table_args__ = (
        Index("ix_run_line_run", "run_id", "id"),
        # A responsable's lines across runs (the timeline), a retried batch's earlier lines.
        Index("ix_run_line_source", "source_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    source_id: str = Field(max_length=40)
    school_uai: str | None = Field(default=None, max_length=8)
    outcome: str = Field(max_length=24)
    identifiant: str | None = Field(default=None, max_length=40)
    reason: str = Field(default="", sa_type=Text)


class PendingDeactivation(SyncModel, table=True):
    """A deactivation a run held back, kept until it is applied.

    Written with the page that produced it (same transaction as the cursor), so a run that fails
    or dies after that page does not lose it: the next run takes over the rows of failed and
    interrupted runs; the rows of a run awaiting approval wait for ``approve``.
    """

    __tablename__ = "pending_deactivation"

    run_id: int = Field(foreign_key="run.id", primary_key=True)
    responsable_id: int = Field(primary_key=True)
    deleted: str | None = Field(
        default=None,
        sa_type=Text,
        description="JSON last state of a responsable deleted in ONDE (absent from the mirror).",
    )


NAME_KEY_CHUNK = 10_000


def fill_name_keys(engine: Engine) -> int:
    """Give the mirror's responsables without a ``name_key`` theirs: how many.

    Rows of an older version, or restored from a snapshot saved by one; a chunk at a time, in id
    order (a fill cut short is taken up at the next start).
    """
    table = MirrorResponsable.__table__  # type: ignore[attr-defined]
    filled = 0
    last = -1
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                select(table.c.id, table.c.prenom, table.c.nom)
                .where(table.c.name_key.is_(None), table.c.id > last)
                .order_by(table.c.id)
                .limit(NAME_KEY_CHUNK)
            ).all()
            if not rows:
                return filled
            connection.execute(
                update(table).where(table.c.id == bindparam("rid")).values(name_key=bindparam("k")),
                [{"rid": rid, "k": name_key(prenom, nom)} for rid, prenom, nom in rows],
            )
        filled += len(rows)
        last = rows[-1][0]


def upgrade_schema(engine: Engine) -> None:
    """Bring a database made by an older version up to date (``create_all`` adds only tables)."""
    add_missing_columns(engine, "run", {"night": "DATE"})
    add_missing_columns(engine, "mirror_responsable", {"name_key": "TEXT"})
    if engine.dialect.name == "postgresql":  # made VARCHAR(170) for a day: folding overflowed it
        columns = inspect(engine).get_columns("mirror_responsable")
        if any(c["name"] == "name_key" and not isinstance(c["type"], Text) for c in columns):
            with engine.begin() as connection:
                connection.execute(
                    text("ALTER TABLE mirror_responsable ALTER COLUMN name_key TYPE TEXT")
                )
    fill_name_keys(engine)
    # The indexes added since (ux_run_night, ix_run_line_source), made as the models declare them.
    for model in (Run, RunLine):
        for index in model.__table__.indexes:  # type: ignore[union-attr]
            index.create(engine, checkfirst=True)
