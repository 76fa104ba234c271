"""The full export for reconciliation: every record of one kind, by keyset pages, set-based."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from edusim_common.bulk import fetch_dicts, one_of
from fake_onde.models import Pupil, PupilResponsable, Responsable, SchoolClass
from fake_onde.service.snapshots import class_dict, link_dict, pupil_dict, responsable_dict


class ExportKind(StrEnum):
    """What can be exported."""

    classes = "classes"
    pupils = "pupils"
    responsables = "responsables"
    links = "links"


class ExportEmbed(StrEnum):
    """What an export page can carry inside each record."""

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
    session: Session,
    kind: ExportKind,
    after: int,
    limit: int,
    school_uai: str | None = None,
    embed_links: bool = False,
) -> list[dict[str, Any]]:
    """Up to ``limit`` records of ``kind`` with ``id > after``, in id order.

    ``embed_links`` (responsables only): each responsable carries its links (``links``, in id
    order), read with one more query through the links' ``responsable_id`` index.
    """
    if embed_links and kind is not ExportKind.responsables:
        raise ValueError(f"only responsables embed their links, not {kind.value}")
    source = _SOURCES[kind]
    table = source.table
    query = select(table).where(table.c.id > after)
    if school_uai is not None:
        query = query.where(table.c.school_uai == school_uai)
    # Plain dicts from the driver's rows (each column type converted once per distinct value):
    # SQLAlchemy's row mappings cost more than shaping the rows themselves.
    rows = fetch_dicts(session, query.order_by(table.c.id).limit(limit))
    items = [source.shape(row) for row in rows]
    if embed_links:
        _embed_links(session, items)
    return items


def _embed_links(session: Session, responsables: list[dict[str, Any]]) -> None:
    links = _SOURCES[ExportKind.links]
    by_responsable: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in responsables}
    if not by_responsable:
        return
    table = links.table
    query = (
        select(table)
        .where(one_of(session, table.c.responsable_id, list(by_responsable)))
        .order_by(table.c.id)
    )
    for row in fetch_dicts(session, query):
        by_responsable[row["responsable_id"]].append(links.shape(row))
    for responsable in responsables:
        responsable["links"] = by_responsable[responsable["id"]]
