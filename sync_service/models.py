"""The sync's own data: its cursor, its mirror of ONDE, its runs and their report lines."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Engine, Index, Text, inspect, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from edusim_common.db import UTCDateTime, add_missing_columns


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
    __table_args__ = (Index("ix_run_line_run", "run_id", "id"),)

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


def upgrade_schema(engine: Engine) -> None:
    """Bring a database made by an older version up to date (``create_all`` adds only tables)."""
    add_missing_columns(engine, "run", {"night": "DATE"})
    if "ux_run_night" not in {index["name"] for index in inspect(engine).get_indexes("run")}:
        with engine.begin() as connection:
            connection.execute(text("CREATE UNIQUE INDEX ux_run_night ON run (night)"))
