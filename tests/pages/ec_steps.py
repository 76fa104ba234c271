"""Steps shared by the EduConnect page tests: a client with pages, forms, codes from the outbox."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi import Request
from fastapi.testclient import TestClient

HTML = {"accept": "text/html"}
MOBILE = "+33612345678"


async def no_sync(request: Request) -> dict[str, Any] | None:
    """The simulation bar without a sync service (the page shows its own clock)."""
    return None


def pages_client(educonnect: TestClient) -> TestClient:
    """The fake EduConnect asked for pages, the bar answering without a sync service behind it."""
    educonnect.app.state.simbar_source = no_sync  # type: ignore[attr-defined]
    educonnect.headers.update(HTML)
    return educonnect


def text_of(page: str) -> str:
    """The page's ``<main>`` as plain text (tags dropped, entities decoded, blanks collapsed)."""
    main = page[page.find("<main>") : page.find("</main>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def hidden(page: str, name: str) -> str:
    """The value of a hidden input."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return html.unescape(found.group(1))


def field_error(page: str, name: str) -> str | None:
    """The French message shown next to a field, if any."""
    found = re.search(rf'<p class="field-error" id="e-{re.escape(name)}">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def form_error(page: str) -> str | None:
    """The message shown above a form, if any."""
    found = re.search(r'<p class="form-error" role="alert">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def input_value(page: str, name: str) -> str | None:
    """The value kept in a text input."""
    found = re.search(rf'name="{re.escape(name)}" type="[a-z]+" value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else None


_FLASH = re.compile(r'<p class="flash flash-(?P<level>[a-z]+)" role="status">(?P<text>[^<]*)</p>')


def flash(page: str) -> str | None:
    """The one-time message at the top of the page (whatever its level)."""
    found = _FLASH.search(page)
    return html.unescape(found.group("text")) if found else None


def flash_level(page: str) -> str | None:
    """The level of the one-time message: ``success`` (green), ``warning`` or ``error``."""
    found = _FLASH.search(page)
    return (found.group("level") or "success") if found else None


def outbox_code(client: TestClient, recipient: str = "06 12 34 56 78") -> str:
    """The newest code sent to ``recipient``, read on the outbox page as a trainer would."""
    page = client.get("/outbox", params={"destinataire": recipient}).text
    found = re.search(r'<code class="otp">(\d{6})</code>', page)
    assert found, text_of(page)
    return found.group(1)


def activate_by_sms_pages(client: TestClient, password: str = "Soleil2026") -> str:
    """Sophie Martin activates by SMS through the pages; her identifiant."""
    started = client.post(
        "/activation/sms", data={"nom": "Martin", "prenom": "Sophie", "mobile": "06 12 34 56 78"}
    )
    assert started.status_code == 200, text_of(started.text)
    done = client.post(
        "/activation/sms/code",
        data={
            "request_id": hidden(started.text, "request_id"),
            "code": outbox_code(client),
            "password": password,
            "password2": password,
        },
    )
    assert done.status_code == 200
    assert done.url.path == "/bienvenue", text_of(done.text)
    found = re.search(r'id="identifiant">([^<]+)<', done.text)
    assert found
    return found.group(1)


def login_pages(client: TestClient, identifiant: str, password: str) -> Any:
    """Log in on the page (redirects followed)."""
    return client.post("/login", data={"identifiant": identifiant, "password": password})


def proposal_ids(page: str) -> list[int]:
    """The attachment ids of the children proposed on the attachment page."""
    return [int(x) for x in re.findall(r'id="confirm-(\d+)"', page)]


def console_login(ec: TestClient, uai: str = "0021593W") -> None:
    """The director picks the school on the console's simulated login page."""
    answer = ec.post("/console/connexion", data={"uai": uai})
    assert answer.url.path == "/console", text_of(answer.text)
