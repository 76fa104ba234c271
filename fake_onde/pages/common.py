"""What the director's pages share: the router, the simulated login, French labels, scoping."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import phonenumbers
from fastapi import Depends, Request
from sqlmodel import Session

from edusim_common.clock import PARIS
from edusim_common.deps import DbSession
from edusim_common.problems import Forbidden, NotFound, Problem, Unauthorized
from edusim_common.web import Pages
from edusim_common.web.plural import plural_word
from edusim_common.web.render import date_fr
from edusim_common.web.simbar import load_simbar
from edusim_common.web.words_fr import LIEN_FR, upper_first
from fake_onde.auth import authenticate
from fake_onde.config import OndeSettings
from fake_onde.models import MAX_ID, Pupil, Responsable, School
from fake_onde.service.pupils import get_pupil
from fake_onde.service.responsables import get_responsable
from fake_onde.service.schools import get_school

pages = Pages.create(Path(__file__).parent / "templates", "onde")
router = pages.router
with_bar = [Depends(load_simbar)]

DIRECTOR_COOKIE = "onde_director"
"""Holds the director's bearer token (``onde-dir-<UAI>-…``); ONDE-specific, the host is shared."""

STATE_BADGE = {"admis": "ok", "admis_definitif": "ok", "radie": "ko"}
CIVILITY_FR = {"M": "M.", "MME": "Mme"}
SEX_FR = {"F": "Fille", "M": "Garçon"}

# English reasons of the models and the service layer, in French (first match wins).
TRANSLATIONS = {
    "not a mobile number": "Ce numéro n'est pas un mobile (en France, un mobile commence par 06 "
    "ou 07).",
    "not a valid phone number": "Numéro de téléphone invalide.",
    "not a phone number": "Numéro de téléphone invalide (exemple : 06 12 34 56 78 ou "
    "+33 6 12 34 56 78).",
    "must start with a letter": "Doit commencer par une lettre.",
    "may hold only letters": "Seulement des lettres, des espaces, des tirets et des apostrophes.",
    "must not be empty": "Ce champ est obligatoire.",
    "control": "Caractères non autorisés.",
    "email": "Adresse électronique invalide (exemple : prenom.nom@exemple.fr).",
    "insee": "Code INSEE invalide : 5 chiffres (2A ou 2B et 3 chiffres en Corse), ex. 59350.",
    "is in the future": "La date de naissance est dans le futur.",
    "more than 20 years ago": "Date de naissance trop ancienne pour un élève du premier degré.",
    "teaches": "Cette classe n'accueille pas ce niveau : choisissez une autre classe ou un "
    "autre niveau.",
    "no class with id": "Classe inconnue.",
    "belongs to another school": "Cette classe ou ce responsable est d'une autre école.",
    "already linked": "Ce responsable est déjà lié à cet élève.",
    "no responsable with id": "Responsable inconnu dans votre école.",
    "illegal transition": "Ce changement d'état n'est pas permis depuis l'état actuel.",
    "already pupil": "Cet INE est déjà celui d'un autre élève.",
}

LIST_PAGE_SIZE = 50


def ascii_number(raw: str, max_digits: int = 10) -> int | None:
    """``raw`` as a number when it is 1 to ``max_digits`` ASCII digits, else None.

    ``str.isdigit`` also says yes to ``²`` (which ``int`` refuses: a 500) and to Arabic-Indic or
    full-width digits (which ``int`` reads: ``٣`` would open record 3); a very long number makes
    ``int`` refuse too (over 4,300 digits).
    """
    if not (0 < len(raw) <= max_digits and raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def parse_id(raw: str, what: str) -> int:
    """A record id from a path or a form, or a French 404."""
    value = ascii_number(raw)
    if value is None or not 1 <= value <= MAX_ID:
        raise NotFound(f"Aucun {what} n° {raw[:20]} : vérifiez le lien.")
    return value


def director_uai(request: Request) -> str | None:
    """The UAI of the director logged in through the cookie, if any."""
    token = request.cookies.get(DIRECTOR_COOKIE)
    if not token:
        return None
    settings: OndeSettings = request.app.state.settings
    try:
        principal = authenticate(f"Bearer {token}", settings.service_token, settings.secret_key)
    except Problem:
        return None
    return principal.uai  # the service token is no director: None


def require_school(request: Request, session: DbSession) -> School:
    """The logged-in director's school, or a French 401."""
    uai = director_uai(request)
    if uai is None:
        raise Unauthorized(
            "Connectez-vous d'abord : choisissez votre école sur la page d'accueil d'ONDE."
        )
    try:
        return get_school(session, uai)
    except NotFound:
        raise Unauthorized(
            f"L'école {uai} n'existe plus dans cette simulation : reconnectez-vous."
        ) from None


DirectorSchool = Annotated[School, Depends(require_school)]


def pupil_of(session: Session, school: School, raw_id: str) -> Pupil:
    """A pupil of the director's school, or a French 404/403."""
    try:
        pupil = get_pupil(session, parse_id(raw_id, "élève"))
    except NotFound:
        raise NotFound(f"Aucun élève n° {raw_id[:20]} dans ONDE.") from None
    if pupil.school_uai != school.uai:
        raise Forbidden(
            f"Cet élève relève d'une autre école que la vôtre ({school.uai}) : vous ne voyez que "
            "les élèves de votre école."
        )
    return pupil


def responsable_of(session: Session, school: School, raw_id: str) -> Responsable:
    """A responsable of the director's school, or a French 404/403."""
    try:
        responsable = get_responsable(session, parse_id(raw_id, "responsable"))
    except NotFound:
        raise NotFound(f"Aucun responsable n° {raw_id[:20]} dans ONDE.") from None
    if responsable.school_uai != school.uai:
        raise Forbidden(
            f"Ce responsable relève d'une autre école que la vôtre ({school.uai}) : vous ne voyez "
            "que les responsables de votre école."
        )
    return responsable


def phone_fr(value: str | None) -> str:
    """``+33612345678`` → ``06 12 34 56 78`` (as the director typed it, more or less)."""
    if not value:
        return "—"
    try:
        parsed = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    if parsed.country_code == 33:
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def tomorrow(now: datetime) -> str:
    """The day after ``now`` in France, in full (« jeudi 3 septembre 2026 »)."""
    return date_fr(now.astimezone(PARIS).date() + timedelta(days=1), "full")


def visible_tomorrow(now: datetime, what: str = "") -> str:
    """What a write EduConnect will see tells the director: J+1 (and ``what`` it will see).

    Only for changes EduConnect does see: a pupil not admitted, a foster family or a link without
    parental authority earn no account (see ``wording``), and their messages say so instead.
    """
    when = "Visible dans EduConnect demain (après la synchronisation de la nuit), le "
    when += tomorrow(now)
    return f"{when} : {what}." if what else f"{when}."


def lien_options() -> list[tuple[str, str]]:
    """The kinds of link, for a ``<select>``."""
    return [(code, upper_first(word)) for code, word in LIEN_FR.items()]


def labels() -> dict[str, Any]:
    """ONDE's own French labels every template may use (the words the services share come with
    the templates: :mod:`edusim_common.web.words_fr`)."""
    return {
        "STATE_BADGE": STATE_BADGE,
        "CIVILITY_FR": CIVILITY_FR,
        "SEX_FR": SEX_FR,
        "phone_fr": phone_fr,
        "plural_word": plural_word,
    }


pages.templates.env.globals.update(labels())
