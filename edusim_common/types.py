"""Reusable annotated string types: validated free text that is safe in every database."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from edusim_common.text import clean_name


def _no_control_chars(value: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in value):
        raise ValueError("must not contain control or unassigned characters")
    return value


_NAME_PUNCTUATION = frozenset(" -'’")


def _person_name(value: str) -> str:
    value = clean_name(value)
    if not value:
        raise ValueError("must not be empty")
    if not value[0].isalpha():
        raise ValueError("must start with a letter")
    bad = sorted({ch for ch in value if not (ch.isalpha() or ch in _NAME_PUNCTUATION)})
    if bad:
        raise ValueError(
            "may hold only letters, spaces, hyphens and apostrophes (found "
            + ", ".join(repr(ch) for ch in bad)
            + ")"
        )
    return value


ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    AfterValidator(_no_control_chars),
]
"""Trimmed, non-empty text of at most 120 characters, without control characters."""

PersonName = Annotated[
    str,
    StringConstraints(max_length=80),
    AfterValidator(_no_control_chars),
    AfterValidator(_person_name),
]
"""A family or first name: letters, spaces, hyphens and apostrophes, 80 characters at most."""
