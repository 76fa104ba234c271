"""Pupils, their state, and their links to responsables."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from edusim_common.deps import DbSession, Now
from edusim_common.pagination import Page, decode_cursor, encode_cursor
from edusim_common.problems import PROBLEM_RESPONSES
from fake_onde.deps import (
    MAX_ID,
    Caller,
    IdPath,
    ScopedPupil,
    ScopedSchool,
    Settings,
    page_limit,
)
from fake_onde.models import (
    LinkCreate,
    LinkPublic,
    LinkUpdate,
    PupilCreate,
    PupilPublic,
    PupilState,
    PupilUpdate,
    StateChange,
    Uai,
)
from fake_onde.service import pupils, responsables
from fake_onde.service.snapshots import link_dict, pupil_dict

router = APIRouter(tags=["pupils"], responses=PROBLEM_RESPONSES)


def _public(pupil: object) -> PupilPublic:
    return PupilPublic.model_validate(pupil_dict(pupil))  # type: ignore[arg-type]


@router.post("/schools/{uai}/pupils", status_code=201, summary="Register a pupil")
def create_pupil(
    school: ScopedSchool, body: PupilCreate, session: DbSession, now: Now
) -> PupilPublic:
    """Register a pupil in the school (state `inscrit` unless told otherwise)."""
    return _public(pupils.create_pupil(session, now, school.uai, body))


@router.get("/pupils", summary="List pupils (filters: school, class, state, name)")
def list_pupils(
    session: DbSession,
    principal: Caller,
    settings: Settings,
    school: Annotated[Uai | None, Query(description="UAI")] = None,
    class_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    state: PupilState | None = None,
    name: Annotated[
        str | None, Query(max_length=80, description="Prefix of family or first name")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int | None, Query(ge=1, le=50000)] = None,
) -> Page[PupilPublic]:
    """Pupils by id, one page at a time; a director sees only their school."""
    school_uai = school or principal.uai  # ``Uai``: checked, trimmed, upper-case
    if school_uai is not None:
        principal.check_school(school_uai)
    position = decode_cursor(cursor, id=int)
    size = page_limit(settings, limit)
    found = pupils.list_pupils(
        session,
        pupils.PupilFilter(school_uai=school_uai, class_id=class_id, state=state, name=name),
        position["id"] if position else 0,
        size,
    )
    next_cursor = encode_cursor({"id": found[-1].id}) if len(found) == size else None
    return Page(items=[_public(p) for p in found], next_cursor=next_cursor)


@router.get("/pupils/{pupil_id}", summary="Read a pupil")
def read_pupil(pupil: ScopedPupil) -> PupilPublic:
    """One pupil."""
    return _public(pupil)


@router.patch("/pupils/{pupil_id}", summary="Correct a pupil's identity, level or class")
def update_pupil(
    pupil: ScopedPupil, body: PupilUpdate, session: DbSession, now: Now
) -> PupilPublic:
    """Change the fields given; the others stay."""
    return _public(pupils.update_pupil(session, now, pupil, body))


@router.post(
    "/pupils/{pupil_id}/state",
    summary="Change a pupil's administrative state (admit, strike off...)",
)
def change_state(
    pupil: ScopedPupil, body: StateChange, session: DbSession, now: Now
) -> PupilPublic:
    """Legal transitions only; admission runs the duplicate check."""
    return _public(pupils.change_state(session, now, pupil, body.state))


@router.delete("/pupils/{pupil_id}", status_code=204, summary="Delete a pupil not enrolled")
def delete_pupil(pupil: ScopedPupil, session: DbSession, now: Now) -> Response:
    """Delete a pupil in `en_attente`, `inscrit` or `radie`, with their links."""
    pupils.delete_pupil(session, now, pupil)
    return Response(status_code=204)


@router.get("/pupils/{pupil_id}/responsables", summary="List a pupil's links")
def list_pupil_links(pupil: ScopedPupil, session: DbSession) -> list[LinkPublic]:
    """The responsables linked to the pupil, with the kind of link."""
    return [
        LinkPublic.model_validate(link_dict(link))
        for link in responsables.links_of_pupil(session, pupil.id or 0)
    ]


@router.post(
    "/pupils/{pupil_id}/responsables", status_code=201, summary="Link a responsable to a pupil"
)
def add_link(pupil: ScopedPupil, body: LinkCreate, session: DbSession, now: Now) -> LinkPublic:
    """Link a responsable of the same school, with the kind of link and parental authority."""
    return LinkPublic.model_validate(link_dict(responsables.add_link(session, now, pupil, body)))


@router.patch("/pupils/{pupil_id}/responsables/{responsable_id}", summary="Change a link")
def update_link(
    pupil: ScopedPupil,
    responsable_id: IdPath,
    body: LinkUpdate,
    session: DbSession,
    now: Now,
) -> LinkPublic:
    """Change the kind of link or the parental authority."""
    link = responsables.get_link(session, pupil, responsable_id)
    return LinkPublic.model_validate(link_dict(responsables.update_link(session, now, link, body)))


@router.delete(
    "/pupils/{pupil_id}/responsables/{responsable_id}", status_code=204, summary="Remove a link"
)
def remove_link(
    pupil: ScopedPupil, responsable_id: IdPath, session: DbSession, now: Now
) -> Response:
    """Unlink a responsable from the pupil."""
    responsables.remove_link(session, now, responsables.get_link(session, pupil, responsable_id))
    return Response(status_code=204)
