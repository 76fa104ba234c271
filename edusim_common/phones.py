"""Phone numbers: parsed with Google's libphonenumber, default region France, stored in E.164."""

from __future__ import annotations

from typing import Final

import phonenumbers

_MOBILE_TYPES: Final = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


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
