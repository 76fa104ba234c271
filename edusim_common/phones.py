"""Phone numbers: parsed with Google's libphonenumber, default region France, stored in E.164."""

from __future__ import annotations

from typing import Final

import phonenumbers

_MOBILE_TYPES: Final = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}

_DIALLED_WITH_ZERO: Final = frozenset({"FR", "RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF"})
"""Metropolitan France and the overseas departments dialled from France with a leading 0."""


def normalize_phone(value: str, *, mobile: bool = False) -> str:
    """Parse a French-style phone number and return it in E.164; ``ValueError`` if malformed."""
    raw = value.strip()
    if not raw or len(raw) > 30:
        raise ValueError("not a phone number (expected e.g. 06 12 34 56 78 or +33 6 12 34 56 78)")
    try:
        parsed = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(
            "not a phone number (expected e.g. 06 12 34 56 78 or +33 6 12 34 56 78)"
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    if mobile and phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        raise ValueError("not a mobile number (in France, mobiles start with 06 or 07)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_phone(value: str) -> str:
    """A stored (E.164) number as people write it: ``+33612345678`` → ``06 12 34 56 78``.

    Overseas departments too (``+262692123456`` → ``0692 12 34 56``); a foreign number keeps its
    country code (``+32 470 12 34 56``); what does not parse is shown
    as it is.
    """
    try:
        parsed = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(parsed):
        return value
    if phonenumbers.region_code_for_number(parsed) in _DIALLED_WITH_ZERO:
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
