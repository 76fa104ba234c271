"""French counts that agree with their number: « 1 compte créé », « 2 comptes créés ».

In French, 0 and 1 take the singular (« 0 compte », « 1 compte »), 2 and more the plural.
"""

from __future__ import annotations


def plural_word(count: int, singular: str, plural: str) -> str:
    """The form of the words that goes with ``count``."""
    return singular if -2 < count < 2 else plural


def plural_fr(count: int, singular: str, plural: str) -> str:
    """``count`` followed by the words in the form that goes with it: « 3 essais »."""
    return f"{count} {plural_word(count, singular, plural)}"
