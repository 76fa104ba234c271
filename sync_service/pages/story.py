"""The timeline's sentences in French: ONDE changes, EduConnect events, the « explain » diagnosis.

The statements about children come in the order of the account's attachments (EduConnect reads
both by id), so the n-th such statement is about the n-th attachment.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from edusim_common.web.render import date_fr, datetime_fr, short_date
from sync_service.pages.wording import (
    CHANNEL_FR,
    LIEN_FR,
    ORIGIN_FR,
    STATE_FR,
    reason_fr,
    when,
)


def _phone(value: str | None) -> str:
    if not value:
        return "aucun"
    if value.startswith("+33") and len(value) == 12:
        digits = "0" + value[3:]
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    return value


def _pupil_name(data: dict[str, Any]) -> str:
    return f"{data.get('prenoms', '')} {data.get('nom', '')}".strip() or "un élève"


_PUPIL_FIELDS = {
    "nom": "nom",
    "prenoms": "prénoms",
    "sex": "sexe",
    "birth_date": "date de naissance",
    "birth_place": "lieu de naissance",
    "level": "niveau",
    "class_id": "classe",
}
_RESPONSABLE_FIELDS = {
    "civility": "civilité",
    "nom": "nom",
    "prenom": "prénom",
    "mobile": "mobile",
    "accepts_sms": "accepte les SMS",
    "home_phone": "téléphone du domicile",
    "work_phone": "téléphone professionnel",
    "email": "courriel",
    "address": "adresse",
}


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key in ("mobile", "home_phone", "work_phone"):
        return _phone(str(value))
    if key == "birth_date":
        return short_date(date.fromisoformat(str(value)))
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v)
    return str(value)


def _diff(before: dict[str, Any] | None, after: dict[str, Any], names: dict[str, str]) -> str:
    if before is None:
        return ""
    changed = [
        f"{label} : {_shown(key, before.get(key))} → {_shown(key, after.get(key))}"
        for key, label in names.items()
        if before.get(key) != after.get(key)
    ]
    return " ; ".join(changed)


def onde_change(item: dict[str, Any], before: dict[str, Any] | None, pupils: dict[int, Any]) -> str:
    """One ONDE change about the responsable, in words (``before``: the entity's last snapshot)."""
    entity, op, data = item["entity"], item["op"], item["data"]
    if entity == "pupil":
        name = _pupil_name(data)
        state = STATE_FR.get(str(data.get("state")), str(data.get("state")))
        if op == "create":
            return f"Élève {name} enregistré(e) dans ONDE : {state}"
        if op == "state":
            return f"{name} : {state}"
        if op == "delete":
            return f"Élève {name} supprimé(e) de ONDE"
        changes = _diff(before, data, _PUPIL_FIELDS)
        return f"Fiche de {name} corrigée" + (f" ({changes})" if changes else "")
    if entity == "responsable":
        who = f"{data.get('prenom', '')} {data.get('nom', '')}".strip()
        if op == "create":
            sms = "" if data.get("accepts_sms") else ", n'accepte pas les SMS"
            mobile = _phone(data.get("mobile"))
            return f"Responsable {who} enregistré(e) dans ONDE (mobile : {mobile}{sms})"
        if op == "delete":
            return f"Responsable {who} supprimé(e) de ONDE"
        changes = _diff(before, data, _RESPONSABLE_FIELDS)
        return f"Coordonnées de {who} modifiées" + (f" : {changes}" if changes else "")
    if entity == "link":
        pupil = pupils.get(int(data.get("pupil_id", 0)))
        child = _pupil_name(pupil) if pupil else f"l'élève n° {data.get('pupil_id')}"
        lien = LIEN_FR.get(str(data.get("lien")), str(data.get("lien")))
        authority = "oui" if data.get("autorite_parentale") else "non"
        if op == "create":
            return f"Lié(e) à {child} ({lien}, autorité parentale : {authority})"
        if op == "delete":
            return f"N'est plus lié(e) à {child}"
        return f"Lien avec {child} modifié ({lien}, autorité parentale : {authority})"
    return f"{entity} {op}"


def _child_event(kind: str, details: dict[str, Any]) -> str:
    child = details.get("child", "un enfant")
    by = details.get("by")
    if kind == "child_proposed":
        return (
            f"{child} proposé(e) au rattachement : à confirmer par sa date de naissance à la "
            "prochaine connexion"
        )
    if kind == "child_presented":
        return f"{child} présenté(e) au parent à sa connexion (date de naissance demandée)"
    if kind == "child_attached":
        how = {
            "parent": "par le parent (bonne date de naissance)",
            "director": "par l'école (rattachement manuel)",
            "merge": "depuis un autre compte du parent",
        }.get(str(by), "")
        return f"{child} rattaché(e) {how}".strip()
    if kind == "child_blocked":
        return f"Rattachement de {child} bloqué : mauvaise date de naissance"
    if kind == "child_refused":
        return (
            f"{child} : le parent déclare ne pas être son représentant légal (l'école est prévenue)"
        )
    if kind == "child_unblocked":
        return (
            f"Rattachement de {child} débloqué par l'école : proposé de nouveau à la prochaine "
            "connexion"
        )
    return (
        f"Lien avec {child} retiré par la synchronisation (élève radié, ou lien supprimé dans ONDE)"
    )


def educonnect_event(event: dict[str, Any], existing_account: bool) -> str:
    """One EduConnect event in words."""
    kind, details = str(event["kind"]), event.get("details") or {}
    if kind.startswith("child_"):
        return _child_event(kind, details)
    if kind == "excluded":
        return f"Pas de compte EduConnect : {reason_fr(details.get('reason'))}"
    if kind == "account_created":
        if existing_account:
            return (
                f"Compte EduConnect {details.get('identifiant')} déjà existant (parent d'un "
                "élève du second degré, ou compte antérieur) : le responsable y a été rapproché"
            )
        return f"Compte EduConnect créé, non activé : identifiant {details.get('identifiant')}"
    if kind == "letter_printed":
        until = when(details.get("expires_at"))
        return f"Courrier de notification imprimé par l'école (valable jusqu'au {date_fr(until)})"
    if kind == "letter_used":
        return "Mot de passe provisoire du courrier utilisé : nouveau mot de passe choisi"
    if kind == "message":
        channel = CHANNEL_FR.get(str(details.get("channel")), str(details.get("channel")))
        return f"{channel} envoyé : « {details.get('subject')} »"
    if kind == "activated":
        origin = str(details.get("origin"))
        return f"Compte activé — origine {ORIGIN_FR.get(origin, origin)}"
    if kind == "first_login":
        return "Première connexion du parent"
    if kind == "last_login":
        return "Dernière connexion du parent"
    if kind == "deactivated":
        return (
            "Compte désactivé : plus aucun enfant inscrit (il revient si un enfant est réinscrit)"
        )
    return kind


ATTACHMENT_CODES = frozenset(
    {"attached", "proposed", "proposed_open", "blocked", "refused", "removed"}
)


def diagnosis_fr(
    statements: list[dict[str, Any]], account: dict[str, Any] | None, attachments: list[Any]
) -> list[tuple[str, str]]:
    """EduConnect's « explain » statements in French: (code, text).

    The statements about children come in the order of the account's attachments (both are read
    by id), so the n-th such statement is about the n-th attachment.
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


def _attachment_child(attachment: Any) -> str:
    if not isinstance(attachment, dict):
        return "l'enfant"
    child = attachment.get("child") or {}
    return f"{child.get('prenoms', '')} {child.get('nom', '')}".strip() or "l'enfant"


def _attachment_fr(code: str, name: str, attachment: Any) -> str:
    decided = when(attachment.get("decided_at")) if isinstance(attachment, dict) else None
    return {
        "attached": f"{name} est rattaché(e).",
        "proposed": f"{name} sera proposé(e) à la prochaine connexion (contrôle de la date de "
        "naissance).",
        "proposed_open": f"{name} a été proposé(e) à une connexion et laissé(e) en attente : les "
        "propositions ne sont présentées qu'une fois ; l'école peut débloquer (nouvelle "
        "proposition à la connexion suivante) ou rattacher à la main.",
        "blocked": f"Rattachement de {name} bloqué après une mauvaise date de naissance : l'école "
        "peut le débloquer ou rattacher à la main.",
        "refused": f"{name} : le parent a déclaré ne pas être son représentant légal ; l'école "
        "a été prévenue.",
        "removed": f"{name} : lien retiré par la synchronisation le {short_date(decided)} (élève "
        "radié, ou lien supprimé dans ONDE).",
    }.get(code, "")


def _account_fr(code: str, account: dict[str, Any] | None) -> str:
    acc = account or {}
    created, activated = when(acc.get("created_at")), when(acc.get("activated_at"))
    last = when(acc.get("last_login_at"))
    origin = str(acc.get("origin"))
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
        "active": f"Compte activé le {short_date(activated)} (origine "
        f"{ORIGIN_FR.get(origin, origin)}) ; "
        + (f"dernière connexion le {datetime_fr(last)}." if last else "aucune connexion."),
        "self_activated": "Ce parent a activé son compte seul : pour un identifiant ou un mot de "
        "passe oublié, l'orienter d'abord vers « Identifiant oublié » et « Mot de passe "
        "oublié » plutôt que de réinitialiser le compte.",
        "desactive": "Compte désactivé : plus aucun enfant inscrit. Il revient de lui-même si un "
        "enfant est de nouveau inscrit.",
        "letter_pending": "Un courrier de notification de l'école est en cours de validité.",
    }.get(code, "")
