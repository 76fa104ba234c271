"""EduConnect's school directory: the names its pages and letters give the schools.

EduConnect receives only UAIs with the responsables; the sync copies ONDE's schools here at the
start of each run (a few thousand at most: one call), so that a parent reads « École élémentaire
Jean Jaurès, Lille » rather than « École 0021593W ». A school the directory does not know keeps
that fallback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from edusim_common.bulk import executemany, insert_rows, one_of
from edusim_common.text import fold_search
from fake_educonnect.models import School, table_of
from fake_educonnect.schemas import SchoolsReport

SCHOOLS = table_of(School)


def record_schools(
    session: Session, now: datetime, schools: Iterable[tuple[str, str, str | None]]
) -> SchoolsReport:
    """Add or rename the given ``(uai, name, commune)``, set-based; the same call again changes
    nothing (``updated_at`` moves only with the name or the commune)."""
    wanted = {uai: (name, commune) for uai, name, commune in schools}
    if not wanted:
        return SchoolsReport(created=0, updated=0, unchanged=0)
    found = session.execute(
        select(SCHOOLS.c.uai, SCHOOLS.c.name, SCHOOLS.c.commune).where(
            one_of(session, SCHOOLS.c.uai, list(wanted))
        )
    )
    known = {uai: (name, commune) for uai, name, commune in found}
    rows = [
        {"uai": uai, "name": name, "commune": commune, "updated_at": now}
        for uai, (name, commune) in wanted.items()
        if known.get(uai) != (name, commune)
    ]
    new = [row for row in rows if row["uai"] not in known]
    changed = [row for row in rows if row["uai"] in known]
    insert_rows(session, SCHOOLS, new)
    if changed:
        statement = (
            update(SCHOOLS)
            .where(SCHOOLS.c.uai == bindparam("school_uai"))
            .values(
                name=bindparam("v_name"),
                commune=bindparam("v_commune"),
                updated_at=bindparam("v_updated_at"),
            )
        )
        binds = {
            "school_uai": "uai",
            "v_name": "name",
            "v_commune": "commune",
            "v_updated_at": "updated_at",
        }
        executemany(session, SCHOOLS, statement, binds, changed)
    return SchoolsReport(created=len(new), updated=len(changed), unchanged=len(wanted) - len(rows))


def list_schools(session: Session, after: str | None, limit: int) -> list[School]:
    """The directory by UAI, after a keyset position."""
    query = select(School).order_by(col(School.uai)).limit(limit)
    if after is not None:
        query = query.where(col(School.uai) > after)
    return list(session.scalars(query))


def directory(session: Session, uais: Iterable[str | None]) -> dict[str, School]:
    """The directory's entries for ``uais`` (those it knows), in one query."""
    wanted = sorted({uai for uai in uais if uai})
    if not wanted:
        return {}
    found = session.scalars(select(School).where(one_of(session, SCHOOLS.c.uai, wanted)))
    return {school.uai: school for school in found}


def school_label(uai: str, school: School | None, *, with_uai: bool = False) -> str:
    """How a page or a letter names a school: « École élémentaire Jean Jaurès, Lille », with
    « (0021593W) » after it when ``with_uai``; « École 0021593W » when the directory does not
    know it.

    The commune is left out when the name already says it (« École primaire de Lille »).
    """
    if school is None:
        return f"École {uai}"
    label = school.name
    if school.commune and not _names(school.name, school.commune):
        label = f"{label}, {school.commune}"
    return f"{label} ({uai})" if with_uai else label


def _names(name: str, commune: str) -> bool:
    """Whether ``name`` holds ``commune`` as whole words (accents and case aside)."""
    pattern = rf"(?<!\w){re.escape(fold_search(commune))}(?!\w)"
    return re.search(pattern, fold_search(name)) is not None


def label_in(known: Mapping[str, School], uai: str | None, *, with_uai: bool = False) -> str:
    """:func:`school_label` of ``uai`` read in ``known`` (an empty UAI names nothing)."""
    if not uai:
        return ""
    return school_label(uai, known.get(uai), with_uai=with_uai)
