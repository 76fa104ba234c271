"""Responsables (legal representatives), their contact data, and their links to pupils."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlmodel import Session, col

from edusim_common.problems import Conflict, InvalidInput, NotFound
from edusim_common.text import fold_search
from edusim_common.types import MAX_CHILDREN_PER_RESPONSABLE
from fake_onde.models import (
    Address,
    ChangeOp,
    EntityKind,
    LinkCreate,
    LinkUpdate,
    Pupil,
    PupilResponsable,
    Responsable,
    ResponsableCreate,
    ResponsableUpdate,
)
from fake_onde.service import changes
from fake_onde.service.snapshots import link_dict, responsable_dict


@dataclass(frozen=True)
class ResponsableFilter:
    """Filters of the responsable list."""

    school_uai: str | None = None
    name: str | None = None
    pupil_id: int | None = None
    has_mobile: bool | None = None


def _address_columns(address: Address | None) -> dict[str, Any]:
    if address is None:
        return dict.fromkeys(("address_line1", "address_line2", "postal_code", "city", "country"))
    return {
        "address_line1": address.line1,
        "address_line2": address.line2,
        "postal_code": address.postal_code,
        "city": address.city,
        "country": address.country,
    }


def get_responsable(session: Session, responsable_id: int) -> Responsable:
    """The responsable with this id, or 404."""
    responsable = session.get(Responsable, responsable_id)
    if responsable is None:
        raise NotFound(f"no responsable with id {responsable_id}")
    return responsable


def list_responsables(
    session: Session, filters: ResponsableFilter, after: int, limit: int
) -> list[Responsable]:
    """Responsables by id after a keyset position, filtered."""
    query = select(Responsable).where(col(Responsable.id) > after)
    if filters.school_uai is not None:
        query = query.where(col(Responsable.school_uai) == filters.school_uai)
    if filters.name:
        escaped = fold_search(filters.name).replace("\\", "\\\\").replace("%", "\\%")
        prefix = escaped.replace("_", "\\_") + "%"
        query = query.where(
            col(Responsable.nom_search).like(prefix, escape="\\")
            | col(Responsable.prenom_search).like(prefix, escape="\\")
        )
    if filters.pupil_id is not None:
        query = query.where(
            exists().where(
                col(PupilResponsable.responsable_id) == col(Responsable.id),
                col(PupilResponsable.pupil_id) == filters.pupil_id,
            )
        )
    if filters.has_mobile is not None:
        mobile = col(Responsable.mobile)
        query = query.where(mobile.is_not(None) if filters.has_mobile else mobile.is_(None))
    return list(session.scalars(query.order_by(col(Responsable.id)).limit(limit)))


def create_responsable(
    session: Session, now: datetime, school_uai: str, data: ResponsableCreate
) -> Responsable:
    """Record a responsable in a school (a missing mobile is allowed; the sync reports it)."""
    responsable = Responsable(
        school_uai=school_uai,
        civility=data.civility.value,
        nom=data.nom,
        prenom=data.prenom,
        mobile=data.mobile,
        accepts_sms=data.accepts_sms,
        home_phone=data.home_phone,
        work_phone=data.work_phone,
        email=data.email,
        nom_search=fold_search(data.nom),
        prenom_search=fold_search(data.prenom),
        created_at=now,
        updated_at=now,
        **_address_columns(data.address),
    )
    session.add(responsable)
    session.flush()
    _log(session, now, ChangeOp.create, responsable)
    return responsable


def _log(session: Session, now: datetime, op: ChangeOp, responsable: Responsable) -> None:
    changes.record(
        session,
        now,
        EntityKind.responsable,
        op,
        responsable.id,
        responsable.school_uai,
        responsable_dict(responsable),
    )


def update_responsable(
    session: Session, now: datetime, responsable: Responsable, data: ResponsableUpdate
) -> Responsable:
    """Change contact data; explicit nulls clear optional fields."""
    values = data.model_dump(exclude_unset=True)
    for key in ("civility", "nom", "prenom", "accepts_sms"):
        if key in values and values[key] is None:
            raise InvalidInput.for_field(f"body.{key}", "may not be null")
    if "address" in values:
        values.update(_address_columns(data.address))
        del values["address"]
    if "civility" in values:
        values["civility"] = values["civility"].value
    changed = False
    for key, value in values.items():
        if getattr(responsable, key) != value:
            setattr(responsable, key, value)
            changed = True
    if not changed:
        return responsable
    responsable.nom_search = fold_search(responsable.nom)
    responsable.prenom_search = fold_search(responsable.prenom)
    responsable.updated_at = now
    session.add(responsable)
    session.flush()
    _log(session, now, ChangeOp.update, responsable)
    return responsable


def delete_responsable(session: Session, now: datetime, responsable: Responsable) -> None:
    """Delete a responsable and each of their links (every deletion is logged)."""
    for link in links_of_responsable(session, responsable.id or 0):
        remove_link(session, now, link)
    session.flush()
    session.delete(responsable)
    _log(session, now, ChangeOp.delete, responsable)


def links_of_responsable(session: Session, responsable_id: int) -> list[PupilResponsable]:
    """The links of one responsable."""
    query = select(PupilResponsable).where(col(PupilResponsable.responsable_id) == responsable_id)
    return list(session.scalars(query.order_by(col(PupilResponsable.id))))


def links_of_pupil(session: Session, pupil_id: int) -> list[PupilResponsable]:
    """The links of one pupil."""
    query = select(PupilResponsable).where(col(PupilResponsable.pupil_id) == pupil_id)
    return list(session.scalars(query.order_by(col(PupilResponsable.id))))


def get_link(session: Session, pupil: Pupil, responsable_id: int) -> PupilResponsable:
    """The link between ``pupil`` and a responsable, or 404."""
    link = session.scalars(
        select(PupilResponsable).where(
            col(PupilResponsable.pupil_id) == pupil.id,
            col(PupilResponsable.responsable_id) == responsable_id,
        )
    ).first()
    if link is None:
        raise NotFound(f"responsable {responsable_id} is not linked to pupil {pupil.id}")
    return link


def add_link(session: Session, now: datetime, pupil: Pupil, data: LinkCreate) -> PupilResponsable:
    """Link a responsable of the same school to a pupil."""
    responsable = session.get(Responsable, data.responsable_id)
    if responsable is None:
        raise InvalidInput.for_field(
            "body.responsable_id", f"no responsable with id {data.responsable_id}"
        )
    if responsable.school_uai != pupil.school_uai:
        raise InvalidInput.for_field(
            "body.responsable_id",
            f"responsable {responsable.id} belongs to school {responsable.school_uai}, "
            f"pupil {pupil.id} to {pupil.school_uai}",
        )
    existing = session.scalar(
        select(col(PupilResponsable.id)).where(
            col(PupilResponsable.pupil_id) == pupil.id,
            col(PupilResponsable.responsable_id) == responsable.id,
        )
    )
    if existing is not None:
        raise Conflict.for_field(
            "body.responsable_id", f"responsable {responsable.id} is already linked to this pupil"
        )
    linked = session.scalar(
        select(func.count()).where(col(PupilResponsable.responsable_id) == responsable.id)
    )
    if (linked or 0) >= MAX_CHILDREN_PER_RESPONSABLE:
        raise Conflict.for_field(
            "body.responsable_id",
            f"responsable {responsable.id} is already linked to {linked} pupils, the most "
            "EduConnect takes for one responsable",
        )
    link = PupilResponsable(
        pupil_id=pupil.id or 0,
        responsable_id=responsable.id or 0,
        lien=data.lien.value,
        autorite_parentale=data.autorite_parentale,
        school_uai=pupil.school_uai,
        created_at=now,
    )
    session.add(link)
    session.flush()
    changes.record(
        session, now, EntityKind.link, ChangeOp.create, link.id, link.school_uai, link_dict(link)
    )
    return link


def update_link(
    session: Session, now: datetime, link: PupilResponsable, data: LinkUpdate
) -> PupilResponsable:
    """Change the kind of link or the parental authority."""
    values = data.model_dump(exclude_unset=True)
    for key in ("lien", "autorite_parentale"):
        if key in values and values[key] is None:
            raise InvalidInput.for_field(f"body.{key}", "may not be null")
    if "lien" in values:
        values["lien"] = values["lien"].value
    changed = False
    for key, value in values.items():
        if getattr(link, key) != value:
            setattr(link, key, value)
            changed = True
    if changed:
        session.add(link)
        session.flush()
        changes.record(
            session,
            now,
            EntityKind.link,
            ChangeOp.update,
            link.id,
            link.school_uai,
            link_dict(link),
        )
    return link


def remove_link(session: Session, now: datetime, link: PupilResponsable) -> None:
    """Remove a link."""
    session.delete(link)
    changes.record(
        session, now, EntityKind.link, ChangeOp.delete, link.id, link.school_uai, link_dict(link)
    )
