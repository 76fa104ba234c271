"""The fake EduConnect application: ``create_app(settings) -> FastAPI``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from edusim_common.app import create_service_app
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.deps import require_service
from fake_educonnect.models import EduConnectModel, upgrade_schema
from fake_educonnect.pages import pages as web_pages
from fake_educonnect.routes import console, history, parent, selfservice, service_api
from fake_educonnect.security import Passwords

METADATA = EduConnectModel.metadata
EDUCONNECT_LOCK_KEY = 0x4544554E  # the advisory lock serialising writers on PostgreSQL

DESCRIPTION = """
The fake **EduConnect**: the national identity provider for parents (responsables).

* The **sync service** upserts responsables and their children (`POST /api/v1/import/responsables`).
  and, first, the schools' names (`PUT /api/v1/schools`), which the pages and letters show.
* Parents activate their account (SMS, FranceConnect, school letter), log in, and confirm each
  proposed child with its birth date.
* Every SMS, email and letter lands in the **outbox** (`GET /api/v1/outbox`), never sent.
* Errors are RFC 9457 `application/problem+json` bodies.
"""


def create_app(settings: EduConnectSettings | None = None) -> FastAPI:
    """Build the fake EduConnect."""
    settings = settings or EduConnectSettings()
    app = create_service_app(
        name="educonnect",
        title="Fake EduConnect",
        description=DESCRIPTION,
        settings=settings,
        metadata=METADATA,
        lock_key=EDUCONNECT_LOCK_KEY,
        require_admin=require_service,
        routers=[
            service_api.router,
            parent.router,
            selfservice.router,
            console.router,
            console.tokens,
            history.router,
        ],
        pages=web_pages,
        upgrade_schema=upgrade_schema,  # drops the unused ix_child_ine, before the schema check
    )
    app.state.passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
    _document_import_body(app)
    return app


def _document_import_body(app: FastAPI) -> None:
    """Add the import's body models to the OpenAPI components (its route validates the raw body)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in service_api.import_schemas().items():
                components.setdefault(name, model)
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
