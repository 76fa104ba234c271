"""Request dependencies: settings, clock, the request's transaction, the caller, record lookups."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from edusim_common.deps import DbSession
from fake_onde.auth import Principal, authenticate
from fake_onde.config import OndeSettings
from fake_onde.models import MAX_ID as MAX_ID  # re-exported for the routes
from fake_onde.models import Pupil, Responsable, School, SchoolClass
from fake_onde.service.pupils import get_pupil
from fake_onde.service.responsables import get_responsable
from fake_onde.service.schools import get_class, get_school

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
_bearer = HTTPBearer(auto_error=False, description="A director token, or the service token.")


def get_settings(request: Request) -> OndeSettings:
    """The app's settings."""
    settings: OndeSettings = request.app.state.settings
    return settings


def get_principal(
    settings: Annotated[OndeSettings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    request: Request,
) -> Principal:
    """Authenticate the caller from its bearer token."""
    header = request.headers.get("authorization")
    return authenticate(header, settings.service_token, settings.secret_key)


def require_service(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """Only the service token may go on."""
    principal.require_service()
    return principal


Caller = Annotated[Principal, Depends(get_principal)]
ServiceCaller = Annotated[Principal, Depends(require_service)]


def school_in_scope(
    uai: Annotated[str, Path(max_length=16, examples=["0021593W"])],
    session: DbSession,
    principal: Caller,
) -> School:
    """The school named in the path, if the caller may see it."""
    school = get_school(session, uai.strip())
    principal.check_school(school.uai)
    return school


def pupil_in_scope(pupil_id: IdPath, session: DbSession, principal: Caller) -> Pupil:
    """The pupil named in the path, if the caller may see it."""
    pupil = get_pupil(session, pupil_id)
    principal.check_school(pupil.school_uai)
    return pupil


def responsable_in_scope(
    responsable_id: IdPath, session: DbSession, principal: Caller
) -> Responsable:
    """The responsable named in the path, if the caller may see it."""
    responsable = get_responsable(session, responsable_id)
    principal.check_school(responsable.school_uai)
    return responsable


def class_in_scope(class_id: IdPath, session: DbSession, principal: Caller) -> SchoolClass:
    """The class named in the path, if the caller may see it."""
    school_class = get_class(session, class_id)
    principal.check_school(school_class.school_uai)
    return school_class


ScopedSchool = Annotated[School, Depends(school_in_scope)]
ScopedPupil = Annotated[Pupil, Depends(pupil_in_scope)]
ScopedResponsable = Annotated[Responsable, Depends(responsable_in_scope)]
ScopedClass = Annotated[SchoolClass, Depends(class_in_scope)]


def page_limit(settings: OndeSettings, limit: int | None) -> int:
    """The page size asked for, within the configured bounds."""
    return min(limit or settings.default_page_size, settings.max_page_size)


Settings = Annotated[OndeSettings, Depends(get_settings)]
