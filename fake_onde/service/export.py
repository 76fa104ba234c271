"""The full export for reconciliation: every record of one kind, by keyset pages, set-based."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from fake_onde.models import Pupil, PupilResponsable, Responsable, SchoolClass
from fake_onde.service.snapshots import class_dict, link_dict, pupil_dict, responsable_dict


class ExportKind(StrEnum):
    """What can be exported."""

    classes = "classes"
    pupils = "pupils"
    responsables = "responsables"
    links = "links"


@dataclass(frozen=True)
class _Source:
    table: Table
    shape: Callable[[Mapping[str, Any]], dict[str, Any]]


_SOURCES: dict[ExportKind, _Source] = {
    ExportKind.classes: _Source(SchoolClass.__table__, class_dict),  # type: ignore[attr-defined]
    ExportKind.pupils: _Source(Pupil.__table__, pupil_dict),  # type: ignore[attr-defined]
    ExportKind.responsables: _Source(Responsable.__table__, responsable_dict),  # type: ignore[attr-defined]
    ExportKind.links: _Source(PupilResponsable.__table__, link_dict),  # type: ignore[attr-defined]
}


def export_page(
    session: Session, kind: ExportKind, after: int, limit: int, school_uai: str | None = None
) -> list[dict[str, Any]]:
    """Up to ``limit`` records of ``kind`` with ``id > after``, in id order."""
    source = _SOURCES[kind]
    table = source.table
    query = select(table).where(table.c.id > after)
    if school_uai is not None:
        query = query.where(table.c.school_uai == school_uai)
    rows = session.execute(query.order_by(table.c.id).limit(limit)).mappings()
    return [source.shape(row) for row in rows]  # type: ignore[arg-type]
