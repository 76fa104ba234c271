"""Words for the trainer: simulated dates in French, runs summed up in a line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edusim_common.clock import PARIS
from edusim_common.web.plural import plural_fr

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
KINDS = {"nightly": "de la nuit", "manual": "manuelle", "full": "complète"}
COUNTS = {
    "created": ("compte créé", "comptes créés"),
    "matched": ("rapproché d'un compte existant", "rapprochés d'un compte existant"),
    "updated": ("mis à jour", "mis à jour"),
    "excluded": ("exclu", "exclus"),
    "failed": ("en échec", "en échec"),
    "proposals_added": ("enfant proposé", "enfants proposés"),
    "links_removed": ("lien retiré", "liens retirés"),
    "deactivated": ("compte désactivé", "comptes désactivés"),
    "deactivation_pending": ("désactivation en attente", "désactivations en attente"),
    "restored": ("compte rétabli", "comptes rétablis"),
    "no_mobile": ("sans mobile", "sans mobile"),
}
"""Each count's words, singular and plural (« 1 compte créé », « 2 comptes créés »)."""


def _parse(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def clock_text(value: str | datetime) -> str:
    """``mercredi 2 septembre 2026, 08:00`` (Paris)."""
    local = _parse(value).astimezone(PARIS)
    return (
        f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
    )


def day_text(value: str | datetime | None) -> str:
    """``02/09/2026`` (Paris), or a dash."""
    if value is None:
        return "—"
    return _parse(value).astimezone(PARIS).strftime("%d/%m/%Y")


def run_text(run: dict[str, Any]) -> str:
    """One run in a line: kind, id, status, cut-off, non-zero counts."""
    counts = run.get("counts", {})
    said = [plural_fr(counts[k], *words) for k, words in COUNTS.items() if counts.get(k)]
    cutoff = _parse(run["cutoff"]).astimezone(PARIS)
    status = "" if run["status"] == "succeeded" else f" [{run['status']}]"
    text = (
        f"synchronisation {KINDS.get(run['kind'], run['kind'])} n°{run['id']}{status} "
        f"(changements jusqu'au {cutoff:%d/%m %H:%M}): "
    )
    sent = plural_fr(
        counts.get("responsables_sent", 0), "responsable envoyé", "responsables envoyés"
    )
    text += ", ".join(said) if said else f"{sent}, rien à changer"
    if run.get("error"):
        text += f" — erreur: {run['error']}"
    return text
