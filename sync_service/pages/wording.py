"""The sync's pages in French: counts, outcomes, states, reasons, durations.

The services answer in English (their APIs); what a trainer or a director reads is put in French
here, from stable codes. A reason or a code not known here is shown as it came, never dropped.
The words the three services share (links, pupil and account states, attachments, agreement)
are in :mod:`edusim_common.web.words_fr`.
"""

from __future__ import annotations

import re
from datetime import datetime

from edusim_common.web.plural import plural_fr

OUTCOME_FR = {
    "created": "compte créé",
    "matched": "rapproché d'un compte existant",
    "updated": "mis à jour",
    "unchanged": "inchangé",
    "excluded": "exclu",
    "failed": "échec",
}
OUTCOME_BADGE = {
    "created": "ok",
    "matched": "ok",
    "updated": "ok",
    "excluded": "wait",
    "failed": "ko",
}
STATUS_BADGE = {"succeeded": "ok", "failed": "ko", "interrupted": "ko", "awaiting_approval": "wait"}
CHANNEL_FR = {
    "sms": "SMS",
    "email": "Courriel",
    "letter": "Courrier",
    "school": "Message à l'école",
}

# EduConnect's reasons, word for word (``fake_educonnect/service/imports.py``: the contract, the
# sync imports none of its code). Some hold « ; » themselves, so a line's reasons are matched
# whole, never split blindly on the separator.
NO_MOBILE = (
    "no mobile in ONDE: autonomous activation by SMS impossible; use FranceConnect or a "
    "letter from the school"
)
NO_SMS = "the mobile in ONDE does not accept SMS: SMS activation impossible"
FOSTER = (
    "foster family (famille d'accueil): no EduConnect account; the ENT creates a manual 'parent' "
    "account, used through its 'Personnel Collectivité et Invité' entry"
)
NO_AUTHORITY = "no parental authority over an enrolled pupil: no EduConnect account"
NO_ENROLLED = "no enrolled pupil (admis or admis_definitif) linked: no EduConnect account"
DELETED = "deleted in ONDE"
NO_LONGER_ELIGIBLE = (
    "no longer linked to an enrolled pupil with parental authority through this record: "
    "the account keeps its other children (deactivated if none is left)"
)
# The sync's own reasons (``sync_service.runner``), after EduConnect's.
DEACTIVATED = "account deactivated: no enrolled child left"
HELD_BACK = "deactivation held back: waiting for the threshold check"
RESTORED = "account restored: a child is enrolled again"

# Worded for a mother or a father alike (« il exerce » was said of Mme Garnier)
NO_LONGER_LINKED_FR = (
    "plus de lien, par cette fiche ONDE, avec un enfant admis sur lequel s'exerce son autorité "
    "parentale"
)
_REASONS = {
    NO_MOBILE: "pas de mobile dans ONDE : activation autonome par SMS impossible, à faire par "
    "FranceConnect ou avec un courrier de l'école",
    NO_SMS: "le mobile connu d'ONDE n'accepte pas les SMS : activation par SMS impossible",
    FOSTER: "famille d'accueil : pas de compte EduConnect (l'ENT lui crée un compte « parent » "
    "manuel, utilisé par l'entrée « Personnel Collectivité et Invité »)",
    NO_AUTHORITY: "pas d'autorité parentale sur un enfant admis : pas de compte EduConnect",
    NO_ENROLLED: "aucun enfant admis ou admis définitivement : pas de compte EduConnect",
    DELETED: "fiche supprimée dans ONDE",
    NO_LONGER_ELIGIBLE: f"{NO_LONGER_LINKED_FR} : le compte garde ses autres enfants, s'il en a",
    DEACTIVATED: "compte désactivé : plus aucun enfant admis",
    HELD_BACK: "désactivation retenue : en attente du contrôle de seuil",
    RESTORED: "compte restauré : un enfant est de nouveau admis",
}
# Longest first: a reason that begins another one is tried after it.
_KNOWN = sorted(_REASONS, key=len, reverse=True)
_PROPOSED = re.compile(r"^([0-9]+) child\(ren\) proposed$")
_REMOVED = re.compile(r"^([0-9]+) link\(s\) removed$")


def _parts(reason: str) -> list[str]:
    """A line's reasons, ``; ``-separated: each known reason whole, anything else up to ``; ``."""
    parts = []
    rest = reason
    while rest:
        known = (en for en in _KNOWN if rest == en or rest.startswith(en + "; "))
        part = next(known, rest.split("; ", 1)[0])
        parts.append(part)
        rest = rest[len(part) + 2 :]
    return parts


def _part_fr(part: str, closed: bool) -> str:
    proposed, removed = _PROPOSED.match(part), _REMOVED.match(part)
    if proposed:
        count = int(proposed.group(1))
        return plural_fr(count, "enfant proposé", "enfants proposés") + " au rattachement"
    if removed:
        return plural_fr(int(removed.group(1)), "lien retiré", "liens retirés")
    if part == NO_LONGER_ELIGIBLE and closed:  # the line says the account was (to be) closed
        return NO_LONGER_LINKED_FR
    return _REASONS.get(part, part)


def reason_fr(reason: str | None) -> str:
    """A report line's reasons (``; ``-separated, English) in French; unknown ones as they came."""
    if not reason:
        return ""
    parts = _parts(reason)
    closed = DEACTIVATED in parts or HELD_BACK in parts
    return " ; ".join(_part_fr(part, closed) for part in parts)


def line_facts(reason: str | None) -> tuple[int, int, bool, bool]:
    """What EduConnect answered the sync about one responsable, from a report line's reasons:
    children proposed, links removed, account deactivated, account restored."""
    proposed = removed = 0
    deactivated = restored = False
    for part in _parts(reason or ""):
        if found := _PROPOSED.match(part):
            proposed += int(found.group(1))
        elif found := _REMOVED.match(part):
            removed += int(found.group(1))
        deactivated |= part == DEACTIVATED
        restored |= part == RESTORED
    return proposed, removed, deactivated, restored


def busy_fr(run_id: int | None) -> str:
    """Why nothing can start now: a run in progress (``run_id``), or an approval or snapshot."""
    if run_id is None:
        return (
            "une synchronisation, une approbation ou un instantané est en cours. Réessayez quand "
            "ce sera terminé."
        )
    return f"la synchronisation n° {run_id} est en cours. Réessayez quand elle sera terminée."


def seconds_fr(value: float) -> str:
    """``0.43`` → ``0,4 s``; ``75`` → ``1 min 15 s``."""
    if value < 60:
        return f"{value:.1f}".replace(".", ",") + " s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s"


def when(value: str | datetime | None) -> datetime | None:
    """An API timestamp as a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
