"""School identifiers (UAI): 7 digits and a key letter, ``KEY_ALPHABET[int(digits) % 23]``.

Shared by the services: ONDE records schools by them, EduConnect's directory and imports name them,
and both refuse a wrong key letter the same way.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator, StringConstraints

KEY_ALPHABET: Final = "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
UAI_PATTERN: Final = r"^[0-9]{7}[A-Z]$"
_UAI = re.compile(UAI_PATTERN)


def uai_key(digits: str) -> str:
    """The key letter of a 7-digit UAI."""
    return KEY_ALPHABET[int(digits) % 23]


def normalize_uai(value: str) -> str:
    """Check a UAI and return it upper-case; raise ``ValueError`` naming what is wrong."""
    candidate = value.strip().upper()
    if not _UAI.match(candidate):
        raise ValueError("a UAI is 7 digits followed by a key letter, e.g. 0021593W")
    return _key_checked(candidate)


def make_uai(number: int) -> str:
    """A valid UAI for ``number`` (0 <= number < 10**7)."""
    digits = f"{number:07d}"
    return digits + uai_key(digits)


def _key_checked(value: str) -> str:
    """A UAI of the right shape, if its key letter is right."""
    expected = uai_key(value[:7])
    if value[7] != expected:
        raise ValueError(f"wrong key letter: {value[:7]} takes '{expected}'")
    return value


#: A UAI as a service's API takes it: upper-case, shaped as the pattern says, its key checked.
Uai = Annotated[str, StringConstraints(pattern=UAI_PATTERN), AfterValidator(_key_checked)]
