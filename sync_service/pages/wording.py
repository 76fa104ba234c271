"""The sync's pages in French: counts, outcomes, states, reasons, durations.

The services answer in English (their APIs); what a trainer or a director reads is put in French
here, from stable codes. A reason or a code not known here is shown as it came, never dropped.
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
ACCOUNT_STATE_FR = {"non_active": "non activé", "active": "actif", "desactive": "désactivé"}
ATTACHMENT_FR = {
    "proposed": "proposé",
    "attached": "rattaché",
    "blocked": "bloqué",
    "refused": "refusé par le parent",
    "removed": "retiré",
}
LIEN_FR = {
    "mere": "mère",
    "pere": "père",
    "tuteur": "tuteur",
    "ase": "aide sociale à l'enfance",
    "autre_membre_famille": "autre membre de la famille",
    "famille_accueil": "famille d'accueil",
    "autre": "autre lien",
}
STATE_FR = {
    "en_attente": "en attente",
    "inscrit": "inscrit(e)",
    "admis": "admis(e)",
    "admis_definitif": "admis(e) définitivement",
    "radie": "radié(e)",
}
CHANNEL_FR = {
    "sms": "SMS",
    "email": "Courriel",
    "letter": "Courrier",
    "school": "Message à l'école",
}

# EduConnect's reasons (import, sync), by their beginning.
_REASONS: list[tuple[str, str]] = [
    (
        "no mobile in ONDE",
        "pas de mobile dans ONDE : activation autonome par SMS impossible ; utiliser "
        "FranceConnect ou un courrier de l'école",
    ),
    (
        "the mobile in ONDE does not accept SMS",
        "le mobile connu d'ONDE n'accepte pas les SMS : activation par SMS impossible",
    ),
    (
        "foster family",
        "famille d'accueil : pas de compte EduConnect ; l'ENT lui crée un compte « parent » "
        "manuel, utilisé par l'entrée « Personnel Collectivité et Invité »",
    ),
    (
        "no parental authority",
        "pas d'autorité parentale sur un élève admis : pas de compte EduConnect",
    ),
    (
        "no enrolled pupil",
        "aucun élève admis (admis ou admis définitivement) lié : pas de compte EduConnect",
    ),
    (
        "no longer linked to an enrolled pupil",
        "plus de lien avec un élève admis (avec autorité parentale) par cette fiche : le compte "
        "garde ses autres enfants (désactivé s'il n'en reste aucun)",
    ),
    ("deleted in ONDE", "supprimé dans ONDE"),
    ("account deactivated", "compte désactivé : plus aucun enfant inscrit"),
    ("deactivation held back", "désactivation retenue : en attente du contrôle de seuil"),
    ("account restored", "compte restauré : un enfant est de nouveau inscrit"),
]
_PROPOSED = re.compile(r"^([0-9]+) child\(ren\) proposed$")
_REMOVED = re.compile(r"^([0-9]+) link\(s\) removed$")


def reason_fr(reason: str | None) -> str:
    """A report line's reasons (``; ``-separated, English) in French."""
    if not reason:
        return ""
    out = []
    for part in reason.split("; "):
        proposed, removed = _PROPOSED.match(part), _REMOVED.match(part)
        if proposed:
            count = int(proposed.group(1))
            out.append(plural_fr(count, "enfant proposé", "enfants proposés") + " au rattachement")
        elif removed:
            out.append(plural_fr(int(removed.group(1)), "lien retiré", "liens retirés"))
        else:
            out.append(next((fr for en, fr in _REASONS if part.startswith(en)), part))
    return " ; ".join(out)


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
