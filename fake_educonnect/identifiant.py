"""EduConnect identifiants: ``p.nomXX``.

First letter of the first name, a dot, the family name, two digits. Folding (assumption): accents
removed (NFKD), lower-case, only ``a-z`` kept, family-name part cut at 20 characters. The digits
follow a pseudo-random order drawn from the simulator's seed and the base (an affine permutation
of 00–99 keyed by a BLAKE2 hash), so a demo replays the same identifiants; on collision the next
pair of that order is taken, then three digits, then four.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator

from edusim_common.text import fold_letters

FAMILY_NAME_MAX = 20
_FALLBACK_LETTER = "x"


def identifiant_base(prenom: str, nom: str) -> str:
    """The ``p.nom`` part: folded first letter of the first name, a dot, the folded family name."""
    first = fold_letters(prenom)[:1] or _FALLBACK_LETTER
    family = fold_letters(nom)[:FAMILY_NAME_MAX] or _FALLBACK_LETTER
    return f"{first}.{family}"


def candidate_suffixes(seed: int, base: str) -> Iterable[str]:
    """Every suffix for ``base`` in the order they are tried: 2 digits, then 3, then 4."""
    digest = hashlib.blake2b(f"{seed}:{base}".encode(), digest_size=24).digest()
    for index, width in enumerate((2, 3, 4)):
        modulus = 10**width
        chunk = digest[index * 8 : index * 8 + 8]
        offset = int.from_bytes(chunk[:4], "big") % modulus
        step = int.from_bytes(chunk[4:], "big") % modulus or 1
        while math.gcd(step, modulus) != 1:  # a step coprime with the modulus visits every number
            step += 1
        for k in range(modulus):
            yield f"{(offset + step * k) % modulus:0{width}d}"


class IdentifiantPicker:
    """``choose_identifiant`` for many accounts of one batch, without re-walking the candidates.

    Within a batch the taken identifiants only grow, so every candidate already passed for a base
    is still taken: the walk for that base resumes where it stopped instead of starting over
    (the same answers; the old walk was quadratic in the number of homonyms).
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._walks: dict[str, Iterator[str]] = {}

    def choose(self, base: str, taken: set[str]) -> str:
        """The first free identifiant for ``base``; adds it to ``taken``."""
        walk = self._walks.get(base)
        if walk is None:
            walk = self._walks[base] = iter(candidate_suffixes(self.seed, base))
        for suffix in walk:
            candidate = base + suffix
            if candidate not in taken:
                taken.add(candidate)
                return candidate
        raise RuntimeError(f"no identifiant left for {base}")


def choose_identifiant(seed: int, base: str, taken: set[str]) -> str:
    """The first free identifiant for ``base``; adds it to ``taken``."""
    for suffix in candidate_suffixes(seed, base):
        candidate = base + suffix
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise RuntimeError(f"no identifiant left for {base}")  # 11,100 homonyms: not realistic
