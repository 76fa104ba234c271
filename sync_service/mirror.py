"""The sync's mirror of ONDE: kept up to date from the change log, read to build import items.

Each page of changes is applied set-based (delete the touched ids, insert their latest state), so
applying a page twice gives the same mirror. The responsables a page touches are then rebuilt in
full from the mirror and sent to EduConnect.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, select
from sqlmodel import Session, col

from edusim_common.bulk import insert_rows, one_of
from edusim_common.text import name_key
from sync_service.contract import Change
from sync_service.models import MirrorClass, MirrorLink, MirrorPupil, MirrorResponsable

PUPILS: Table = MirrorPupil.__table__  # type: ignore[attr-defined]
RESPONSABLES: Table = MirrorResponsable.__table__  # type: ignore[attr-defined]
LINKS: Table = MirrorLink.__table__  # type: ignore[attr-defined]
CLASSES: Table = MirrorClass.__table__  # type: ignore[attr-defined]
ENROLLED = frozenset({"admis", "admis_definitif"})


def pupil_row(data: dict[str, Any]) -> dict[str, Any]:
    """A mirror row from ONDE's pupil shape."""
    return {
        "id": data["id"],
        "ine": data["ine"],
        "nom": data["nom"],
        "prenoms": data["prenoms"],
        "birth_date": date.fromisoformat(data["birth_date"]),
        "school_uai": data["school_uai"],
        "class_id": data.get("class_id"),
        "level": data["level"],
        "enrolled": data.get("state") in ENROLLED,
    }


def responsable_row(data: dict[str, Any]) -> dict[str, Any]:
    """A mirror row from ONDE's responsable shape."""
    return {
        "id": data["id"],
        "school_uai": data["school_uai"],
        "civility": data.get("civility"),
        "nom": data["nom"],
        "prenom": data["prenom"],
        "mobile": data.get("mobile"),
        "accepts_sms": bool(data.get("accepts_sms", True)),
        "email": data.get("email"),
        "name_key": name_key(data["prenom"], data["nom"]),
    }


def link_row(data: dict[str, Any]) -> dict[str, Any]:
    """A mirror row from ONDE's link shape."""
    return {
        "id": data["id"],
        "pupil_id": data["pupil_id"],
        "responsable_id": data["responsable_id"],
        "lien": data["lien"],
        "autorite_parentale": bool(data["autorite_parentale"]),
    }


def class_row(data: dict[str, Any]) -> dict[str, Any]:
    """A mirror row from ONDE's class shape."""
    return {"id": data["id"], "school_uai": data["school_uai"], "label": data["label"]}


_SHAPES = {
    "pupil": (PUPILS, pupil_row),
    "responsable": (RESPONSABLES, responsable_row),
    "link": (LINKS, link_row),
    "class": (CLASSES, class_row),
}


@dataclass
class Touched:
    """What a page of changes touches: responsables to rebuild, and the deleted ones' last state."""

    responsables: set[int] = field(default_factory=set)
    pupils: set[int] = field(default_factory=set)
    deleted: dict[int, dict[str, Any]] = field(default_factory=dict)

    def merge(self, other: Touched) -> None:
        """Add another page's touches."""
        self.responsables |= other.responsables
        self.pupils |= other.pupils
        self.deleted.update(other.deleted)


def replace_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Delete these ids and insert the rows again (idempotent upsert)."""
    if not rows:
        return
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), 5000):
        session.execute(delete(table).where(table.c.id.in_(ids[start : start + 5000])))
    insert_rows(session, table, rows)


def apply_changes(session: Session, changes: Iterable[Change]) -> Touched:
    """Apply a page of changes to the mirror; what it touches."""
    latest: dict[str, dict[int, dict[str, Any] | None]] = defaultdict(dict)
    touched = Touched()
    for change in changes:
        if change.entity not in _SHAPES:
            continue
        entity_id = int(change.data["id"])
        latest[change.entity][entity_id] = None if change.op == "delete" else change.data
        if change.entity == "responsable":
            touched.responsables.add(entity_id)
            if change.op == "delete":
                touched.deleted[entity_id] = change.data
            else:
                touched.deleted.pop(entity_id, None)
        elif change.entity == "link":
            touched.responsables.add(int(change.data["responsable_id"]))
        elif change.entity == "pupil":
            touched.pupils.add(entity_id)
    for entity, states in latest.items():
        table, shape = _SHAPES[entity]
        session.execute(delete(table).where(table.c.id.in_(list(states))))
        rows = [shape(data) for data in states.values() if data is not None]
        if rows:
            insert_rows(session, table, rows)
    if touched.pupils:
        linked = session.scalars(
            select(col(MirrorLink.responsable_id)).where(
                col(MirrorLink.pupil_id).in_(touched.pupils)
            )
        )
        touched.responsables.update(linked)
    return touched


def _child(pupil: Sequence[Any], lien: str, authority: Any) -> dict[str, Any]:
    """A child of an import item: the pupil ``(id, ine, nom, prenoms, birth_date, school_uai,
    level, class label, enrolled)`` and the link's attributes."""
    pid, ine, nom, prenoms, born, uai, level, label, enrolled = pupil
    return {
        "source_id": str(pid),
        "ine": ine,
        "nom": nom,
        "prenoms": prenoms,
        "birth_date": born.isoformat(),
        "school_uai": uai,
        "level": level,
        "class_label": label,
        "lien": lien,
        "autorite_parentale": bool(authority),
        "enrolled": bool(enrolled),
    }


