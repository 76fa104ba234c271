"""Reusable annotated string types: validated free text that is safe in every database."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.networks import validate_email
from pydantic_settings import NoDecode

from edusim_common.text import clean_name

#: The configuration of every request body: a field the API does not know is refused (422), not
#: dropped. A misspelt field, or a read-only one (a pupil's ``state`` in a PATCH), would otherwise
#: answer 200 having changed nothing.
STRICT_INPUT = ConfigDict(extra="forbid")

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _not_a_number(value: object) -> object:
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError(
            "expected a date and time as ISO 8601 text (e.g. 2026-09-01T21:59:59Z), not a number"
        )
    return value


#: A date and time given as text, as in a query string: pydantic would read ``0.5`` as seconds
#: since 1970.
DateTimeText = Annotated[datetime, BeforeValidator(_not_a_number)]

_ORIGIN = re.compile(r"^https?://[^/\s]+$")


def _origins(value: object) -> object:
    """A comma-separated list as an environment variable gives it, or a JSON list; checked."""
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [o for o in text.split(",") if o]
    if isinstance(value, list):
        origins = [str(origin).strip().rstrip("/") for origin in value]
        wrong = [o for o in origins if o != "*" and not _ORIGIN.match(o)]
        if wrong:
            raise ValueError(
                f"not a browser origin: {', '.join(wrong)} (scheme, host and port, e.g. "
                "http://localhost:3000; or * for any)"
            )
        return origins
    return value


#: The browser origins a service's API answers cross-origin (CORS): ``*_CORS_ORIGINS``, e.g.
#: ``http://localhost:3000,https://ent.example`` or ``*``; empty (the default): none.
CorsOrigins = Annotated[list[str], NoDecode, BeforeValidator(_origins)]

#: The most pupils one responsable may be linked to: ONDE refuses the next link, and EduConnect's
#: import takes no more children per responsable (a school's file, not a realistic family size).
MAX_CHILDREN_PER_RESPONSABLE = 50


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


# Latin-1 and Latin Extended-A letters: every one is ``str.isalpha()`` and none is a control.
_LETTER = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"
_CLEAN_NAME = re.compile(f"[{_LETTER}][{_LETTER} \\-'\u2019]*")


def _person_name_fast(value: str) -> str:
    """``_no_control_chars`` then ``_person_name``; a name already clean skips the Python loops.

    A Latin name starting with a letter, with single inner spaces and none at the end, passes
    both checks unchanged: it is returned as is (the same answer, ~10x sooner). Anything else
    takes the full path, with its messages.
    """
    if _CLEAN_NAME.fullmatch(value) and "  " not in value and value[-1] != " ":
        return value
    return _person_name(_no_control_chars(value))


_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@(?P<domain>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})"
)
# email-validator rejects these domains and their subdomains; all are single labels (TLDs).
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)
assert not any("." in name for name in _SPECIAL_USE)


def _email(value: str) -> str:
    """pydantic's ``EmailStr`` check; a plain lower-case ASCII address skips email-validator.

    Such an address (dot-atom local part of at most 64 characters, lower-case LDH labels, an
    alphabetic TLD, no ``--``, not a special-use domain) is valid and already normalised: the
    full check would return it unchanged. Anything else goes through email-validator.
    """
    match = _PLAIN_EMAIL.fullmatch(value)
    if (
        match is not None
        and len(value) <= 254
        and len(match["local"]) <= 64
        and "--" not in match["domain"]
        and match["domain"].rpartition(".")[2] not in _SPECIAL_USE
    ):
        return value
    return validate_email(value)[1]


ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    AfterValidator(_no_control_chars),
]
"""Trimmed, non-empty text of at most 120 characters, without control characters."""

PersonName = Annotated[str, StringConstraints(max_length=80), AfterValidator(_person_name_fast)]
"""A family or first name: letters, spaces, hyphens and apostrophes, 80 characters at most."""

Email = Annotated[str, AfterValidator(_email), Field(json_schema_extra={"format": "email"})]
"""An email address, as pydantic's ``EmailStr`` checks and normalises it (with a fast path)."""
