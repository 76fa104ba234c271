"""EduConnect identifiants: ``p.nomXX``.

First letter of the first name, a dot, the family name, two digits. Folding (assumption): accents
removed (NFKD), lower-case, only ``a-z`` kept, family-name part cut at 20 characters. The digits
follow a pseudo-random order drawn from the simulator's seed and the base (an affine permutation
of 00–99 keyed by a BLAKE2 hash), so a demo replays the same identifiants; on collision the next
pair of that order is taken, then three digits, then four. An identifiant is never given twice:
one freed by a merge stays retired.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Callable, Iterator
from functools import lru_cache

from edusim_common.text import fold_letters

FAMILY_NAME_MAX = 20
_FALLBACK_LETTER = "x"


def identifiant_base(prenom: str, nom: str) -> str:
    """The ``p.nom`` part: folded first letter of the first name, a dot, the folded family name."""
    first = fold_letters(prenom)[:1] or _FALLBACK_LETTER
    family = fold_letters(nom)[:FAMILY_NAME_MAX] or _FALLBACK_LETTER
    return f"{first}.{family}"


_WIDTHS = (2, 3, 4)
CANDIDATES = sum(10**width for width in _WIDTHS)  # 11,100 identifiants per base


@lru_cache(maxsize=65536)
def _walk(seed: int, base: str) -> tuple[tuple[int, int], ...]:
    """``(offset, step)`` of the affine permutation for 2, 3 and 4 digits."""
    digest = hashlib.blake2b(f"{seed}:{base}".encode(), digest_size=24).digest()
    walks = []
    for index, width in enumerate(_WIDTHS):
        modulus = 10**width
        chunk = digest[index * 8 : index * 8 + 8]
        offset = int.from_bytes(chunk[:4], "big") % modulus
        step = int.from_bytes(chunk[4:], "big") % modulus or 1
        while math.gcd(step, modulus) != 1:  # a step coprime with the modulus visits every number
            step += 1
        walks.append((offset, step))
    return tuple(walks)


_DIGITS = {width: [f"{n:0{width}d}" for n in range(10**width)] for width in _WIDTHS}
_TWO_DIGITS = _DIGITS[2]


def suffixes(seed: int, base: str, start: int, count: int) -> list[str]:
    """The suffixes tried for ``base`` from the ``start``-th (0-based), at most ``count``."""
    walks = _walk(seed, base)
    if start + count <= 100:  # within the two-digit walk: nearly every call of an import
        offset, step = walks[0]
        return [_TWO_DIGITS[(offset + step * k) % 100] for k in range(start, start + count)]
    found: list[str] = []
    for (offset, step), width in zip(walks, _WIDTHS, strict=True):
        digits = _DIGITS[width]
        modulus = len(digits)
        if start < modulus:
            end = min(modulus, start + count - len(found))
            found += [digits[(offset + step * k) % modulus] for k in range(start, end)]
            start = modulus
        start -= modulus
        if len(found) == count:
            break
    return found


def candidate_suffixes(seed: int, base: str) -> Iterator[str]:
    """Every suffix for ``base`` in the order they are tried: 2 digits, then 3, then 4.

    Lazy: the first free one is usually among the first few of 11,100.
    """
    for (offset, step), width in zip(_walk(seed, base), _WIDTHS, strict=True):
        digits = _DIGITS[width]
        for k in range(len(digits)):
            yield digits[(offset + step * k) % len(digits)]


class IdentifiantPicker:
    """Identifiants for the new accounts of one import batch, from each base's walk position.

    EduConnect keeps, per base, how many candidates of the walk are used up (``position``): every
    candidate before it is taken, or was and stays retired, since an identifiant is never given
    twice. A new account takes the first candidate from there that no account holds, so the
    batch only checks the few candidates it is about to give (``is_taken``), however many
    accounts share the base: the cost follows the batch, not the size of EduConnect.
    """

    def __init__(
        self,
        seed: int,
        positions: dict[str, int],
        is_taken: Callable[[list[str]], set[str]],
    ) -> None:
        self.seed = seed
        self.positions = positions
        self.stored = frozenset(positions)  # bases the walk table holds already
        self.moved: set[str] = set()
        self._is_taken = is_taken
        self._ahead: dict[str, deque[str]] = {}  # base -> next candidates, already checked
        self._taken: set[str] = set()

    def prefetch(self, wanted: dict[str, int]) -> None:
        """Check at once, for each base, the next ``count`` candidates a batch may give."""
        candidates: list[str] = []
        for base, count in wanted.items():
            candidates += self._window(base, count)
        self._taken |= self._is_taken(candidates)

    def _window(self, base: str, count: int) -> list[str]:
        ahead = self._ahead.setdefault(base, deque())
        start = self.positions.get(base, 0) + len(ahead)
        window = [base + suffix for suffix in suffixes(self.seed, base, start, count)]
        ahead.extend(window)
        return window

    def choose(self, base: str) -> str:
        """The next free identifiant for ``base`` (one of the bases given to ``prefetch``)."""
        if base not in self._ahead:  # its stored walk position was never read
            raise KeyError(f"identifiant base {base!r} was not prefetched")
        while True:
            ahead = self._ahead.get(base)
            if not ahead:  # past what was checked: check a few more
                self._taken |= self._is_taken(self._window(base, 8))
                ahead = self._ahead[base]
                if not ahead:
                    raise RuntimeError(f"no identifiant left for {base}")
            candidate = ahead.popleft()
            self.positions[base] = self.positions.get(base, 0) + 1
            self.moved.add(base)
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate


def choose_identifiant(seed: int, base: str, taken: set[str]) -> str:
    """The first free identifiant for ``base``; adds it to ``taken``."""
    for suffix in candidate_suffixes(seed, base):
        candidate = base + suffix
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise RuntimeError(f"no identifiant left for {base}")  # 11,100 homonyms: not realistic
