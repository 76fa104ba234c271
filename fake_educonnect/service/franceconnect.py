"""The fake FranceConnect's test identities: people FranceConnect knows, with the pivot claims."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from edusim_common.clock import PARIS
from edusim_common.problems import Conflict, InvalidInput
from fake_educonnect.models import FranceConnectIdentity
from fake_educonnect.schemas import FranceConnectIdentityIn


def add_identity(
    session: Session, now: datetime, claims: FranceConnectIdentityIn
) -> FranceConnectIdentity:
    """Store a test identity; 409 if its ``sub`` is taken, 422 if its birth date cannot be."""
    if session.get(FranceConnectIdentity, claims.sub) is not None:
        raise Conflict.for_field("body.sub", f"identity {claims.sub} already exists")
    # "Today" is the simulated date in France, as the clock shows it.
    today = now.astimezone(PARIS).date()
    if claims.birthdate > today:
        raise InvalidInput.for_field("body.birthdate", f"is after today ({today.isoformat()})")
    if claims.birthdate.year < today.year - 130:
        raise InvalidInput.for_field("body.birthdate", "is more than 130 years ago")
    identity = FranceConnectIdentity(**claims.model_dump(mode="python"), created_at=now)
    identity.email = str(claims.email) if claims.email else None
    session.add(identity)
    session.flush()
    return identity


def has_identity_with_prefix(session: Session, prefix: str) -> bool:
    """Whether some test identity's ``sub`` starts with ``prefix`` (a set already loaded)."""
    found = session.scalar(
        select(col(FranceConnectIdentity.sub))
        .where(col(FranceConnectIdentity.sub).startswith(prefix, autoescape=True))
        .limit(1)
    )
    return found is not None


def add_identities(
    session: Session, now: datetime, identities: Iterable[FranceConnectIdentityIn]
) -> int:
    """Store the identities whose ``sub`` is not taken yet; how many were added."""
    added = 0
    for claims in identities:
        if session.get(FranceConnectIdentity, claims.sub) is None:
            add_identity(session, now, claims)
            added += 1
    return added
