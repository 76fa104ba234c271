"""National identifiers and contact formats: UAI, INE, phone numbers, INSEE codes.

* UAI: 7 digits and a key letter, ``KEY_ALPHABET[int(digits) % 23]`` (no I, O, Q).
* INE (INE-BEA form): 10 digits and a key letter. The real key algorithm is not public; the
  simulator uses ``KEY_ALPHABET[(int(digits) * 7 + 3) % 23]`` **(assumption)**, so a pupil
  identifier differs from a school one with the same digits.
* Phones: parsed with Google's libphonenumber (``phonenumbers``), default region France, stored
  in E.164 (``+33612345678``); a mobile must be of a mobile type.
"""

from __future__ import annotations

import re

from edusim_common.phones import normalize_phone
from edusim_common.uai import KEY_ALPHABET, make_uai, normalize_uai, uai_key

__all__ = [
    "KEY_ALPHABET",
    "ine_key",
    "make_ine",
    "make_uai",
    "normalize_ine",
    "normalize_insee",
    "normalize_phone",
    "normalize_uai",
    "uai_key",
]

_INE = re.compile(r"^[0-9]{10}[A-Z]$")
_INSEE = re.compile(r"^([0-9]{5}|2[AB][0-9]{3})$")


def ine_key(digits: str) -> str:
    """The key letter of a 10-digit INE (the simulator's own documented key)."""
    return KEY_ALPHABET[(int(digits) * 7 + 3) % 23]


def normalize_ine(value: str) -> str:
    """Check an INE and return it upper-case; raise ``ValueError`` naming what is wrong."""
    candidate = value.strip().upper()
    if not _INE.match(candidate):
        raise ValueError("an INE is 10 digits followed by a key letter, e.g. 0123456789K")
    expected = ine_key(candidate[:10])
    if candidate[10] != expected:
        raise ValueError(f"wrong key letter: {candidate[:10]} takes '{expected}'")
    return candidate


def make_ine(number: int) -> str:
    """A valid INE for ``number`` (0 <= number < 10**10)."""
    digits = f"{number:010d}"
    return digits + ine_key(digits)


def normalize_insee(value: str) -> str:
    """Check an INSEE commune code (5 digits, or 2A/2B and 3 digits for Corsica)."""
    candidate = value.strip().upper()
    if not _INSEE.match(candidate):
        raise ValueError("an INSEE code is 5 digits (2A/2B and 3 digits in Corsica), e.g. 59350")
    return candidate
