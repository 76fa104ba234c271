"""Pupils: registration, identity, administrative states and the duplicate check."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlmodel import Session, col

from edusim_common.clock import PARIS
from edusim_common.problems import Conflict, InvalidInput, NotFound
from edusim_common.text import fold_letters, fold_search
from fake_onde.identifiers import make_ine
from fake_onde.models import (
    ENROLLED_STATES,
    ChangeOp,
    EntityKind,
    Level,
    Pupil,
    PupilCreate,
    PupilResponsable,
    PupilState,
    PupilUpdate,
    Sex,
)
from fake_onde.service import changes
from fake_onde.service.schools import check_class_for
from fake_onde.service.snapshots import link_dict, pupil_dict

S = PupilState
TRANSITIONS: Final[dict[PupilState, frozenset[PupilState]]] = {
    S.en_attente: frozenset({S.inscrit, S.radie}),
    S.inscrit: frozenset({S.admis, S.radie}),
    S.admis: frozenset({S.admis_definitif, S.radie}),
    S.admis_definitif: frozenset({S.radie}),
    S.radie: frozenset({S.inscrit}),
}
"""Legal state transitions. ``radie -> inscrit`` is a pupil coming back (assumption)."""

INITIAL_STATES: Final = frozenset({S.en_attente, S.inscrit, S.admis})


def identity_key(nom: str, prenoms: str, sex: str, birth_date: date, birth_place: str) -> str:
    """What makes two pupil records the same child: folded names, sex, birth date and place."""
    return "|".join(
        (fold_letters(nom), fold_letters(prenoms), sex, birth_date.isoformat(), birth_place)
    )


@dataclass(frozen=True)
class PupilFilter:
    """Filters of the pupil list."""

    school_uai: str | None = None
    class_id: int | None = None
    state: PupilState | None = None
    name: str | None = None


def get_pupil(session: Session, pupil_id: int) -> Pupil:
    """The pupil with this id, or 404."""
    pupil = session.get(Pupil, pupil_id)
    if pupil is None:
        raise NotFound(f"no pupil with id {pupil_id}")
    return pupil


def list_pupils(session: Session, filters: PupilFilter, after: int, limit: int) -> list[Pupil]:
    """Pupils by id after a keyset position, filtered."""
    query = select(Pupil).where(col(Pupil.id) > after)
    if filters.school_uai is not None:
        query = query.where(col(Pupil.school_uai) == filters.school_uai)
    if filters.class_id is not None:
        query = query.where(col(Pupil.class_id) == filters.class_id)
    if filters.state is not None:
        query = query.where(col(Pupil.state) == filters.state.value)
    if filters.name:
        prefix = _like_prefix(fold_search(filters.name))
        query = query.where(
            col(Pupil.nom_search).like(prefix, escape="\\")
            | col(Pupil.prenoms_search).like(prefix, escape="\\")
        )
    return list(session.scalars(query.order_by(col(Pupil.id)).limit(limit)))


def _like_prefix(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _check_duplicate(session: Session, key: str, pupil_id: int | None) -> None:
    query = select(Pupil).where(
        col(Pupil.identity_key) == key, col(Pupil.state) != PupilState.radie.value
    )
    if pupil_id is not None:
        query = query.where(col(Pupil.id) != pupil_id)
    existing = session.scalars(query.limit(1)).first()
    if existing is not None:
        raise Conflict(
            f"duplicate pupil: {existing.nom} {existing.prenoms}, born {existing.birth_date}, "
            f"is already recorded as pupil {existing.id} (INE {existing.ine}, school "
            f"{existing.school_uai}, state {existing.state})",
            extra={
                "existing_pupil_id": existing.id,
                "existing_ine": existing.ine,
                "existing_school_uai": existing.school_uai,
            },
        )


def _new_ine(session: Session) -> str:
    while True:
        ine = make_ine(secrets.randbelow(10**10))
        if session.scalar(select(col(Pupil.id)).where(col(Pupil.ine) == ine)) is None:
            return ine


def _refresh_search_keys(pupil: Pupil) -> None:
    pupil.nom_search = fold_search(pupil.nom)
    pupil.prenoms_search = fold_search(pupil.prenoms)
    pupil.identity_key = identity_key(
        pupil.nom, pupil.prenoms, pupil.sex, pupil.birth_date, pupil.birth_place
    )


def create_pupil(session: Session, now: datetime, school_uai: str, data: PupilCreate) -> Pupil:
    """Register a pupil in a school (``en_attente``, ``inscrit`` or directly ``admis``)."""
    if data.state not in INITIAL_STATES:
        raise InvalidInput.for_field(
            "body.state", "a new pupil starts as en_attente, inscrit or admis"
        )
    _check_birth_date(data.birth_date, now, "body.birth_date")
    check_class_for(session, school_uai, data.class_id, data.level, "body.class_id")
    if data.ine is not None:
        other = session.scalar(select(col(Pupil.id)).where(col(Pupil.ine) == data.ine))
        if other is not None:
            raise Conflict.for_field("body.ine", f"INE {data.ine} is already pupil {other}")
    pupil = Pupil(
        ine=data.ine or _new_ine(session),
        nom=data.nom,
        prenoms=data.prenoms,
        sex=data.sex.value,
        birth_date=data.birth_date,
        birth_place=data.birth_place,
        school_uai=school_uai,
        class_id=data.class_id,
        level=data.level.value,
        state=data.state.value,
        nom_search="",
        prenoms_search="",
        identity_key="",
        created_at=now,
        updated_at=now,
    )
    _refresh_search_keys(pupil)
    if data.state in ENROLLED_STATES:
        _check_duplicate(session, pupil.identity_key, None)
    session.add(pupil)
    session.flush()
    changes.record(
        session, now, EntityKind.pupil, ChangeOp.create, pupil.id, school_uai, pupil_dict(pupil)
    )
    return pupil


def _check_birth_date(value: date, now: datetime, field: str) -> None:
    # "Today" is the simulated date in France, as the clock shows it, not the UTC date.
    today = now.astimezone(PARIS).date()
    if value > today:
        raise InvalidInput.for_field(field, "is in the future")
    if value.year < today.year - 20:
        raise InvalidInput.for_field(field, "is more than 20 years ago: not a primary pupil")


def update_pupil(session: Session, now: datetime, pupil: Pupil, data: PupilUpdate) -> Pupil:
    """Correct a pupil's identity, level or class; the change is logged if anything changed."""
    values = data.model_dump(exclude_unset=True)
    for key in ("nom", "prenoms", "sex", "birth_date", "birth_place", "level"):
        if key in values and values[key] is None:
            raise InvalidInput.for_field(f"body.{key}", "may not be null")
    if "birth_date" in values:
        _check_birth_date(values["birth_date"], now, "body.birth_date")
    level = Level(values.get("level", pupil.level))
    class_id = values.get("class_id", pupil.class_id)
    check_class_for(session, pupil.school_uai, class_id, level, "body.class_id")
    changed = False
    for key, value in values.items():
        stored = value.value if isinstance(value, Level | Sex) else value
        if getattr(pupil, key) != stored:
            setattr(pupil, key, stored)
            changed = True
    if not changed:
        return pupil
    _refresh_search_keys(pupil)
    if pupil.state in ENROLLED_STATES:
        _check_duplicate(session, pupil.identity_key, pupil.id)
    pupil.updated_at = now
    session.add(pupil)
    session.flush()
    changes.record(
        session,
        now,
        EntityKind.pupil,
        ChangeOp.update,
        pupil.id,
        pupil.school_uai,
        pupil_dict(pupil),
    )
    return pupil


