"""The trainer's review of the EduConnect pages: first password with FranceConnect, no letter for
a deactivated account, flash levels, letters worded by situation and civility, French details."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from edusim_common.web.forms import FLASH_COOKIE
from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import activate_by_sms, add_identity, bearer, import_items
from tests.pages.ec_steps import (
    activate_by_sms_pages,
    console_login,
    field_error,
    flash,
    flash_level,
    hidden,
    login_pages,
    outbox_code,
    proposal_ids,
    text_of,
)


def activate_by_franceconnect_pages(ec: TestClient, ec_service: dict[str, str]) -> str:
    """Sophie Martin activates through the fake FranceConnect pages; her identifiant."""
    add_identity(ec, ec_service)
    sent = ec.post("/franceconnect", data={"sub": "fc-sophie"})
    done = ec.post(
        "/franceconnect/code",
        data={"request_id": hidden(sent.text, "request_id"), "code": outbox_code(ec)},
    )
    assert done.url.path == "/bienvenue", text_of(done.text)
    found = re.search(r'id="identifiant">([^<]+)<', done.text)
    assert found
    return found.group(1)


# 1. A FranceConnect parent has no password: she may choose a first one in her own session.


def test_a_franceconnect_parent_chooses_a_first_password(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    identifiant = activate_by_franceconnect_pages(ec, ec_service)
    me = ec.get("/me")
    assert 'id="no-password"' in me.text
    assert "Choisir un mot de passe" in text_of(me.text)
    page = ec.get("/mot-de-passe")
    assert 'id="first-password"' in page.text
    assert 'name="current_password"' not in page.text
    assert "pas de mot de passe actuel à saisir" in text_of(page.text)
    done = ec.post("/mot-de-passe", data={"password": "Soleil2026", "password2": "Soleil2026"})
    assert done.url.path == "/me", text_of(done.text)
    assert identifiant in (flash(done.text) or "")
    assert flash_level(done.text) == "success"
    ec.post("/logout")
    logged = login_pages(ec, identifiant, "Soleil2026")
    assert logged.url.path in ("/me", "/rattachement")
    # Now that she has one, changing it asks for it.
    assert 'name="current_password"' in ec.get("/mot-de-passe").text
    wrong = ec.post("/mot-de-passe", data={"password": "Autre2026", "password2": "Autre2026"})
    assert wrong.status_code == 422
    assert field_error(wrong.text, "current_password") == "Mot de passe actuel incorrect."


def test_no_first_password_without_a_session(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable())
    activate_by_franceconnect_pages(ec, ec_service)
    ec.post("/logout")
    answer = ec.post("/mot-de-passe", data={"password": "Soleil2026", "password2": "Soleil2026"})
    assert answer.url.path == "/login"
    account = ec.get("/api/v1/accounts", headers=ec_service).json()["items"][0]
    login = ec.post(
        "/api/v1/login", json={"identifiant": account["identifiant"], "password": "Soleil2026"}
    )
    assert login.status_code == 401


def test_wrong_current_passwords_are_rate_limited_on_the_page(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    identifiant = activate_by_sms_pages(ec)
    new = {"password": "Autre2026", "password2": "Autre2026"}
    statuses = [
        ec.post("/mot-de-passe", data={"current_password": f"Faux{n}2026", **new}).status_code
        for n in range(6)
    ]
    assert statuses == [422] * 5 + [429]
    right = ec.post("/mot-de-passe", data={"current_password": "Soleil2026", **new})
    assert right.status_code == 429
    assert "Trop de tentatives" in text_of(right.text)
    ec.post("/logout")
    assert login_pages(ec, identifiant, "Soleil2026").status_code == 429  # as failed logins


# 2. A deactivated account gets neither a letter nor a reset.


def test_a_deactivated_account_offers_no_letter_nor_reset(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(ec, ec_service, responsable())[0]
    import_items(ec, ec_service, responsable(children=[child(enrolled=False)]))  # struck off
    console_login(ec)
    page = ec.get(f"/console/comptes/{created['account_id']}")
    assert page.status_code == 200
    assert re.search(r'id="detail-state">Désactivé<', page.text)
    assert 'id="letter-submit"' not in page.text
    assert 'id="reset-submit"' not in page.text
    note = text_of(page.text)
    assert "aucun enfant scolarisé n'y est plus rattaché" in note
    assert "dès que l'un de ses enfants est de nouveau admis" in note
    for path in ("courrier", "reinitialiser"):
        for data in ({}, {"confirm": "1"}):
            refused = ec.post(f"/console/comptes/{created['account_id']}/{path}", data=data)
            assert refused.status_code == 409
            assert 'id="deactivated-refusal"' in refused.text
            assert 'id="letter-password"' not in refused.text
            words = text_of(refused.text)
            assert "Le compte de Sophie Martin" in words
            assert "de nouveau admis" in words
            assert ("aucune n'a donc été faite" in words) == (path == "reinitialiser")
    letters = ec.get("/api/v1/outbox", params={"channel": "letter"}, headers=ec_service).json()
    assert letters == []


# 3. Flashes have a level: a blocked attachment is not shown as a success.


def test_a_blocked_attachment_is_an_error_and_an_attachment_a_success(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(
        ec,
        ec_service,
        responsable(children=[child("1"), child("2", prenoms="Hugo", birth_date="2017-05-06")]),
    )
    activate_by_sms_pages(ec)
    lea, hugo = proposal_ids(ec.get("/rattachement").text)
    right = ec.post(f"/rattachement/{lea}/confirmer", data={f"birth_date_{lea}": "03/02/2019"})
    assert flash(right.text) == "Léa est rattaché(e) à votre compte."
    assert flash_level(right.text) == "success"
    assert '<p class="flash flash-success" role="status">Léa est rattaché(e)' in right.text
    wrong = ec.post(f"/rattachement/{hugo}/confirmer", data={f"birth_date_{hugo}": "01/01/2017"})
    assert (flash(wrong.text) or "").startswith("Le rattachement d'Hugo est bloqué")
    assert flash_level(wrong.text) == "error"
    assert 'class="flash flash-error"' in wrong.text  # styled red, not green
    assert ".flash-error {" in ec.get("/static-common/edusim.css").text
    after = ec.get("/me")
    assert flash(after.text) is None
    assert FLASH_COOKIE not in ec.cookies


def test_a_success_after_a_warning_is_green_again(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    activate_by_franceconnect_pages(ec, ec_service)
    gone = ec.post("/rattachement/999/confirmer", data={})
    assert flash(gone.text) == "Cette proposition de rattachement n'est plus ouverte."
    assert flash_level(gone.text) == "warning"
    done = ec.post("/mot-de-passe", data={"password": "Soleil2026", "password2": "Soleil2026"})
    assert flash_level(done.text) == "success"


# 4. The letter is worded by situation.


def test_the_printed_reset_letter_of_an_active_parent(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(ec, ec_service, responsable())[0]
    session = activate_by_sms(ec, ec_service)
    (proposal,) = ec.get("/api/v1/me/proposals", headers=bearer(session)).json()
    ec.post(
        f"/api/v1/me/proposals/{proposal['attachment_id']}/confirm",
        json={"birth_date": "2019-02-03"},
        headers=bearer(session),
    )
    console_login(ec)
    printed = ec.post(
        f"/console/comptes/{created['account_id']}/reinitialiser", data={"confirm": "1"}
    )
    letter = text_of(printed.text)
    assert "Vous pouvez aussi activer votre compte avec FranceConnect" not in letter
    assert "vous confirmerez la date de naissance de chacun de vos enfants" not in letter
    assert "le mot de passe de votre compte EduConnect a été réinitialisé" in letter
    assert "Vos enfants déjà rattachés le restent." in letter
    assert "Objet : votre compte EduConnect — nouveau mot de passe" in letter


def test_the_printed_first_letter_greets_by_civility_with_the_address(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    paul, camille = import_items(
        ec,
        ec_service,
        responsable("101", nom="Lefèvre", prenom="Paul", civility="M"),
        responsable("102", nom="Petit", prenom="Camille", mobile=None, civility=None),
    )
    console_login(ec)
    printed = ec.post(f"/console/comptes/{paul['account_id']}/courrier")
    letter = text_of(printed.text)
    assert re.search(r'class="ec-letter-to">Monsieur Paul Lefèvre<', printed.text)
    assert "Monsieur Lefèvre," in letter
    assert "Madame, Monsieur" not in letter
    assert "https://educonnect.education.gouv.fr" in letter
    assert "Vous pouvez aussi activer votre compte avec FranceConnect." in letter
    assert "chacun de vos enfants" in letter
    other = text_of(ec.post(f"/console/comptes/{camille['account_id']}/courrier").text)
    assert "Madame, Monsieur," in other
    stored = ec.get("/api/v1/outbox", params={"channel": "letter"}, headers=ec_service).json()
    assert stored[0]["body"].startswith("Monsieur Lefèvre,\n")
    assert "https://educonnect.education.gouv.fr" in stored[0]["body"]


# 5. French: elision (« de » itself: tests/pages/test_words_fr.py), « Établissement ».


def test_the_console_writes_d_anne_and_etablissement(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    created = import_items(ec, ec_service, responsable(nom="Lefèvre", prenom="Anne"))[0]
    activate_by_sms(ec, ec_service, nom="Lefèvre", prenom="Anne")
    console_login(ec)
    warned = ec.post(f"/console/comptes/{created['account_id']}/reinitialiser")
    assert "Réinitialiser le mot de passe d'Anne Lefèvre ?" in text_of(warned.text)
    search = ec.get("/console")
    assert '<option value="Etablissement">Établissement</option>' in search.text
    assert ">Etablissement<" not in search.text


# 7. Phones in the outbox, the French way.


def test_the_outbox_page_shows_phones_the_french_way(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable(mobile="+33698765432"))
    ec.post(
        "/api/v1/activation/sms",
        json={"nom": "Martin", "prenom": "Sophie", "mobile": "0698765432"},
    )
    page = ec.get("/outbox", params={"destinataire": "+33698765432"})
    shown = text_of(page.text)
    assert re.search(r'class="recipient">06 98 76 54 32<', page.text)
    assert "+33698765432" not in shown
    stored = ec.get("/api/v1/outbox", headers=ec_service).json()
    assert stored[0]["recipient"] == "+33698765432"  # the API keeps E.164
