"""The fake EduConnect application: ``create_app(settings) -> FastAPI``.

For now it holds the simulated clock and its health check; accounts, activation, attachment,
the director console and self-service come with their own issue.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import MetaData

from edusim_common.app import create_service_app
from edusim_common.service_auth import require_service_token
from fake_educonnect.config import EduConnectSettings

METADATA = MetaData()


def create_app(settings: EduConnectSettings | None = None) -> FastAPI:
    """Build the fake EduConnect."""
    return create_service_app(
        name="educonnect",
        title="Fake EduConnect",
        description="The national identity provider for parents (accounts come with issue 3).",
        settings=settings or EduConnectSettings(),
        metadata=METADATA,
        lock_key=0x4543,
        require_admin=require_service_token,
    )
