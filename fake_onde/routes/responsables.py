"""Responsables and their contact data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from edusim_common.deps import DbSession, Now
from edusim_common.pagination import Page, decode_cursor, encode_cursor
from edusim_common.problems import PROBLEM_RESPONSES
from fake_onde.deps import (
    MAX_ID,
    Caller,
    ScopedResponsable,
    ScopedSchool,
    Settings,
    page_limit,
)
from fake_onde.models import (
    LinkPublic,
    ResponsableCreate,
    ResponsablePublic,
    ResponsableUpdate,
    Uai,
)
from fake_onde.service import responsables
from fake_onde.service.snapshots import link_dict, responsable_dict

router = APIRouter(tags=["responsables"], responses=PROBLEM_RESPONSES)


def _public(responsable: object) -> ResponsablePublic:
    return ResponsablePublic.model_validate(responsable_dict(responsable))  # type: ignore[arg-type]


@router.post("/schools/{uai}/responsables", status_code=201, summary="Record a responsable")
def create_responsable(
    school: ScopedSchool, body: ResponsableCreate, session: DbSession, now: Now
) -> ResponsablePublic:
    """Record a legal representative; phones are normalised, a missing mobile is allowed."""
    return _public(responsables.create_responsable(session, now, school.uai, body))


@router.get("/responsables", summary="List responsables (filters: school, name, pupil, mobile)")
def list_responsables(
    session: DbSession,
    principal: Caller,
    settings: Settings,
    school: Annotated[Uai | None, Query(description="UAI")] = None,
    name: Annotated[str | None, Query(max_length=80)] = None,
    pupil_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    has_mobile: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int | None, Query(ge=1, le=50000)] = None,
) -> Page[ResponsablePublic]:
    """Responsables by id, one page at a time; a director sees only their school."""
    school_uai = school or principal.uai  # ``Uai``: checked, trimmed, upper-case
    if school_uai is not None:
        principal.check_school(school_uai)
    position = decode_cursor(cursor, id=int)
    size = page_limit(settings, limit)
    found = responsables.list_responsables(
        session,
        responsables.ResponsableFilter(
            school_uai=school_uai, name=name, pupil_id=pupil_id, has_mobile=has_mobile
        ),
        position["id"] if position else 0,
        size,
    )
    next_cursor = encode_cursor({"id": found[-1].id}) if len(found) == size else None
    return Page(items=[_public(r) for r in found], next_cursor=next_cursor)


@router.get("/responsables/{responsable_id}", summary="Read a responsable")
def read_responsable(responsable: ScopedResponsable) -> ResponsablePublic:
    """One responsable."""
    return _public(responsable)


@router.patch("/responsables/{responsable_id}", summary="Change a responsable's data")
def update_responsable(
    responsable: ScopedResponsable, body: ResponsableUpdate, session: DbSession, now: Now
) -> ResponsablePublic:
    """Change the fields given; `null` clears an optional field (e.g. the mobile)."""
    return _public(responsables.update_responsable(session, now, responsable, body))


@router.delete("/responsables/{responsable_id}", status_code=204, summary="Delete a responsable")
def delete_responsable(responsable: ScopedResponsable, session: DbSession, now: Now) -> Response:
    """Delete a responsable and their links."""
    responsables.delete_responsable(session, now, responsable)
    return Response(status_code=204)


@router.get("/responsables/{responsable_id}/pupils", summary="List a responsable's links")
def list_responsable_links(responsable: ScopedResponsable, session: DbSession) -> list[LinkPublic]:
    """The pupils the responsable is linked to."""
    return [
        LinkPublic.model_validate(link_dict(link))
        for link in responsables.links_of_responsable(session, responsable.id or 0)
    ]
