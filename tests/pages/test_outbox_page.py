"""The outbox page: every SMS, email and letter, newest first, codes easy to pick up."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from fake_educonnect.pages.outbox import highlight_codes, recipient_key
from tests.educonnect.factories import responsable
from tests.educonnect.helpers import import_items, letter_for
from tests.pages.ec_steps import field_error, text_of


def two_codes(ec: TestClient, ec_service: dict[str, str]) -> list[dict[str, object]]:
    """Two parents ask for an activation code; the first one gets a letter too."""
    results = import_items(
        ec,
        ec_service,
        responsable(),
        responsable("102", nom="Durand", prenom="Paul", mobile="+33698765432"),
    )
    for nom, prenom, mobile in (
        ("Martin", "Sophie", "0612345678"),
        ("Durand", "Paul", "0698765432"),
    ):
        ec.post("/api/v1/activation/sms", json={"nom": nom, "prenom": prenom, "mobile": mobile})
    return results


def test_newest_first_with_the_code_highlighted(ec: TestClient, ec_service: dict[str, str]) -> None:
    two_codes(ec, ec_service)
    page = ec.get("/outbox")
    assert page.status_code == 200
    ids = [int(x) for x in re.findall(r'id="msg-(\d+)"', page.text)]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 2
    stored = ec.get("/api/v1/outbox", headers=ec_service).json()
    codes = re.findall(r'<code class="otp">(\d{6})</code>', page.text)
    assert codes == [re.findall(r"\d{6}", m["body"])[0] for m in reversed(stored)]
    assert "Code d'activation EduConnect" in text_of(page.text)


def test_filter_by_recipient_as_typed_and_by_channel(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    results = two_codes(ec, ec_service)
    letter = letter_for(ec, ec_service, int(str(results[0]["account_id"])))
    for typed in ("06 98 76 54 32", "+33 6 98 76 54 32", "+33698765432"):
        page = ec.get("/outbox", params={"destinataire": typed})
        assert text_of(page.text).count("Code d'activation") == 1, typed
        shown = re.findall(r'class="recipient">([^<]*)<', page.text)
        assert shown == ["06 98 76 54 32"], typed  # as people write it (the API keeps E.164)
    letters = ec.get("/outbox", params={"canal": "letter"})
    assert len(re.findall(r'id="msg-\d+"', letters.text)) == 1
    assert f'<code class="secret">{letter["temporary_password"]}</code>' in letters.text
    assert "selected>Courrier</option>" in letters.text
    by_name = ec.get("/outbox", params={"destinataire": "Sophie Martin"})
    assert "Notification de compte EduConnect" in text_of(by_name.text)
    nobody = ec.get("/outbox", params={"destinataire": "personne@example.org"})
    assert 'id="no-message"' in nobody.text


def test_bad_filters_never_answer_500(ec: TestClient, ec_service: dict[str, str]) -> None:
    two_codes(ec, ec_service)
    bad = ec.get("/outbox", params={"canal": "pigeon"})
    assert bad.status_code == 422
    assert field_error(bad.text, "canal") == "Choix invalide."
    for params in (
        {"avant": "abc"},
        {"avant": "-5"},
        {"avant": "99999999999999"},
        {"destinataire": "x" * 5000},
        {"destinataire": "+++"},
    ):
        answer = ec.get("/outbox", params=params)
        assert answer.status_code == 200, params
    older = ec.get("/outbox", params={"avant": "2"})
    assert re.findall(r'id="msg-(\d+)"', older.text) == ["1"]


def test_messages_are_escaped() -> None:
    shown = str(highlight_codes("<b>code</b> 123456 et 1234567"))
    assert "&lt;b&gt;" in shown
    assert shown.count('<code class="otp">') == 1
    assert recipient_key(" Sophie@Example.ORG ") == "sophie@example.org"
    assert recipient_key("06 12 34 56 78") == "+33612345678"
    assert recipient_key("0021593W") == "0021593W"
