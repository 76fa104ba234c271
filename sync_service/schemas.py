"""The sync service's API models."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, Field, StrictBool

from edusim_common.clock import ClockMode, ClockState
from edusim_common.types import STRICT_INPUT, DateTimeText
from sync_service.models import Run


class LineOutcome(StrEnum):
    """What became of one object of a run (EduConnect's answer, or the sync's ``failed``)."""

    created = "created"
    matched = "matched"
    updated = "updated"
    unchanged = "unchanged"
    excluded = "excluded"
    failed = "failed"


class RunPublic(BaseModel):
    """A run: its kind, cut-off, duration and counts."""

    id: int
    kind: str
    night: date | None = Field(description="Day of a nightly run (cut-off: the day before).")
    dry_run: bool
    status: str
    cutoff: datetime
    started_at: datetime
    finished_at: datetime | None
    wall_seconds: float
    from_cursor: int
    to_cursor: int
    counts: dict[str, int]
    pending_deactivations: int
    error: str | None

    @classmethod
    def of(cls, run: Run) -> RunPublic:
        """The public shape of a run."""
        return cls(
            id=run.id or 0,
            kind=run.kind,
            night=run.night,
            dry_run=run.dry_run,
            status=run.status,
            cutoff=run.cutoff,
            started_at=run.started_at,
            finished_at=run.finished_at,
            wall_seconds=run.wall_seconds,
            from_cursor=run.from_cursor,
            to_cursor=run.to_cursor,
            counts=orjson.loads(run.counts),
            pending_deactivations=len(orjson.loads(run.pending_deactivations)),
            error=run.error,
        )


class RunLinePublic(BaseModel):
    """One object of a run's report."""

    id: int
    source_id: str
    school_uai: str | None
    outcome: str
    identifiant: str | None
    reason: str


class RunRequest(BaseModel):
    """A manual run, for demos: cut-off now (marked `manual`), or a full reconciliation."""

    model_config = STRICT_INPUT

    # Strict booleans: ``"yes"`` or ``1`` would start a real full reconciliation by accident.
    full: StrictBool = Field(
        default=False, description="Reconcile ONDE's export against EduConnect."
    )
    dry_run: StrictBool = Field(
        default=False, description="Report what would change; change nothing."
    )


class ClockSetIn(BaseModel):
    """Set the clock; moving forward runs the nights crossed."""

    model_config = STRICT_INPUT

    now: DateTimeText  # text (ISO 8601), not a number of seconds since 1970
    mode: ClockMode | None = None


class ClockAdvanceIn(BaseModel):
    """Advance the clock; every night crossed runs its sync, in order."""

    model_config = STRICT_INPUT

    seconds: float = Field(strict=True, ge=0, le=400 * 86400, examples=[86400])  # no false, "1"


class ClockMove(BaseModel):
    """The clock after a move, and the runs it caused."""

    clock: ClockState
    runs: list[RunPublic]


class Status(BaseModel):
    """Where the sync stands."""

    clock: ClockState
    cursor: int
    mirror_ready: bool
    last_night: date | None
    leader: bool
    last_run: RunPublic | None
    extra: dict[str, Any] = Field(default_factory=dict)
