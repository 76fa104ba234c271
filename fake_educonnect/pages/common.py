"""What every EduConnect page shares: the page object, cookies, the logged-in parent, French words.

Pages call the same service functions, guards and rate-limit keys as the API routes, so a try
made through a page counts exactly as one made through the API.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import pass_context
from sqlmodel import Session

from edusim_common.phones import display_phone
from edusim_common.problems import InvalidInput
from edusim_common.web import Pages
from edusim_common.web.explain_fr import ORIGIN_LABEL_FR, activated_fr
from edusim_common.web.forms import FlashLevel, FormErrors, read_form, redirect
from edusim_common.web.plural import plural_fr, plural_word
from edusim_common.web.render import page
from edusim_common.web.simbar import load_simbar
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.deps import MAX_ID
from fake_educonnect.models import Account, LoginSession
from fake_educonnect.schemas import SessionOpened
from fake_educonnect.security import check_password_rule
from fake_educonnect.service import parent
from fake_educonnect.service.parent import Step
from fake_educonnect.service.schools import label_in

pages = Pages.create(Path(__file__).parent / "templates", "educonnect")
router = pages.router
with_bar = [Depends(load_simbar)]

SESSION_COOKIE = "ec_session"
"""The parent's login-session token (the same token the API takes as a bearer)."""
CONSOLE_COOKIE = "ec_console"
"""The director's console token ``ec-dir-<UAI>-…``."""

TRANSLATIONS = {
    "must start with a letter": "Doit commencer par une lettre.",
    "may hold only letters": "Seulement des lettres, espaces, traits d'union et apostrophes.",
    "must not be empty": "Ce champ est obligatoire.",
    "control": "Caractères non autorisés.",
    "not a mobile number": "Ce n'est pas un numéro de mobile (en France : 06 ou 07).",
    "not a valid phone number": "Numéro de téléphone invalide.",
    "not a phone number": "Numéro de téléphone invalide (exemple : 06 12 34 56 78).",
    "email": "Adresse électronique invalide.",
    "the password needs": "Le mot de passe doit compter au moins 8 caractères, dont une lettre "
    "et un chiffre, sans espace au début ni à la fin.",
    "should match pattern": "Format invalide.",
}
PASSWORD_RULE = TRANSLATIONS["the password needs"]
PASSWORDS_DIFFER = "Les deux mots de passe ne sont pas identiques."
CODE_FORMAT = "Le code compte 6 chiffres."
TOO_MANY_FR = "Trop de tentatives : réessayez plus tard."

STATUS_BADGE = {
    "proposed": "wait",
    "attached": "ok",
    "blocked": "ko",
    "refused": "ko",
    "removed": "",
}
"""The badge of an attachment's status (its words: ``ATTACHMENT_FR`` of every template)."""


@pass_context
def school_fr(context: Any, uai: str | None, with_uai: bool = False) -> str:
    """A school as pages name it (« École élémentaire Jean Jaurès, Lille », « (0021593W) » after
    it for a director), from the ``directory`` its handler read; « École 0021593W » when unknown.
    """
    return label_in(context.get("directory") or {}, uai, with_uai=with_uai)


pages.templates.env.globals["school_fr"] = school_fr
pages.templates.env.globals["status_badge"] = STATUS_BADGE
# The origins as the console writes them (the API keeps the codes, ``Etablissement``).
pages.templates.env.globals["origin_label"] = ORIGIN_LABEL_FR
pages.templates.env.globals["activated_fr"] = activated_fr
pages.templates.env.filters["phone_fr"] = display_phone
pages.templates.env.globals.update(plural_fr=plural_fr, plural_word=plural_word)


async def form_data(request: Request) -> dict[str, str]:
    """The posted form (plain strings, trimmed), as a dependency of synchronous handlers."""
    return await read_form(request)


Form = Annotated[dict[str, str], Depends(form_data)]


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """One EduConnect page (its one-time message, whatever its level, from the common layout)."""
    return page(pages.templates, request, name, context, status_code=status)


def settings_of(request: Request) -> EduConnectSettings:
    """The app's settings."""
    settings: EduConnectSettings = request.app.state.settings
    return settings


def keep(form: dict[str, str], *secret: str) -> dict[str, str]:
    """The form's values to show again, without the secrets (passwords, codes)."""
    return {k: v for k, v in form.items() if k not in secret}


def parse_id(raw: str) -> int | None:
    """A record id from a path, or None (garbage answers « introuvable », never a 500)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


_FR_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


def parse_birth_date(raw: str) -> date | None:
    """``JJ/MM/AAAA`` (or ISO ``AAAA-MM-JJ``) → a date, or None if it is not one."""
    raw = raw.strip()
    if found := _FR_DATE.match(raw):
        day, month, year = (int(x) for x in found.groups())
    elif found := _ISO_DATE.match(raw):
        year, month, day = (int(x) for x in found.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def typed_code(form: dict[str, str], errors: FormErrors) -> dict[str, str]:
    """The code as typed, to show again when only the passwords were wrong (never the
    passwords themselves, nor a code that was refused)."""
    return {} if "code" in errors else {"code": form.get("code", "")[:20]}


def check_new_password(
    form: dict[str, str], errors: FormErrors, field: str = "password", repeat: str = "password2"
) -> None:
    """The password rule and the repeated password, as French errors next to the fields."""
    value = form.get(field, "")
    if not value:
        errors.add(field, "Ce champ est obligatoire.")
        return
    try:
        check_password_rule(value)
    except InvalidInput:
        errors.add(field, PASSWORD_RULE)
    if form.get(repeat, "") != value:
        errors.add(repeat, PASSWORDS_DIFFER)


def current_parent(
    request: Request, session: Session, now: Any
) -> tuple[LoginSession, Account] | None:
    """The logged-in parent, from the session cookie, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    return parent.logged_in(session, now, token)


def to_login() -> RedirectResponse:
    """Back to the login page, saying why."""
    return redirect(
        "/login", "Connectez-vous pour continuer (session absente ou expirée).", FlashLevel.warning
    )


def next_page(step: str | None) -> str:
    """Where a parent goes after logging in, from the session's step."""
    if step == Step.change_password.value:
        return "/mot-de-passe"
    if step == Step.attachment.value:
        return "/rattachement"
    return "/me"


def signed_in(
    opened: SessionOpened, settings: EduConnectSettings, url: str, flash: str | None = None
) -> RedirectResponse:
    """Redirect with the session cookie set (HttpOnly, SameSite=Lax)."""
    response = redirect(url, flash)
    response.set_cookie(
        SESSION_COOKIE,
        opened.session_token,
        max_age=settings.session_ttl_minutes * 60,
        httponly=True,
        samesite="lax",
        path="/",
    )
    return response