def change_state(session: Session, now: datetime, pupil: Pupil, target: PupilState) -> Pupil:
    """Move a pupil to ``target`` if the transition is legal; admission runs the duplicate check."""
    current = PupilState(pupil.state)
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        raise Conflict.for_field(
            "body.state",
            f"illegal transition {current.value} -> {target.value} (allowed from "
            f"{current.value}: {allowed})",
            current_state=current.value,
        )
    if target is PupilState.admis:
        _check_duplicate(session, pupil.identity_key, pupil.id)
    pupil.state = target.value
    pupil.updated_at = now
    session.add(pupil)
    session.flush()
    changes.record(
        session,
        now,
        EntityKind.pupil,
        ChangeOp.state,
        pupil.id,
        pupil.school_uai,
        pupil_dict(pupil),
    )
    return pupil


def delete_pupil(session: Session, now: datetime, pupil: Pupil) -> None:
    """Delete a pupil that is not enrolled, with its links."""
    if pupil.state in ENROLLED_STATES:
        raise Conflict(
            f"pupil {pupil.id} is {pupil.state}: strike them off (radie) instead of deleting"
        )
    links = session.scalars(
        select(PupilResponsable).where(col(PupilResponsable.pupil_id) == pupil.id)
    ).all()
    for link in links:
        session.delete(link)
        changes.record(
            session,
            now,
            EntityKind.link,
            ChangeOp.delete,
            link.id,
            link.school_uai,
            link_dict(link),
        )
    session.flush()
    session.delete(pupil)
    changes.record(
        session,
        now,
        EntityKind.pupil,
        ChangeOp.delete,
        pupil.id,
        pupil.school_uai,
        pupil_dict(pupil),
    )