def _item(responsable: Sequence[Any], children: list[dict[str, Any]]) -> dict[str, Any]:
    """An import item: the responsable ``(id, school_uai, civility, nom, prenom, mobile,
    accepts_sms, email)`` and its children."""
    rid, uai, civility, nom, prenom, mobile, accepts_sms, email = responsable
    return {
        "source": "onde",
        "source_id": str(rid),
        "school_uai": uai,
        "civility": civility,
        "nom": nom,
        "prenom": prenom,
        "mobile": mobile,
        "accepts_sms": bool(accepts_sms),
        "email": email,
        "children": children,
    }


#: What ``_child`` reads of a pupil (with its class label), and ``_item`` of a responsable.
_PUPIL_COLUMNS: tuple[ColumnElement[Any], ...] = (
    PUPILS.c.id, PUPILS.c.ine, PUPILS.c.nom, PUPILS.c.prenoms, PUPILS.c.birth_date,
    PUPILS.c.school_uai, PUPILS.c.level, CLASSES.c.label, PUPILS.c.enrolled,
)  # fmt: skip
_RESPONSABLE_FIELDS = (
    "id", "school_uai", "civility", "nom", "prenom", "mobile", "accepts_sms", "email",
)  # fmt: skip


def build_items(
    session: Session, responsable_ids: Iterable[int], deleted: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each responsable in full, as EduConnect's import wants it (deleted ones flagged)."""
    wanted = sorted(set(responsable_ids))
    items: list[dict[str, Any]] = []
    r = RESPONSABLES.c
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        # Plain tuples in a fixed column order, fetched at once: no row mappings (~10 % sooner).
        found = {
            row[0]: row
            for row in session.execute(
                select(*(r[name] for name in _RESPONSABLE_FIELDS)).where(
                    one_of(session, r.id, chunk)
                )
            ).all()
        }
        children: dict[int, list[dict[str, Any]]] = defaultdict(list)
        query = (
            select(
                LINKS.c.responsable_id, LINKS.c.lien, LINKS.c.autorite_parentale, *_PUPIL_COLUMNS
            )
            .join(PUPILS, PUPILS.c.id == LINKS.c.pupil_id)
            .outerjoin(CLASSES, CLASSES.c.id == PUPILS.c.class_id)
            .where(one_of(session, LINKS.c.responsable_id, chunk))
            .order_by(LINKS.c.id)
        )
        for rid, lien, authority, *pupil in session.execute(query).all():
            children[rid].append(_child(pupil, lien, authority))
        for responsable_id in chunk:
            # Deleted wins over a row still in the mirror (ONDE never gives an id again): a run
            # stopped before the row left the mirror must not send the responsable back alive.
            row = found.get(responsable_id)
            if responsable_id in deleted:
                items.append(deleted_item(responsable_id, deleted[responsable_id]))
            elif row is not None:
                items.append(_item(row, children.get(responsable_id, [])))
    return items


def deleted_item(responsable_id: int, last: dict[str, Any]) -> dict[str, Any]:
    """The import item of a responsable deleted in ONDE, from its last known state."""
    return {
        "source": "onde",
        "source_id": str(responsable_id),
        "school_uai": last["school_uai"],
        "nom": last["nom"],
        "prenom": last["prenom"],
        "children": [],
        "deleted": True,
    }


def items_of_page(
    session: Session, responsables: Sequence[dict[str, Any]], links: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The import items of a page of the full export, once its rows are in the mirror.

    ``responsables`` and ``links`` are the page's mirror rows (``responsable_row``,
    ``link_row``): what ``build_items`` would read back, so only the linked pupils are read. A
    link whose pupil is not in the mirror is left out, as ``build_items`` leaves it out.
    """
    pupil_ids = sorted({link["pupil_id"] for link in links})
    pupils: dict[int, Sequence[Any]] = {}
    query = select(*_PUPIL_COLUMNS).outerjoin(CLASSES, CLASSES.c.id == PUPILS.c.class_id)
    for start in range(0, len(pupil_ids), 5000):
        chunk = pupil_ids[start : start + 5000]
        pupils.update(
            (row[0], row)
            for row in session.execute(query.where(one_of(session, PUPILS.c.id, chunk))).all()
        )
    children: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for link in sorted(links, key=itemgetter("id")):
        pupil = pupils.get(link["pupil_id"])
        if pupil is not None:
            children[link["responsable_id"]].append(
                _child(pupil, link["lien"], link["autorite_parentale"])
            )
    fields = itemgetter(*_RESPONSABLE_FIELDS)
    return [
        _item(fields(row), children.get(row["id"], []))
        for row in sorted(responsables, key=itemgetter("id"))
    ]
