"""Opaque keyset cursors and the page envelope shared by list endpoints."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from edusim_common.problems import InvalidInput

T = TypeVar("T")

MAX_PAGE_SIZE = 5000
MAX_POSITION = 2**31 - 1
"""Largest integer position: ids are INTEGER columns (32-bit on PostgreSQL)."""


def encode_cursor(payload: dict[str, Any]) -> str:
    """Encode a keyset position as an opaque, URL-safe string."""
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, **types: type) -> dict[str, Any] | None:
    """Decode a cursor made by :func:`encode_cursor`, checking each key's type.

    A malformed cursor is a 422 naming ``query.cursor``.
    """
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidInput.for_field("query.cursor", "malformed cursor") from exc
    if (
        not isinstance(payload, dict)
        or any(type(payload.get(key)) is not kind for key, kind in types.items())
        # Out-of-range ids, NUL characters (PostgreSQL text cannot hold them) and lone
        # surrogates (a JSON ``\ud800`` alone: no UTF-8 for them) are forgeries
        or any(_unstorable(value) for value in payload.values())
    ):
        raise InvalidInput.for_field("query.cursor", "malformed cursor")
    return payload


def _unstorable(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value or (not value.isascii() and not _encodable(value))
    return isinstance(value, int) and not 0 <= value <= MAX_POSITION


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


class Page(BaseModel, Generic[T]):
    """One page of a list, with the cursor that fetches the next one."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page."
    )
