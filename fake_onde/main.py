"""The fake ONDE application: ``create_app(settings) -> FastAPI``."""

from __future__ import annotations

from fastapi import FastAPI

from edusim_common.app import create_service_app
from fake_onde.config import OndeSettings
from fake_onde.deps import require_service
from fake_onde.models import OndeModel
from fake_onde.pages import pages as onde_pages
from fake_onde.routes import changes, history, pupils, responsables, schools

ONDE_LOCK_KEY = 0x4F4E4445  # "ONDE": the advisory lock serialising writers on PostgreSQL

DESCRIPTION = """
The fake **ONDE** (Outil Numérique pour la Direction d'École): the primary schools' pupil database.

* A **director** reads and writes only their own school with its bearer token
  (`onde-dir-<UAI>-…`); the **service token** (sync, administrators) reaches every school.
* Every change is recorded in the **change log** (`GET /api/v1/changes`), in order, with its
  simulated time: the sync reads "everything after my cursor, up to my cut-off".
* Errors are RFC 9457 `application/problem+json` bodies naming the field and the reason.
"""


def create_app(settings: OndeSettings | None = None) -> FastAPI:
    """Build the fake ONDE; the lifespan opens the database and restores the clock."""
    return create_service_app(
        name="onde",
        title="Fake ONDE",
        description=DESCRIPTION,
        settings=settings or OndeSettings(),
        metadata=OndeModel.metadata,
        lock_key=ONDE_LOCK_KEY,
        require_admin=require_service,
        routers=[m.router for m in (schools, pupils, responsables, changes, history)],
        pages=onde_pages,
    )
