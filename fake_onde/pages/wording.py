"""What the director's pages say about a pupil and about a change.

Two concerns a sentence of these pages must get right: French agreement with the pupil (or the
responsable) it is about (« admise », « Cette élève »), and what EduConnect will — or will never —
see of a change. EduConnect's import gives an account for a link only when the pupil is enrolled
(*admis* or *admis définitivement*), the responsable holds parental authority, and the link is not
a foster family (DOMAIN.md, « Who gets an account »): a change outside those links must not promise
« Visible dans EduConnect demain ».
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from edusim_common.web.forms import Flash, FlashLevel
from edusim_common.web.words_fr import accord, de, pupil_state_fr
from fake_onde.models import (
    ENROLLED_STATES,
    Lien,
    Pupil,
    PupilResponsable,
    PupilState,
    Responsable,
)
from fake_onde.pages.common import pages, visible_tomorrow

FOSTER_FR: Final = (
    "famille d'accueil : l'ENT lui crée un compte « parent » manuel, utilisé par l'entrée "
    "« Personnel Collectivité et Invité »"
)
"""Why a foster family gets no account, after « Pas de compte EduConnect pour … (»."""


def done(message: str) -> Flash:
    """A change whose effect in EduConnect is the expected one (or none is expected): green."""
    return Flash(message, FlashLevel.success)


def no_account(message: str) -> Flash:
    """A change saved, but no one will get an EduConnect account from it: a warning (orange)."""
    return Flash(message, FlashLevel.warning)


def first_name(pupil: Pupil) -> str:
    """The pupil's first given name (« Léa » for « Léa Marie »)."""
    names = pupil.prenoms.split()
    return names[0] if names else pupil.prenoms


def full_name(pupil: Pupil) -> str:
    """« Léa Martin »."""
    return f"{pupil.prenoms} {pupil.nom}"


def is_enrolled(state: str) -> bool:
    """Whether EduConnect counts a pupil in ``state`` (admis, admis définitivement)."""
    return state in ENROLLED_STATES


def entitled(lien: str, autorite: bool) -> bool:
    """Whether a link earns an account once its pupil is enrolled (authority, no foster family)."""
    return autorite and lien != Lien.famille_accueil.value


def gives_account(lien: str, autorite: bool, state: str) -> bool:
    """Whether this link earns its responsable an EduConnect account for this pupil."""
    return is_enrolled(state) and entitled(lien, autorite)


def link_gives_account(link: PupilResponsable, pupil: Pupil) -> bool:
    """:func:`gives_account` for a recorded link."""
    return gives_account(link.lien, link.autorite_parentale, pupil.state)


def why_no_account(lien: str, autorite: bool, pupil: Pupil) -> str:
    """Why a link earns no account, in the order EduConnect's import says it (foster first)."""
    if lien == Lien.famille_accueil.value:
        return FOSTER_FR
    if not is_enrolled(pupil.state):
        return (
            f"{first_name(pupil)} n'est pas {accord(pupil, 'admis', 'admise')} : il faut d'abord "
            "l'admettre"
        )
    if not autorite:
        return "ce responsable n'exerce pas l'autorité parentale"
    return ""


def not_yet_admitted(pupil: Pupil) -> str:
    """The sentence for a pupil EduConnect does not count: no account before admission."""
    return (
        f"Ses responsables n'auront un compte EduConnect qu'une fois l'élève "
        f"{accord(pupil, 'admis', 'admise')} (bouton « Admettre »)."
    )


def state_change(pupil: Pupil, before: str, now: datetime, accounts: int, linked: int) -> Flash:
    """The message after a state change: what EduConnect will see of it, truthfully.

    ``accounts`` counts the pupil's links that give an account while it is enrolled (see
    :func:`entitled`), ``linked`` all its links.
    """
    name = full_name(pupil)
    label = pupil_state_fr(pupil.state, pupil.sex)
    him = accord(pupil, "lui", "elle")
    if not is_enrolled(before) and not is_enrolled(pupil.state):
        if before == PupilState.radie.value and pupil.state == PupilState.inscrit.value:
            return no_account(
                f"{name} : {accord(pupil, 'élève réinscrit', 'élève réinscrite')} ({label}). "
                f"{not_yet_admitted(pupil)}"
            )
        if pupil.state == PupilState.radie.value:
            return done(
                f"{name} est maintenant {label}. Rien ne change dans EduConnect : "
                f"{accord(pupil, 'il', 'elle')} n'y était pas (pas "
                f"{accord(pupil, 'admis', 'admise')})."
            )
        return no_account(f"{name} est maintenant {label}. {not_yet_admitted(pupil)}")
    if is_enrolled(before) and is_enrolled(pupil.state):
        return done(
            f"{name} est maintenant {label}. Rien ne change dans EduConnect : l'élève y est déjà, "
            "« admis » et « admis définitivement » y sont une seule et même chose."
        )
    if is_enrolled(pupil.state):  # admitted: the accounts come with the night
        if accounts:
            return done(f"{name} est maintenant {label}. {visible_tomorrow(now)}")
        if not linked:
            return no_account(
                f"{name} est maintenant {label}, mais sans responsable : personne ne recevra de "
                f"compte EduConnect pour {him}. Ajoutez un responsable ci-dessous."
            )
        return no_account(
            f"{name} est maintenant {label}, mais aucun de ses responsables n'exerce l'autorité "
            f"parentale (hors famille d'accueil) : personne ne recevra de compte EduConnect pour "
            f"{him}."
        )
    if accounts:  # struck off: EduConnect takes the child off the accounts
        return done(
            f"{name} est maintenant {label}. "
            + visible_tomorrow(
                now,
                f"{first_name(pupil)} y est {accord(pupil, 'retiré', 'retirée')} des comptes de "
                "ses responsables (un compte qui n'a plus d'enfant est désactivé)",
            )
        )
    return done(
        f"{name} est maintenant {label}. Rien ne change dans EduConnect : aucun de ses "
        f"responsables n'y a de compte pour {him}."
    )


def strike_off_effect(pupil: Pupil, accounts: int) -> str:
    """What striking ``pupil`` off does in EduConnect, for the confirmation page."""
    if is_enrolled(pupil.state) and accounts:
        return (
            f"Après la synchronisation de la nuit, EduConnect retire {first_name(pupil)} des "
            f"comptes de ses responsables ; un compte qui n'a plus d'enfant est désactivé."
        )
    return (
        f"Rien ne change dans EduConnect : aucun de ses responsables n'y a de compte pour "
        f"{accord(pupil, 'lui', 'elle')}."
    )


def unlink_effect(link: PupilResponsable, pupil: Pupil, person_name: str) -> str:
    """What removing a link does in EduConnect, for the confirmation page."""
    if link_gives_account(link, pupil):
        return (
            f"Après la synchronisation de la nuit, EduConnect retire {first_name(pupil)} du compte "
            f"{de(person_name)} ; un compte qui n'a plus d'enfant est désactivé."
        )
    why = why_no_account(link.lien, link.autorite_parentale, pupil)
    return (
        f"Rien ne change dans EduConnect : {person_name} n'y a pas de compte pour "
        f"{first_name(pupil)} ({why})."
    )


def unlinked(link: PupilResponsable, pupil: Pupil, person_name: str, now: datetime) -> str:
    """The message after a link is removed."""
    said = f"{person_name} n'est plus responsable {de(full_name(pupil))}."
    if link_gives_account(link, pupil):
        gone = accord(pupil, "retiré", "retirée")
        what = f"{first_name(pupil)} y est {gone} du compte {de(person_name)}"
        return f"{said} {visible_tomorrow(now, what)}"
    return f"{said} {unlink_effect(link, pupil, person_name)}"


def linked(lien: str, autorite: bool, pupil: Pupil, person_name: str, now: datetime) -> Flash:
    """The message after a responsable is linked to a pupil."""
    said = f"{person_name} est maintenant responsable {de(full_name(pupil))}."
    if gives_account(lien, autorite, pupil.state):
        return done(f"{said} {visible_tomorrow(now)}")
    why = why_no_account(lien, autorite, pupil)
    # The account would be the responsable's: named, with the child the link is for (« pour
    # Chloé » alone read as if the child lost her EduConnect).
    return no_account(
        f"{said} Ce lien ne donne pas de compte EduConnect à {person_name} pour "
        f"{first_name(pupil)} ({why})."
    )


def contact_saved(
    person: Responsable, links: list[tuple[PupilResponsable, Pupil]], now: datetime
) -> Flash:
    """The message after a responsable's phones or email changed."""
    name = f"{person.prenom} {person.nom}"
    said = f"Coordonnées {de(name)} enregistrées."
    if any(link_gives_account(link, pupil) for link, pupil in links):
        return done(f"{said} {visible_tomorrow(now)}")
    if not links:
        why = f"{accord(person, 'il', 'elle')} n'est responsable d'aucun élève"
    elif all(link.lien == Lien.famille_accueil.value for link, _ in links):
        why = FOSTER_FR
    elif not any(is_enrolled(pupil.state) for _, pupil in links):
        why = "aucun de ses enfants n'est admis"
    else:
        why = "pas d'autorité parentale sur un élève admis"
    return no_account(
        f"{said} Pas de compte EduConnect pour {name} ({why}) : ces coordonnées n'y serviront "
        "qu'avec un enfant admis sur lequel s'exerce son autorité parentale."
    )


pages.templates.env.globals.update(link_gives_account=link_gives_account)
