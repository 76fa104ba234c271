"""Request dependencies of the fake EduConnect."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials

from edusim_common.problems import Forbidden, Unauthorized
from edusim_common.school_tokens import school_of_token
from edusim_common.service_auth import require_service_token, service_bearer
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.security import Passwords

MAX_ID = 2**31 - 1
"""Largest record id: ids are INTEGER columns (32-bit on PostgreSQL)."""
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def get_settings(request: Request) -> EduConnectSettings:
    """The app's settings."""
    settings: EduConnectSettings = request.app.state.settings
    return settings


def get_passwords(request: Request) -> Passwords:
    """The app's password hasher."""
    passwords: Passwords = request.app.state.passwords
    return passwords


Settings = Annotated[EduConnectSettings, Depends(get_settings)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]
#: How a director's console token starts (``ec-dir-<UAI>-<hmac>``).
DIRECTOR_PREFIX = "ec-dir-"


def require_service(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(service_bearer)],
) -> None:
    """The service token; a director's valid token is known but not allowed here: 403."""
    try:
        require_service_token(request, credentials)
    except Unauthorized:
        secret_key = get_settings(request).secret_key
        if credentials is not None and school_of_token(
            DIRECTOR_PREFIX, secret_key, credentials.credentials
        ):
            raise Forbidden(
                "this operation needs the service token: a director's token opens the console "
                "(/api/v1/console/…) only"
            ) from None
        raise


ServiceOnly = Depends(require_service)
