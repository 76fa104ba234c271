"""EduConnect's « explain » diagnosis in French, for every page that shows it.

EduConnect states where an account stands in English, one statement per fact with a stable code
(``GET /api/v1/explain``, ``/console/accounts/{id}/explain``, the history's ``explanation``). The
pages word those codes in French, from the account and the attachments they are about, taken in
the API's JSON shape: the sync's timeline, which reads EduConnect over HTTP, and EduConnect's own
console, which has the same data in hand, say the same thing — and the sync needs none of
EduConnect's code. A code not known here is shown in EduConnect's words, never dropped.

The statements about children come in the order of the account's attachments (EduConnect reads
both by id), so the n-th such statement is about the n-th attachment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from edusim_common.web.render import datetime_fr, short_date
from edusim_common.web.words_fr import de

ORIGIN_LABEL_FR = {
    "FranceConnect": "FranceConnect",
    "Responsable": "Responsable",
    "Etablissement": "Établissement",
}
"""An account's origin (« provenance »), as the console names it."""

ORIGIN_HOW_FR = {
    "FranceConnect": "par le parent lui-même (FranceConnect)",
    "Responsable": "par le parent lui-même (code par SMS)",
    "Etablissement": "avec le courrier de notification imprimé par l'école",
}
"""How an account of each origin was activated."""


def activated_fr(origin: str | None) -> str:
    """What follows « Compte activé »: `` par le parent lui-même (FranceConnect), origine …``."""
    if origin is None:
        return ""
    label = f"origine « {ORIGIN_LABEL_FR.get(origin, origin)} »"
    how = ORIGIN_HOW_FR.get(origin)
    return f" {how}, {label}" if how else f", {label}"


ATTACHMENT_CODES = frozenset(
    {"attached", "proposed", "proposed_open", "blocked", "refused", "removed"}
)
"""The codes of the statements about one child (one per attachment, in order)."""


def diagnosis_fr(
    statements: Iterable[Mapping[str, Any]],
    account: Mapping[str, Any] | None,
    attachments: Iterable[Any],
) -> list[tuple[str, str]]:
    """The « explain » statements in French: (code, text).

    ``statements`` are ``{"code", "text"}``; ``account`` is the account as the API shows it
    (timestamps as ISO strings or datetimes); ``attachments`` are its attachments as the API shows
    them (``child``, ``decided_at`` …), limited as the statements were (one school's, in the
    console).
    """
    out: list[tuple[str, str]] = []
    children = iter(attachments)
    for statement in statements:
        code, text = str(statement.get("code")), str(statement.get("text"))
        if code in ATTACHMENT_CODES:
            attachment = next(children, None)
            name = _attachment_child(attachment)
            out.append((code, _attachment_fr(code, name, attachment) or text))
        else:
            out.append((code, _account_fr(code, account) or text))
    return out


def _when(value: Any) -> datetime | None:
    """An API timestamp (ISO string, or already a datetime) as a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _attachment_child(attachment: Any) -> str:
    if not isinstance(attachment, Mapping):
        return "l'enfant"
    child = attachment.get("child") or {}
    return f"{child.get('prenoms', '')} {child.get('nom', '')}".strip() or "l'enfant"


def _attachment_fr(code: str, name: str, attachment: Any) -> str:
    decided = _when(attachment.get("decided_at")) if isinstance(attachment, Mapping) else None
    return {
        "attached": f"{name} est rattaché(e).",
        "proposed": f"{name} sera proposé(e) à la prochaine connexion (contrôle de la date de "
        "naissance).",
        "proposed_open": f"{name} a été proposé(e) à une connexion et laissé(e) en attente : les "
        "propositions ne sont présentées qu'une fois ; l'école peut débloquer (nouvelle "
        "proposition à la connexion suivante) ou rattacher à la main.",
        "blocked": f"Rattachement {de(name)} bloqué après une mauvaise date de naissance : l'école "
        "peut le débloquer ou rattacher à la main.",
        "refused": f"{name} : le parent a déclaré ne pas être son représentant légal ; l'école "
        "a été prévenue.",
        "removed": f"{name} : lien retiré par la synchronisation le {short_date(decided)} (élève "
        "radié, ou lien supprimé dans ONDE).",
    }.get(code, "")


def _account_fr(code: str, account: Mapping[str, Any] | None) -> str:
    acc = account or {}
    created, activated = _when(acc.get("created_at")), _when(acc.get("activated_at"))
    last = _when(acc.get("last_login_at"))
    origin = str(acc["origin"]) if acc.get("origin") else None
    return {
        "not_synchronised": "Pas encore d'enregistrement EduConnect pour ce responsable : une "
        "saisie faite dans ONDE le jour J arrive dans EduConnect avec la synchronisation de la "
        "nuit, à J+1.",
        "excluded": "Pas de compte EduConnect pour ce responsable (voir la raison dans le "
        "parcours).",
        "source_deleted": "Ce responsable a été supprimé dans ONDE : ses liens ont été retirés "
        "et il ne donne plus de coordonnées au compte.",
        "non_active": f"Compte créé le {short_date(created)} par la synchronisation, jamais "
        "activé. Activation : FranceConnect (à privilégier), code par SMS au mobile connu "
        "d'ONDE, ou courrier imprimé par l'école.",
        "no_mobile": "Pas de mobile dans ONDE : activation par SMS impossible ; FranceConnect ou "
        "courrier de l'école (le directeur peut aussi saisir le mobile dans ONDE : il arrive le "
        "lendemain).",
        "sms_refused": "Le mobile connu d'ONDE n'accepte pas les SMS : pas de code par SMS.",
        "active": f"Compte activé le {short_date(activated)}{activated_fr(origin)} ; "
        + (f"dernière connexion le {datetime_fr(last)}." if last else "aucune connexion."),
        "self_activated": "Ce parent a activé son compte seul : pour un identifiant ou un mot de "
        "passe oublié, l'orienter d'abord vers « Identifiant oublié » et « Mot de passe "
        "oublié » plutôt que de réinitialiser le compte.",
        "desactive": "Compte désactivé : plus aucun enfant admis. Il revient de lui-même si un "
        "enfant est de nouveau admis.",
        "letter_pending": "Un courrier de notification de l'école est en cours de validité.",
    }.get(code, "")
