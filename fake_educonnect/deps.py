"""Request dependencies of the fake EduConnect."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from edusim_common.service_auth import require_service_token
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
ServiceOnly = Depends(require_service_token)
