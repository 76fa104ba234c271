"""Steps shared by the EduConnect tests: import, read the outbox, activate, log in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, update
from sqlmodel import col

from edusim_common.db import unit_of_work
from fake_educonnect.models import (
    Account,
    AccountState,
    Attachment,
    AttachmentStatus,
    Origin,
    RateEvent,
)
from fake_educonnect.service.parent import open_session
from tests.educonnect.factories import responsable


def import_items(
    client: TestClient, service: dict[str, str], *items: dict[str, Any]
) -> list[dict[str, Any]]:
    """Import responsables as the sync would; the per-item results."""
    response = client.post(
        "/api/v1/import/responsables", json={"items": list(items)}, headers=service
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def last_code(client: TestClient, service: dict[str, str], recipient: str) -> str:
    """The 6-digit code of the latest message to ``recipient`` in the outbox."""
    messages = client.get("/api/v1/outbox", params={"recipient": recipient}, headers=service).json()
    assert messages, f"no message to {recipient}"
    found = re.search(r"\b(\d{6})\b", messages[-1]["body"])
    assert found, messages[-1]["body"]
    return found.group(1)


def activate_by_sms(
    client: TestClient,
    service: dict[str, str],
    nom: str = "Martin",
    prenom: str = "Sophie",
    mobile: str = "06 12 34 56 78",
    password: str = "Soleil2026",
) -> dict[str, Any]:
    """The whole SMS activation; the opened session."""
    started = client.post(
        "/api/v1/activation/sms", json={"nom": nom, "prenom": prenom, "mobile": mobile}
    )
    assert started.status_code == 202, started.text
    code = last_code(client, service, "+33" + mobile.replace(" ", "")[1:])
    done = client.post(
        "/api/v1/activation/sms/confirm",
        json={"request_id": started.json()["request_id"], "code": code, "password": password},
    )
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    return body


def bearer(session: dict[str, Any]) -> dict[str, str]:
    """Headers of a parent's session."""
    return {"Authorization": f"Bearer {session['session_token']}"}


def one_parent(client: TestClient, service: dict[str, str], **fields: Any) -> dict[str, Any]:
    """Import one eligible responsable; its result."""
    return import_items(client, service, responsable(**fields))[0]


def director(client: TestClient, service: dict[str, str], uai: str = "0021593W") -> dict[str, str]:
    """Headers of a school director's console token."""
    response = client.get(f"/api/v1/schools/{uai}/director-token", headers=service)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['director_token']}"}


def add_identity(
    client: TestClient, service: dict[str, str], sub: str = "fc-sophie", **claims: Any
) -> dict[str, Any]:
    """A test identity of the fake FranceConnect."""
    body: dict[str, Any] = {
        "sub": sub,
        "given_name": "Sophie Marie",
        "family_name": "MARTIN",
        "birthdate": "1985-04-12",
        "gender": "female",
        "birthplace": "59350",
        "email": "sophie.martin@example.org",
        "phone_number": "+33612345678",
    }
    body.update(claims)
    response = client.post("/api/v1/franceconnect/identities", json=body, headers=service)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def letter_for(
    client: TestClient, service: dict[str, str], account_id: int, uai: str = "0021593W"
) -> dict[str, Any]:
    """A school letter printed by the director for ``account_id``."""
    response = client.post(
        f"/api/v1/console/accounts/{account_id}/letter", headers=director(client, service, uai)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reopen_parent_session(engine: Engine, now: datetime, account_id: int) -> str:
    """A new session of an active parent, straight in the database (the fuzz tests' parent).

    Their children are all proposed again at it (as after a login), with one try each, and no
    rate event is left: whatever the last requests did, the parent's pages and API are usable.
    Returns the session's token.
    """
    with unit_of_work(engine) as session:
        session.execute(
            update(Attachment)
            .where(col(Attachment.account_id) == account_id)
            .values(
                status=AttachmentStatus.proposed.value,
                presented_at=None,
                presented_session_id=None,
                tries_left=1,
                decided_at=None,
                decided_by=None,
                reason=None,
            )
        )
        session.execute(delete(RateEvent))
        account = session.get(Account, account_id)
        assert account is not None, "the seeded parent is gone"
        account.state = AccountState.active.value
        account.origin = Origin.Responsable.value
        account.activated_at = now
        account.must_change_password = False
        opened = open_session(session, now, account, timedelta(hours=1))
    return opened.token
