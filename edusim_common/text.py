"""Text folding shared by search, duplicate checks and identifiant generation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NOT_LETTER = re.compile(r"[^a-z]")
# Ligatures NFKD leaves whole: written out, as the French do when they cannot type them.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
_SPACES = re.compile(r"\s+")


def strip_accents(value: str) -> str:
    """Remove combining marks after NFKD decomposition (``Éloi`` -> ``Eloi``)."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def fold_letters(value: str) -> str:
    """Lower-case ASCII letters only: accents removed, spaces/hyphens/apostrophes dropped."""
    return _NOT_LETTER.sub("", strip_accents(value.translate(_LIGATURES)).casefold())


def fold_search(value: str) -> str:
    """A search key: accents removed, lower-case, runs of blanks collapsed, trimmed."""
    return _SPACES.sub(" ", strip_accents(value).lower()).strip()


@lru_cache(maxsize=65536)
def _folded_name(value: str) -> str:
    return fold_search(value)


def name_key(prenom: str, nom: str) -> str:
    """« anne lefevre »: the folded « Prénom Nom » a name search matches (see ``fold_search``).

    Each part is folded once per distinct value (names repeat: a family, a common first name).
    """
    return " ".join(part for part in (_folded_name(prenom), _folded_name(nom)) if part)


def clean_name(value: str) -> str:
    """Trim and collapse internal blanks of a person's name, keeping its letters as typed."""
    return _SPACES.sub(" ", value).strip()
