"""Who is calling: the service (sync, administrators) or the director of one school.

A director's token is derived from the UAI with the service's secret key
(``onde-dir-<UAI>-<hmac>``), so no token is stored and any school's token can be recomputed by an
administrator. The service token reads and writes everything.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from edusim_common.problems import Forbidden, Unauthorized
from edusim_common.school_tokens import school_of_token, school_token

_PREFIX = "onde-dir-"


@dataclass(frozen=True)
class Principal:
    """The caller: ``uai`` is None for the service, a school's UAI for its director."""

    uai: str | None

    @property
    def is_service(self) -> bool:
        """Whether the caller may touch every school."""
        return self.uai is None

    def check_school(self, uai: str) -> None:
        """Refuse access to another school's data."""
        if self.uai is not None and self.uai != uai:
            raise Forbidden(
                f"this record belongs to school {uai}; your token is for school {self.uai}"
            )

    def require_service(self) -> None:
        """Refuse directors."""
        if self.uai is not None:
            raise Forbidden("this operation needs the service token")


def director_token(secret_key: str, uai: str) -> str:
    """The bearer token of the director of ``uai``."""
    return school_token(_PREFIX, secret_key, uai)


def authenticate(authorization: str | None, service_token: str, secret_key: str) -> Principal:
    """Read an ``Authorization: Bearer`` header."""
    if not authorization:
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("expected 'Authorization: Bearer <token>'")
    if hmac.compare_digest(token.encode(), service_token.encode()):
        return Principal(uai=None)
    uai = school_of_token(_PREFIX, secret_key, token)
    if uai is not None:
        return Principal(uai=uai)
    raise Unauthorized("unknown token")
