"""Jinja2 for the pages: each service's own templates over the common layout, French dates and
the shared French words (:mod:`edusim_common.web.words_fr`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_date, format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from edusim_common.clock import PARIS
from edusim_common.web.forms import FLASH_COOKIE, take_flash
from edusim_common.web.links import get_links
from edusim_common.web.words_fr import (
    ACCOUNT_STATE_FR,
    ATTACHMENT_FR,
    LIEN_FR,
    OWN_ATTACHMENT_FR,
    accord,
    de,
    pupil_state_fr,
    upper_first,
)

COMMON_TEMPLATES = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static-common"


# French writes the first day of a month as an ordinal: « mardi 1er septembre 2026 ».
DATE_PATTERNS = {
    "day": "{day}",
    "day_month": "{day} MMMM",
    "long": "{day} MMMM y",
    "full": "EEEE {day} MMMM y",
}


def _format(value: date, style: str) -> str:
    day = "d'er'" if value.day == 1 else "d"
    pattern = DATE_PATTERNS[style].format(day=day)
    return format_date(value, format=pattern, locale="fr_FR")


def date_fr(value: date | datetime | None, style: Literal["long", "full"] = "long") -> str:
    """``1er décembre 2026`` (``style="full"``: ``mardi 1er décembre 2026``)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return _format(value, style)


def night_fr(first: date) -> str:
    """The night after ``first``: ``1er au 2 septembre``, ``30 septembre au 1er octobre``."""
    after = first + timedelta(days=1)
    if first.year != after.year:
        return f"{_format(first, 'long')} au {_format(after, 'long')}"
    start = _format(first, "day_month" if first.month != after.month else "day")
    return f"{start} au {_format(after, 'day_month')}"


def datetime_fr(value: datetime | None) -> str:
    """``29/11/2026 à 08:00`` in Paris time."""
    if value is None:
        return "—"
    local = value.astimezone(PARIS)
    return format_datetime(local, "dd/MM/yyyy 'à' HH:mm", locale="fr_FR")


def short_date(value: date | datetime | None) -> str:
    """``29/11/2026`` (birth dates, the way the real screens show them)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return value.strftime("%d/%m/%Y")


def make_templates(own_dir: Path, service: str) -> Jinja2Templates:
    """Templates of one service: ``own_dir`` first, then the common layout and partials; French
    dates and the shared French words (links, states, « de », agreement) for all of them."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(own_dir), FileSystemLoader(COMMON_TEMPLATES)]),
        autoescape=select_autoescape(("html", "xml")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(date_fr=date_fr, datetime_fr=datetime_fr, short_date=short_date)
    env.filters.update(de=de, upper_first=upper_first)
    env.globals.update(links=get_links(), service=service, static=STATIC_PATH)
    env.globals.update(
        LIEN_FR=LIEN_FR,
        ACCOUNT_STATE_FR=ACCOUNT_STATE_FR,
        ATTACHMENT_FR=ATTACHMENT_FR,
        OWN_ATTACHMENT_FR=OWN_ATTACHMENT_FR,
        pupil_state_fr=pupil_state_fr,
        accord=accord,
    )
    return Jinja2Templates(env=env)


def page(
    templates: Jinja2Templates,
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``name`` with the simulation bar and the request in its context."""
    flash = take_flash(request)
    full: dict[str, Any] = {
        "simbar": getattr(request.state, "simbar", None),
        "flash": flash.message if flash else None,
        "flash_level": flash.level.value if flash else None,
    }
    full.update(context or {})
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    if flash:
        response.delete_cookie(FLASH_COOKIE)
    return response
