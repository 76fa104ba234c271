"""Per-school bearer tokens: an HMAC of the UAI under the service's secret key.

Nothing is stored: any school's token can be recomputed by an administrator, and changing the
secret revokes every token at once. Each service has its own prefix (``onde-dir-``, ``ec-dir-``).
"""

from __future__ import annotations

import hashlib
import hmac

UAI_LENGTH = 8


def school_token(prefix: str, secret_key: str, uai: str) -> str:
    """The bearer token of the director of ``uai``."""
    digest = hmac.new(secret_key.encode(), f"director:{uai}".encode(), hashlib.sha256)
    return f"{prefix}{uai}-{digest.hexdigest()[:32]}"


def school_of_token(prefix: str, secret_key: str, token: str) -> str | None:
    """The UAI a token was made for, or None if it is not a valid director token."""
    if not token.startswith(prefix):
        return None
    uai = token[len(prefix) : len(prefix) + UAI_LENGTH]
    expected = school_token(prefix, secret_key, uai)
    return uai if hmac.compare_digest(token.encode(), expected.encode()) else None
