"""« Boîte d'envoi » : the SMS, emails and letters EduConnect would have sent, newest first.

Nothing is ever sent: this is where a trainer picks up a code (shown as ``<code class="otp">``).
"""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from edusim_common.deps import DbSession
from edusim_common.phones import normalize_phone
from edusim_common.web.forms import FormErrors
from fake_educonnect.pages import queries
from fake_educonnect.pages.common import pages, parse_id, render, router, with_bar
from fake_educonnect.service import schools
from fake_educonnect.service.outbox import Channel

PAGE_SIZE = 50
CHANNEL_FR = {
    "sms": "SMS",
    "email": "Courriel",
    "letter": "Courrier",
    "school": "Message à l'école",
}
_CODE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")
_TEMPORARY = re.compile(r"(Mot de passe provisoire : )(\S+)")
_PHONE_LIKE = re.compile(r"^[+0-9][0-9 .-]{5,}$")


def highlight_codes(body: str) -> Markup:
    """The message, escaped, with its one-time codes and temporary passwords easy to spot."""
    text = str(escape(body))
    text = _CODE.sub(r'<code class="otp">\1</code>', text)
    text = _TEMPORARY.sub(r'\1<code class="secret">\2</code>', text)
    return Markup(text)  # built from escaped text


pages.templates.env.filters["highlight_codes"] = highlight_codes
pages.templates.env.globals["channel_fr"] = CHANNEL_FR


def recipient_key(raw: str) -> str:
    """What the outbox stores for a typed recipient: E.164 phone, lower-case email, or as is."""
    value = raw.strip()
    if "@" in value:
        return value.lower()
    if _PHONE_LIKE.match(value):
        try:
            return normalize_phone(value)
        except ValueError:
            return value
    return value


@router.get("/outbox", response_class=HTMLResponse, dependencies=with_bar)
def outbox_page(request: Request, session: DbSession) -> HTMLResponse:
    """Every stored message, newest first; filter by recipient or channel."""
    params = request.query_params
    typed = params.get("destinataire", "").strip()[:254]
    channel = params.get("canal", "").strip()
    errors = FormErrors()
    if channel and channel not in {c.value for c in Channel}:
        errors.add("canal", "Choix invalide.")
        channel = ""
    before = parse_id(params.get("avant", ""))
    recipient = recipient_key(typed) if typed else None
    messages = queries.latest_messages(session, before, PAGE_SIZE, recipient, channel or None)
    older = messages[-1].id if len(messages) == PAGE_SIZE else None
    context = {
        "messages": messages,
        "values": {"destinataire": typed, "canal": channel},
        "recipient": recipient,
        "errors": errors,
        "older": older,
        "directory": schools.directory(session, (m.school_uai for m in messages)),
    }
    return render(request, "outbox.html", context, 422 if errors else 200)
