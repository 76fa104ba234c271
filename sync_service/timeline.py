"""The life of one ONDE responsable across the three services, as data (the page puts it in words).

ONDE's history (``GET /history/responsables/{id}``) and EduConnect's
(``GET /history/sources/onde/{id}``) are read over HTTP with the sync's service tokens; the sync's
own runs say which run carried each change (its cursor range) and what it did (its report lines).
A service that does not answer leaves its part empty and says why: the rest is still shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, func, or_, select
from sqlmodel import Session, col

from edusim_common.text import fold_search
from sync_service.models import MirrorResponsable, Run, RunLine
from sync_service.remote import RemoteError
from sync_service.runner import SyncContext

MAX_LINES = 500


@dataclass
class Remote:
    """What one service answered, or why it did not."""

    body: dict[str, Any] | None = None
    error: str | None = None
    missing: bool = False


@dataclass
class TimelineData:
    """Everything the timeline page needs about one responsable."""

    responsable_id: int
    onde: Remote
    educonnect: Remote
    lines: list[tuple[RunLine, Run]] = field(default_factory=list)
    carriers: dict[int, Run] = field(default_factory=dict)
    """Change ``seq`` → the run that carried it (absent: not synchronised yet)."""


def _fetch(remote_call: Any, path: str) -> Remote:
    try:
        body = remote_call("GET", path)
    except RemoteError as exc:
        if exc.status == 404:
            return Remote(missing=True)
        return Remote(error=str(exc))
    return Remote(body=body if isinstance(body, dict) else None)


def lines_of_source(session: Session, source_id: str) -> list[tuple[RunLine, Run]]:
    """The report lines of one responsable across every run, oldest first."""
    query = (
        select(RunLine, Run)
        .join(Run, col(Run.id) == col(RunLine.run_id))
        .where(col(RunLine.source_id) == source_id)
        .order_by(col(RunLine.id))
        .limit(MAX_LINES)
    )
    return [(line, run) for line, run in session.execute(query).all()]


def carriers(session: Session, seqs: list[int]) -> dict[int, Run]:
    """For each change ``seq``, the first run whose cursor moved over it (dry runs move none)."""
    if not seqs:
        return {}
    runs = list(
        session.scalars(
            select(Run)
            .where(
                col(Run.dry_run).is_(False),
                col(Run.to_cursor) >= min(seqs),
                col(Run.from_cursor) < max(seqs),
            )
            .order_by(col(Run.id))
        )
    )
    found: dict[int, Run] = {}
    for seq in seqs:
        for run in runs:
            if run.from_cursor < seq <= run.to_cursor:
                found[seq] = run
                break
    return found


def names_of(session: Session, source_ids: list[str]) -> dict[str, str]:
    """« Sophie Martin » for each ONDE responsable id the sync's mirror knows."""
    # ASCII digits only: ``isdigit`` also takes ``²`` (int() refuses it) and ``٣`` (int() reads 3).
    ids = [int(s) for s in source_ids if len(s) <= 10 and s.isascii() and s.isdigit()]
    ids = [i for i in ids if i < 2**31]
    if not ids:
        return {}
    rows = session.execute(
        select(
            col(MirrorResponsable.id), col(MirrorResponsable.prenom), col(MirrorResponsable.nom)
        ).where(col(MirrorResponsable.id).in_(ids))
    ).all()
    return {str(rid): f"{prenom} {nom}" for rid, prenom, nom in rows}


def report_lines(
    session: Session,
    run_id: int,
    *,
    outcome: str | None = None,
    source_id: str | None = None,
    name: str | None = None,
    after: int = 0,
    limit: int = MAX_LINES,
) -> list[RunLine]:
    """A run's report lines after ``after``, in id order, filtered by outcome, source id, name.

    ``name`` (as typed) starts the responsable's name « Prénom Nom » or one of its words, accents
    and case aside: « lefe » finds Anne Lefèvre, « anne lef » too; each line is joined to its
    responsable's folded name in the sync's mirror (``name_key``) by primary key, so a
    responsable no longer in ONDE is not found by name. A name with no letter or digit finds
    nothing.
    """
    query = select(RunLine).where(col(RunLine.run_id) == run_id, col(RunLine.id) > after)
    if outcome:
        query = query.where(col(RunLine.outcome) == outcome)
    if source_id:
        query = query.where(col(RunLine.source_id) == source_id)
    if name:
        key = fold_search(name)
        if not key:
            return []
        folded = col(MirrorResponsable.name_key)
        line_source = col(RunLine.source_id)
        responsable_id: ColumnElement[int] = cast(line_source, Integer)
        if session.get_bind().dialect.name == "postgresql":
            # PostgreSQL refuses to cast '²' (SQLite reads it as 0): a line of an edited snapshot.
            responsable_id = case((line_source.regexp_match("^[0-9]{1,9}$"), responsable_id))
        query = query.join(MirrorResponsable, col(MirrorResponsable.id) == responsable_id).where(
            # The name, or one of its words, starts with the term (its % and _ taken literally).
            or_(
                folded.startswith(key, autoescape=True),
                folded.contains(f" {key}", autoescape=True),
            )
        )
    return list(session.scalars(query.order_by(col(RunLine.id)).limit(limit)))


def outcome_counts(session: Session, run_id: int) -> dict[str, int]:
    """How many report lines of a run have each outcome."""
    rows = session.execute(
        select(col(RunLine.outcome), func.count())
        .where(col(RunLine.run_id) == run_id)
        .group_by(col(RunLine.outcome))
    ).all()
    return {str(outcome): int(count) for outcome, count in rows}


def timeline_data(ctx: SyncContext, session: Session, responsable_id: int) -> TimelineData:
    """Read ONDE, EduConnect and the sync's own runs about one responsable."""
    onde = _fetch(ctx.onde.call, f"/api/v1/history/responsables/{responsable_id}")
    educonnect = _fetch(ctx.educonnect.call, f"/api/v1/history/sources/onde/{responsable_id}")
    seqs = [int(item["seq"]) for item in (onde.body or {}).get("items", [])]
    return TimelineData(
        responsable_id=responsable_id,
        onde=onde,
        educonnect=educonnect,
        lines=lines_of_source(session, str(responsable_id)),
        carriers=carriers(session, seqs),
    )


def search_responsables(ctx: SyncContext, name: str, limit: int = 50) -> Remote:
    """Responsables of every school whose family or first name starts with ``name`` (ONDE)."""
    try:
        body = ctx.onde.call("GET", "/api/v1/responsables", params={"name": name, "limit": limit})
    except RemoteError as exc:
        return Remote(error=str(exc))
    return Remote(body=body if isinstance(body, dict) else None)
