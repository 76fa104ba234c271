"""Schools and their classes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from edusim_common.problems import Conflict, InvalidInput, NotFound
from fake_onde.models import (
    ChangeOp,
    ClassCreate,
    EntityKind,
    Level,
    Pupil,
    School,
    SchoolClass,
    SchoolCreate,
)
from fake_onde.service import changes
from fake_onde.service.snapshots import class_dict, school_dict


def create_school(session: Session, now: datetime, data: SchoolCreate) -> School:
    """Create a school; its UAI must be new."""
    if session.get(School, data.uai) is not None:
        raise Conflict.for_field("body.uai", f"school {data.uai} already exists")
    school = School(**data.model_dump(), created_at=now)
    session.add(school)
    session.flush()
    changes.record(
        session,
        now,
        EntityKind.school,
        ChangeOp.create,
        school.uai,
        school.uai,
        school_dict(school),
    )
    return school


def get_school(session: Session, uai: str) -> School:
    """The school with this UAI, or 404."""
    school = session.get(School, uai.upper())
    if school is None:
        raise NotFound(f"no school with UAI {uai}")
    return school


def list_schools(
    session: Session, after: str | None, limit: int, only: str | None = None
) -> list[School]:
    """Schools by UAI, after a keyset position; ``only`` restricts to one UAI."""
    query = select(School).order_by(col(School.uai)).limit(limit)
    if after is not None:
        query = query.where(col(School.uai) > after)
    if only is not None:
        query = query.where(col(School.uai) == only)
    return list(session.scalars(query))


def create_class(session: Session, now: datetime, school: School, data: ClassCreate) -> SchoolClass:
    """Create a class in ``school``; its label must be new there."""
    exists = session.scalar(
        select(col(SchoolClass.id)).where(
            col(SchoolClass.school_uai) == school.uai,
            col(SchoolClass.label) == data.label,
        )
    )
    if exists is not None:
        raise Conflict.for_field("body.label", f"class '{data.label}' already exists (id {exists})")
    school_class = SchoolClass(
        school_uai=school.uai,
        label=data.label,
        levels=",".join(level.value for level in data.levels),
        created_at=now,
    )
    session.add(school_class)
    session.flush()
    changes.record(
        session,
        now,
        EntityKind.school_class,
        ChangeOp.create,
        school_class.id,
        school.uai,
        class_dict(school_class),
    )
    return school_class


def get_class(session: Session, class_id: int) -> SchoolClass:
    """The class with this id, or 404."""
    school_class = session.get(SchoolClass, class_id)
    if school_class is None:
        raise NotFound(f"no class with id {class_id}")
    return school_class


def list_classes(session: Session, school_uai: str) -> list[SchoolClass]:
    """Every class of a school, by label."""
    query = (
        select(SchoolClass)
        .where(col(SchoolClass.school_uai) == school_uai)
        .order_by(col(SchoolClass.label))
    )
    return list(session.scalars(query))


def delete_class(session: Session, now: datetime, school_class: SchoolClass) -> None:
    """Delete an empty class."""
    count = session.scalar(select(func.count()).where(col(Pupil.class_id) == school_class.id))
    if count:
        raise Conflict(f"class {school_class.id} still has {count} pupil(s): move them first")
    session.delete(school_class)
    changes.record(
        session,
        now,
        EntityKind.school_class,
        ChangeOp.delete,
        school_class.id,
        school_class.school_uai,
        class_dict(school_class),
    )


def check_class_for(
    session: Session, school_uai: str, class_id: int | None, level: Level, field: str
) -> None:
    """A pupil's class must be of the pupil's school and teach the pupil's level."""
    if class_id is None:
        return
    school_class = session.get(SchoolClass, class_id)
    if school_class is None:
        raise InvalidInput.for_field(field, f"no class with id {class_id}")
    if school_class.school_uai != school_uai:
        raise InvalidInput.for_field(field, f"class {class_id} belongs to another school")
    levels = school_class.levels.split(",")
    if level.value not in levels:
        raise InvalidInput.for_field(
            field, f"class {class_id} teaches {', '.join(levels)}, not {level.value}"
        )
