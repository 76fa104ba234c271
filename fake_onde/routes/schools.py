"""Schools and classes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from edusim_common.deps import DbSession, Now
from edusim_common.pagination import Page, decode_cursor, encode_cursor
from edusim_common.problems import PROBLEM_RESPONSES
from fake_onde.auth import director_token
from fake_onde.deps import (
    Caller,
    ScopedClass,
    ScopedSchool,
    ServiceCaller,
    Settings,
    page_limit,
)
from fake_onde.models import ClassCreate, ClassPublic, SchoolCreate, SchoolCreated, SchoolPublic
from fake_onde.service import schools
from fake_onde.service.snapshots import class_dict, school_dict

router = APIRouter(tags=["schools"], responses=PROBLEM_RESPONSES)


@router.post("/schools", status_code=201, summary="Create a school (service token)")
def create_school(
    body: SchoolCreate, session: DbSession, now: Now, _: ServiceCaller, settings: Settings
) -> SchoolCreated:
    """Create a school; the answer carries its director's bearer token."""
    school = schools.create_school(session, now, body)
    return SchoolCreated(
        **school_dict(school), director_token=director_token(settings.secret_key, school.uai)
    )


@router.get("/schools", summary="List schools (a director sees only their own)")
def list_schools(
    session: DbSession,
    principal: Caller,
    settings: Settings,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int | None, Query(ge=1, le=50000)] = None,
) -> Page[SchoolPublic]:
    """Schools by UAI, one page at a time."""
    position = decode_cursor(cursor, uai=str)
    size = page_limit(settings, limit)
    found = schools.list_schools(
        session, position["uai"] if position else None, size, only=principal.uai
    )
    next_cursor = encode_cursor({"uai": found[-1].uai}) if len(found) == size else None
    return Page(
        items=[SchoolPublic.model_validate(school_dict(s)) for s in found], next_cursor=next_cursor
    )


@router.get("/schools/{uai}", summary="Read a school")
def read_school(school: ScopedSchool) -> SchoolPublic:
    """One school."""
    return SchoolPublic.model_validate(school_dict(school))


@router.get(
    "/schools/{uai}/director-token", summary="Get a school's director token (service token)"
)
def read_director_token(
    school: ScopedSchool, _: ServiceCaller, settings: Settings
) -> SchoolCreated:
    """Recompute the director token of a school (e.g. to hand it to a trainer)."""
    return SchoolCreated(
        **school_dict(school), director_token=director_token(settings.secret_key, school.uai)
    )


@router.post("/schools/{uai}/classes", status_code=201, summary="Create a class")
def create_class(
    school: ScopedSchool, body: ClassCreate, session: DbSession, now: Now
) -> ClassPublic:
    """Create a class in the school."""
    return ClassPublic.model_validate(class_dict(schools.create_class(session, now, school, body)))


@router.get("/schools/{uai}/classes", summary="List a school's classes")
def list_classes(school: ScopedSchool, session: DbSession) -> list[ClassPublic]:
    """Every class of the school."""
    return [
        ClassPublic.model_validate(class_dict(c)) for c in schools.list_classes(session, school.uai)
    ]


@router.get("/classes/{class_id}", summary="Read a class")
def read_class(school_class: ScopedClass) -> ClassPublic:
    """One class."""
    return ClassPublic.model_validate(class_dict(school_class))


@router.delete("/classes/{class_id}", status_code=204, summary="Delete an empty class")
def delete_class(school_class: ScopedClass, session: DbSession, now: Now) -> Response:
    """Delete a class that has no pupil left."""
    schools.delete_class(session, now, school_class)
    return Response(status_code=204)
