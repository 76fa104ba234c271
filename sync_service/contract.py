"""The remote contracts the sync relies on, described here rather than imported.

The sync never imports ``fake_onde`` or ``fake_educonnect``: these models say what it needs of
their answers, and the end-to-end tests catch drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, SkipValidation


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
    """A page of ONDE's export. Read with :meth:`parse`: its items are used as plain dicts."""

    items: SkipValidation[list[dict[str, Any]]]
    next_after: int | None
    watermark: int

    @classmethod
    def parse(cls, body: bytes) -> ExportPage:
        """The page in ``body``: decoded by orjson, the envelope validated, each item a dict.

        Validating each item as ``dict[str, Any]`` (pydantic) cost ~4 µs per responsable and its
        links, ~8 s of the sync's CPU in a full sync of 1 M pupils, for a check that only says
        each item is an object.
        """
        page = cls.model_validate(orjson.loads(body))
        items: Any = page.items
        if not isinstance(items, list) or not all(type(item) is dict for item in items):
            raise ValueError("ONDE's export page: 'items' must be a list of objects")
        return page


class School(_Loose):
    """A school of ONDE, as EduConnect's directory takes it."""

    uai: str
    name: str
    commune: str


class SchoolPage(_Loose):
    """A page of ONDE's schools."""

    items: list[School]
    next_cursor: str | None = None


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
