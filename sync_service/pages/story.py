"""The timeline's sentences in French: ONDE changes and EduConnect events.

EduConnect's « explain » diagnosis is worded in :mod:`edusim_common.web.explain_fr`, shared with
EduConnect's console.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from edusim_common.phones import display_phone
from edusim_common.web.explain_fr import activated_fr
from edusim_common.web.render import date_fr, short_date
from edusim_common.web.words_fr import LIEN_FR, agree, de, pupil_state_fr, sex_of_civility
from sync_service.pages.wording import CHANNEL_FR, reason_fr, when

NO_ACCOUNT = "pas de compte EduConnect"


def _phone(value: str | None) -> str:
    return display_phone(value) if value else "aucun"


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


def onde_change(
    item: dict[str, Any],
    before: dict[str, Any] | None,
    pupils: dict[int, Any],
    who_sex: str | None = None,
) -> str:
    """One ONDE change about the responsable, in words (``before``: the entity's last snapshot).

    Words agree with the pupil's sex (``data.sex``), the responsable's civility, or ``who_sex``
    (the responsable, for a link); « (e) » stays only where it is not known.
    """
    entity, op, data = item["entity"], item["op"], item["data"]
    if entity == "pupil":
        name = _pupil_name(data)
        sex = data.get("sex")
        state = pupil_state_fr(str(data.get("state")), sex)
        if op == "create":
            return agree(f"Élève {name} enregistré(e) dans ONDE : {state}", sex)
        if op == "state":
            return f"{name} : {state}"
        if op == "delete":
            return agree(f"Élève {name} supprimé(e) de ONDE", sex)
        changes = _diff(before, data, _PUPIL_FIELDS)
        return f"Fiche {de(name)} corrigée" + (f" ({changes})" if changes else "")
    if entity == "responsable":
        who = f"{data.get('prenom', '')} {data.get('nom', '')}".strip()
        sex = sex_of_civility(data.get("civility")) or who_sex
        if op == "create":
            sms = "" if data.get("accepts_sms") else ", n'accepte pas les SMS"
            mobile = _phone(data.get("mobile"))
            return agree(f"Responsable {who} enregistré(e) dans ONDE (mobile : {mobile}{sms})", sex)
        if op == "delete":
            return agree(f"Responsable {who} supprimé(e) de ONDE", sex)
        changes = _diff(before, data, _RESPONSABLE_FIELDS)
        return f"Coordonnées {de(who)} modifiées" + (f" : {changes}" if changes else "")
    if entity == "link":
        pupil = pupils.get(int(data.get("pupil_id", 0)))
        child = _pupil_name(pupil) if pupil else f"l'élève n° {data.get('pupil_id')}"
        lien = LIEN_FR.get(str(data.get("lien")), str(data.get("lien")))
        authority = "oui" if data.get("autorite_parentale") else "non"
        if op == "create":
            return agree(f"Lié(e) à {child} ({lien}, autorité parentale : {authority})", who_sex)
        if op == "delete":
            return agree(f"N'est plus lié(e) à {child}", who_sex)
        return f"Lien avec {child} modifié ({lien}, autorité parentale : {authority})"
    return f"{entity} {op}"


def child_sex(details: dict[str, Any], sexes: dict[str, str]) -> str | None:
    """The sex ONDE gives an EduConnect child (a 1D pupil), if known."""
    if details.get("child_source") != "onde":
        return None
    return sexes.get(str(details.get("child_source_id")))


def _child_event(kind: str, details: dict[str, Any], sex: str | None) -> str:
    child = details.get("child", "un enfant")
    by = details.get("by")
    if kind == "child_proposed":
        return agree(
            f"{child} proposé(e) au rattachement : à confirmer par sa date de naissance à la "
            "prochaine connexion",
            sex,
        )
    if kind == "child_presented":
        return agree(
            f"{child} présenté(e) au parent à sa connexion (date de naissance demandée)", sex
        )
    if kind == "child_attached":
        how = {
            "parent": "par le parent (bonne date de naissance)",
            "director": "par l'école (rattachement manuel)",
            "merge": "depuis un autre compte du parent",
        }.get(str(by), "")
        return agree(f"{child} rattaché(e) {how}".strip(), sex)
    if kind == "child_blocked":
        return f"Rattachement {de(str(child))} bloqué : mauvaise date de naissance"
    if kind == "child_refused":
        return (
            f"{child} : le parent déclare ne pas être son représentant légal (l'école est prévenue)"
        )
    if kind == "child_unblocked":
        return (
            f"Rattachement {de(str(child))} débloqué par l'école : proposé de nouveau à la "
            "prochaine connexion (il avait été bloqué par une mauvaise date de naissance, ou "
            "refusé par le parent ; EduConnect n'en garde pas la date)"
        )
    removed = agree(
        f"Lien avec {child} retiré par la synchronisation (élève radié(e), ou lien supprimé dans "
        "ONDE)",
        sex,
    )
    if details.get("before") == "unknown":
        removed += " ; ce qu'il était avant (proposé, rattaché, bloqué…) n'est pas gardé"
    return removed


def _excluded(reason: str) -> str:
    """« Pas de compte EduConnect », said once: most exclusion reasons already say it."""
    if NO_ACCOUNT in reason:
        return reason[:1].upper() + reason[1:]
    return f"Pas de compte EduConnect : {reason}"


def _letter(kind: str, details: dict[str, Any]) -> str:
    situation = details.get("situation")
    if kind == "letter_used":
        if situation == "reset":
            return (
                "Mot de passe provisoire du courrier de réinitialisation utilisé : nouveau mot "
                "de passe choisi"
            )
        return "Mot de passe provisoire du courrier utilisé : nouveau mot de passe choisi"
    until = f"valable jusqu'au {date_fr(when(details.get('expires_at')))}"
    if situation == "reset":
        return (
            "Mot de passe réinitialisé par l'école : courrier imprimé avec un mot de passe "
            f"provisoire (l'ancien ne fonctionne plus ; {until})"
        )
    if situation == "first_activation":
        return (
            "Courrier d'activation imprimé par l'école : identifiant et mot de passe provisoire "
            f"({until})"
        )
    if situation == "new_letter":
        return (
            "Courrier imprimé par l'école pour un compte déjà activé : mot de passe provisoire "
            f"en plus du sien ({until})"
        )
    return f"Courrier de notification imprimé par l'école ({until})"


def educonnect_event(
    event: dict[str, Any], existing_account: bool, sexes: dict[str, str] | None = None
) -> str:
    """One EduConnect event in words (``sexes``: ONDE pupil id → ``F``/``M``, for agreement)."""
    kind, details = str(event["kind"]), event.get("details") or {}
    if kind.startswith("child_"):
        return _child_event(kind, details, child_sex(details, sexes or {}))
    if kind == "excluded":
        return _excluded(reason_fr(details.get("reason")))
    if kind == "account_created":
        if existing_account:
            return (
                f"Compte EduConnect {details.get('identifiant')} déjà existant (parent d'un "
                "élève du second degré, ou compte antérieur) : le responsable y a été rapproché"
            )
        return f"Compte EduConnect créé, non activé : identifiant {details.get('identifiant')}"
    if kind in ("letter_printed", "letter_used"):
        return _letter(kind, details)
    if kind == "message":
        channel = CHANNEL_FR.get(str(details.get("channel")), str(details.get("channel")))
        return f"{channel} envoyé : « {details.get('subject')} »"
    if kind == "activated":
        origin = details.get("origin")
        return f"Compte activé{activated_fr(str(origin) if origin else None)}"
    if kind == "first_login":
        return "Première connexion du parent"
    if kind == "last_login":
        return "Dernière connexion du parent"
    if kind == "deactivated":
        return (
            "Compte désactivé : plus aucun enfant admis (il revient si un enfant est de nouveau "
            "admis)"
        )
    if kind == "restored":
        return (
            "Compte restauré : un enfant est de nouveau admis (actif s'il avait été activé, "
            "sinon non activé)"
        )
    return kind
