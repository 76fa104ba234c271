"""The J+1 sync service: ``create_app(settings) -> FastAPI``.

For now it holds the simulated clock and its health check; the scheduler, the runs and their
reports, and the driving of the other services' clocks come with their own issue.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import MetaData

from edusim_common.app import create_service_app
from edusim_common.service_auth import require_service_token
from sync_service.config import SyncSettings

METADATA = MetaData()


def create_app(settings: SyncSettings | None = None) -> FastAPI:
    """Build the sync service."""
    return create_service_app(
        name="sync",
        title="ONDE → EduConnect sync service",
        description="The J+1 batch and the simulated clock's driver (runs come with issue 4).",
        settings=settings or SyncSettings(),
        metadata=METADATA,
        lock_key=0x53594E43,
        require_admin=require_service_token,
    )
