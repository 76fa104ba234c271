"""Read-only summaries for the director's pages: counts per class and state, who is linked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from fake_onde.models import (
    ENROLLED_STATES,
    ChangeOp,
    EntityKind,
    Pupil,
    PupilResponsable,
    PupilState,
    Responsable,
    SchoolClass,
)
from fake_onde.service.changes import CHANGE_TABLE
from fake_onde.service.schools import list_classes


@dataclass(frozen=True)
class ClassCount:
    """One class of the school and how many pupils it holds."""

    school_class: SchoolClass | None
    total: int
    enrolled: int


@dataclass(frozen=True)
class SchoolOverview:
    """Counts of a school: per class (``None`` = without a class) and per state."""

    classes: list[ClassCount]
    by_state: dict[str, int]
    total: int
    responsables: int
    without_mobile: int


def school_overview(session: Session, school_uai: str) -> SchoolOverview:
    """Every class with its pupil counts, and the counts per administrative state."""
    rows = session.execute(
        select(col(Pupil.class_id), col(Pupil.state), func.count())
        .where(col(Pupil.school_uai) == school_uai)
        .group_by(col(Pupil.class_id), col(Pupil.state))
    ).all()
    totals: dict[int | None, int] = defaultdict(int)
    enrolled: dict[int | None, int] = defaultdict(int)
    by_state: dict[str, int] = dict.fromkeys((s.value for s in PupilState), 0)
    for class_id, state, count in rows:
        totals[class_id] += count
        by_state[state] = by_state.get(state, 0) + count
        if state in ENROLLED_STATES:
            enrolled[class_id] += count
    classes = [
        ClassCount(c, totals.get(c.id, 0), enrolled.get(c.id, 0))
        for c in list_classes(session, school_uai)
    ]
    if totals.get(None):
        classes.append(ClassCount(None, totals[None], enrolled.get(None, 0)))
    responsables, without_mobile = session.execute(
        select(func.count(), func.count().filter(col(Responsable.mobile).is_(None))).where(
            col(Responsable.school_uai) == school_uai
        )
    ).one()
    return SchoolOverview(
        classes=classes,
        by_state=by_state,
        total=sum(totals.values()),
        responsables=int(responsables),
        without_mobile=int(without_mobile),
    )


def responsables_of_pupils(
    session: Session, pupil_ids: Iterable[int]
) -> dict[int, list[tuple[PupilResponsable, Responsable]]]:
    """For each pupil, its links and their responsables (one query)."""
    ids = list(pupil_ids)
    found: dict[int, list[tuple[PupilResponsable, Responsable]]] = {i: [] for i in ids}
    if not ids:
        return found
    query = (
        select(PupilResponsable, Responsable)
        .join(Responsable, col(Responsable.id) == col(PupilResponsable.responsable_id))
        .where(col(PupilResponsable.pupil_id).in_(ids))
        .order_by(col(PupilResponsable.id))
    )
    for link, responsable in session.execute(query).all():
        found[link.pupil_id].append((link, responsable))
    return found


def pupils_of_responsable(
    session: Session, responsable_id: int
) -> list[tuple[PupilResponsable, Pupil]]:
    """The pupils a responsable is linked to, with the links."""
    query = (
        select(PupilResponsable, Pupil)
        .join(Pupil, col(Pupil.id) == col(PupilResponsable.pupil_id))
        .where(col(PupilResponsable.responsable_id) == responsable_id)
        .order_by(col(PupilResponsable.id))
    )
    return [(link, pupil) for link, pupil in session.execute(query).all()]


def last_state_change(session: Session, pupil: Pupil) -> datetime | None:
    """When the pupil entered their current state (their last state change, or their creation)."""
    table = CHANGE_TABLE
    at: datetime | None = session.scalar(
        select(func.max(table.c.at)).where(
            table.c.school_uai == pupil.school_uai,
            table.c.entity == EntityKind.pupil.value,
            table.c.entity_id == str(pupil.id),
            table.c.op.in_((ChangeOp.state.value, ChangeOp.create.value)),
        )
    )
    return at
