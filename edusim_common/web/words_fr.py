"""The French words every service's pages share: the domain's codes, and French grammar.

ONDE, EduConnect and the sync speak of the same things by the same English codes: a
responsable's link to a pupil (``mere``, ``ase`` …), a pupil's state (``admis`` …), an
EduConnect account's state (``active`` …), an attachment's status (``blocked`` …). Each code is
worded here once, so that it reads the same on every page; a code not known here is shown as it
came, never dropped. Words are written as they stand inside a sentence, in lower case: a label
that starts a cell or a line says it with :func:`upper_first` (the ``upper_first`` filter of every
service's templates).

The grammar: « de » elided before a name (:func:`de`), and agreement with the person a sentence
is about — « (e) » written once and settled by :func:`agree`, two words chosen by :func:`accord`,
the sex a civility gives by :func:`sex_of_civility`.
"""

from __future__ import annotations

from edusim_common.text import strip_accents

LIEN_FR = {
    "mere": "mère",
    "pere": "père",
    "tuteur": "tuteur",
    "ase": "aide sociale à l'enfance (ASE)",
    "autre_membre_famille": "autre membre de la famille",
    "famille_accueil": "famille d'accueil",
    "autre": "autre lien",
}
"""A responsable's link to a pupil (ONDE's « lien »), in the order ONDE's form lists them."""

PUPIL_STATE_FR = {
    "en_attente": "en attente",
    "inscrit": "inscrit(e)",
    "admis": "admis(e)",
    "admis_definitif": "admis(e) définitivement",
    "radie": "radié(e)",
}
"""A pupil's state in ONDE, its agreement still open: see :func:`pupil_state_fr`."""

ACCOUNT_STATE_FR = {"non_active": "non activé", "active": "activé", "desactive": "désactivé"}
"""An EduConnect account's state."""

ATTACHMENT_FR = {
    "proposed": "proposé",
    "attached": "rattaché",
    "blocked": "bloqué",
    "refused": "refusé par le parent",
    "removed": "retiré",
}
"""The status of a child's attachment (« rattachement ») to an EduConnect account."""

OWN_ATTACHMENT_FR = ATTACHMENT_FR | {"refused": "refusé"}
"""The same, read by the parent themself: their own refusal is « refusé »."""


def upper_first(text: str) -> str:
    """``text`` with its first letter in upper case and the rest as it was.

    Unlike ``str.capitalize`` (and Jinja's ``capitalize``), which lower-case the rest, it keeps
    « ENT » or « FranceConnect » as written: « compte ENT » → « Compte ENT », not « Compte ent ».
    """
    return text[:1].upper() + text[1:]


_VOWELS = frozenset("aeiouæœ")
_SEMI_VOWEL_Y = frozenset("aeiou")


def de(name: str) -> str:
    """« de » before a name, elided before a vowel or a mute h: « d'Anne », « de Paul ».

    First names with an initial h are taken as mute (« d'Hugo », « d'Hélène »); a y elides before
    a consonant (« d'Yves ») but not before a vowel, where it is a consonant (« de Yann »).
    """
    shown = name.strip()
    letters = strip_accents(shown.lower())
    first = letters[0] if letters else ""
    follows = letters[1] if len(letters) > 1 else ""
    elided = first in _VOWELS or first == "h" or (first == "y" and follows not in _SEMI_VOWEL_Y)
    return f"d'{shown}" if elided else f"de {shown}"


def sex_of_civility(civility: object) -> str | None:
    """``F`` for « MME », ``M`` for « M », None otherwise (a responsable's agreement)."""
    return {"MME": "F", "M": "M"}.get(str(civility)) if civility else None


def _sex_of(who: object) -> str | None:
    """``F``, ``M`` or None: a sex letter or a civility itself, or what ``who`` carries (a
    pupil's ``sex``, a responsable's ``civility``)."""
    if isinstance(who, str):
        return who if who in ("F", "M") else sex_of_civility(who)
    sex = getattr(who, "sex", None)
    if sex in ("F", "M"):
        return str(sex)
    return sex_of_civility(getattr(who, "civility", None))


def agree(text: str, sex: str | None) -> str:
    """Gender agreement: each « (e) » of ``text`` becomes « e » (``F``), nothing (``M``), or stays
    « (e) » when the sex is not known."""
    if sex == "F":
        return text.replace("(e)", "e")
    if sex == "M":
        return text.replace("(e)", "")
    return text


def accord(who: object, masculine: str, feminine: str) -> str:
    """The word agreeing with ``who``, for words « (e) » cannot write (« il » / « elle »):
    ``accord(pupil, "lui", "elle")``.

    ``who`` is a pupil (its ``sex``), a responsable (its ``civility``), or the sex letter or the
    civility itself; the masculine when its sex is not known.
    """
    return feminine if _sex_of(who) == "F" else masculine


def pupil_state_fr(state: str, sex: str | None = None) -> str:
    """A pupil's state agreeing with the pupil: « admise » (``F``), « radié » (``M``), « admis(e) »
    when the sex is not known; an unknown state as it came."""
    return agree(PUPIL_STATE_FR.get(state, state), sex)
