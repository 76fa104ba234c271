"""The remote contracts the sync relies on, described here rather than imported.

The sync never imports ``fake_onde`` or ``fake_educonnect``: these models say what it needs of
their answers, and the end-to-end tests catch drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Change(_Loose):
    """One entry of ONDE's change log."""

    seq: int
    at: datetime
    entity: str
    op: str
    entity_id: str
    school_uai: str
    data: dict[str, Any]


class ChangePage(_Loose):
    """A page of ONDE's change log."""

    items: list[Change]
    next_after: int
    has_more: bool
    last_seq: int


class ExportPage(_Loose):
    """A page of ONDE's export."""

    items: list[dict[str, Any]]
    next_after: int | None
    watermark: int


class ImportResult(_Loose):
    """EduConnect's answer for one responsable."""

    source_id: str
    outcome: str
    identifiant: str | None = None
    proposals_added: int = 0
    links_removed: int = 0
    deactivated: bool = False
    deactivation_pending: bool = False
    restored: bool = False
    reasons: list[str] = []


class ImportReport(_Loose):
    """EduConnect's answer for a batch."""

    results: list[ImportResult]
