"""The director console pages: simulated login, search, detail, letter, reset, unblock, stats."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.educonnect.factories import OTHER_SCHOOL, SCHOOL, child, responsable
from tests.educonnect.helpers import activate_by_sms, bearer, import_items
from tests.pages.ec_steps import (
    console_login,
    field_error,
    flash,
    input_value,
    proposal_ids,
    text_of,
)


def school_data(ec: TestClient, ec_service: dict[str, str]) -> list[dict[str, object]]:
    """Three parents of the demo school (one with a class), one of another school."""
    return import_items(
        ec,
        ec_service,
        responsable(children=[child("1", class_label="CP A")]),
        responsable(
            "102", nom="Durand", prenom="Paul", mobile="+33698765432",
            children=[child("2", nom="Durand", prenoms="Hugo")],
        ),
        responsable("103", nom="Petit", prenom="Anne", mobile=None,
                    children=[child("3", nom="Petit", prenoms="Inès")]),
        responsable(
            "901", nom="Lemoine", prenom="Claire", mobile="+33677777777", school_uai=OTHER_SCHOOL,
            children=[child("9", nom="Lemoine", prenoms="Jules", school_uai=OTHER_SCHOOL)],
        ),
    )  # fmt: skip


def test_simulated_login_picks_the_school(ec: TestClient, ec_service: dict[str, str]) -> None:
    school_data(ec, ec_service)
    page = ec.get("/console")
    assert "ARENA" in text_of(page.text)
    assert f'<option value="{SCHOOL}"' in page.text
    assert f'<option value="{OTHER_SCHOOL}"' in page.text
    wrong_key = ec.post("/console/connexion", data={"uai_autre": "0021593X"})
    assert wrong_key.status_code == 422
    assert field_error(wrong_key.text, "uai_autre") == (
        "Lettre clé erronée : l'UAI 0021593 prend la lettre W."
    )
    assert input_value(wrong_key.text, "uai_autre") == "0021593X"
    empty = ec.post("/console/connexion", data={})
    assert field_error(empty.text, "uai_autre") == "Choisissez votre école ou saisissez son UAI."
    ec.post("/console/connexion", data={"uai_autre": "0021593w"})
    token = ec.cookies.get("ec_console") or ""
    assert token.startswith(f"ec-dir-{SCHOOL}-")
    api = ec.get("/api/v1/console/stats", headers={"Authorization": f"Bearer {token}"})
    assert api.json()["school_uai"] == SCHOOL  # the cookie holds the console API's token
    out = ec.post("/console/deconnexion")
    assert flash(out.text) == "Vous avez quitté la console."
    assert "ARENA" in text_of(out.text)
    assert ec.get("/console/statistiques").url.path == "/console"


def test_search_filters_and_scoping(ec: TestClient, ec_service: dict[str, str]) -> None:
    results = school_data(ec, ec_service)
    activate_by_sms(ec, ec_service)
    console_login(ec)
    everyone = text_of(ec.get("/console").text)
    for name in ("Martin Sophie", "Durand Paul", "Petit Anne"):
        assert name in everyone
    assert "Lemoine" not in everyone  # another school's parent
    by_name = text_of(ec.get("/console", params={"nom": "durand"}).text)
    assert "Durand Paul" in by_name
    assert "Martin" not in by_name
    active = text_of(ec.get("/console", params={"etat": "active"}).text)
    assert "Martin Sophie" in active
    assert "Durand" not in active
    by_origin = text_of(ec.get("/console", params={"origine": "Responsable"}).text)
    assert "Martin Sophie" in by_origin
    assert "Petit" not in by_origin
    by_class = text_of(ec.get("/console", params={"classe": "CP A"}).text)
    assert "Martin Sophie" in by_class
    assert "Durand" not in by_class
    identifiant = str(results[1]["identifiant"])
    by_id = ec.get("/console", params={"identifiant": identifiant.upper()})
    assert "Durand Paul" in text_of(by_id.text)
    assert "Martin" not in text_of(by_id.text)
    both = text_of(ec.get("/console", params={"identifiant": identifiant, "etat": "active"}).text)
    assert "Aucun responsable de votre école" in both
    other = str(results[3]["identifiant"])
    assert "Lemoine" not in text_of(ec.get("/console", params={"identifiant": other}).text)
    bad = ec.get("/console", params={"etat": "zombie", "nom": "x" * 200, "apres": "abc"})
    assert bad.status_code == 422
    assert field_error(bad.text, "etat") == "Choix invalide."
    assert field_error(bad.text, "nom") == "Ce texte est trop long."


def test_account_detail_and_another_school_is_out_of_reach(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    results = school_data(ec, ec_service)
    activate_by_sms(ec, ec_service)
    console_login(ec)
    sophie = ec.get(f"/console/comptes/{results[0]['account_id']}")
    assert sophie.status_code == 200
    detail = text_of(sophie.text)
    assert str(results[0]["identifiant"]) in detail
    assert re.search(r'id="detail-origin">Responsable<', sophie.text)
    assert re.search(r'id="detail-state">Activé<', sophie.text)
    assert re.search(r'id="detail-activated">01/09/2026 à 08:00<', sophie.text)
    assert re.search(r'id="detail-last-login">01/09/2026 à 08:00<', sophie.text)
    assert "Léa Martin" in detail
    assert "Proposé" in detail
    for target in (str(results[3]["account_id"]), "999999", "abc", "-1", "0"):
        away = ec.get(f"/console/comptes/{target}")
        assert away.status_code == 404, target
        assert "Lemoine" not in away.text
        assert "Aucun compte de votre école" in text_of(away.text)
        assert ec.post(f"/console/comptes/{target}/courrier").status_code == 404


def test_letter_is_printable_and_opens_the_account(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    results = school_data(ec, ec_service)
    console_login(ec)
    anne = results[2]
    printed = ec.post(f"/console/comptes/{anne['account_id']}/courrier")
    assert printed.status_code == 200
    password = re.search(r'id="letter-password">([^<]+)<', printed.text)
    assert password
    assert re.search(rf'id="letter-identifiant">{anne["identifiant"]}<', printed.text)
    assert re.search(r'id="letter-expires">2 décembre 2026<', printed.text)  # 92 days
    assert "@media print" in ec.get("/static-common/edusim.css").text
    assert 'class="no-print' in printed.text
    login = ec.post(
        "/api/v1/login",
        json={"identifiant": anne["identifiant"], "password": password.group(1)},
    )
    assert login.json()["step"] == "change_password"
    letters = ec.get("/api/v1/outbox", params={"channel": "letter"}, headers=ec_service).json()
    assert password.group(1) in letters[-1]["body"]


def test_a_letter_form_sent_again_prints_no_second_letter(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    """A reload of the printed letter (or « Retour ») posts its form again: that would print a
    new password and void the letter just handed over. The form carries the latest letter it
    knew of; sent again, it prints nothing and says so."""
    results = school_data(ec, ec_service)
    console_login(ec)
    account = results[2]["account_id"]
    page = ec.get(f"/console/comptes/{account}", headers={"accept": "text/html"}).text
    known = re.search(r'name="dernier_courrier" value="(\d+)"', page)
    assert known
    form = {"dernier_courrier": known.group(1)}
    printed = ec.post(f"/console/comptes/{account}/courrier", data=form)
    assert 'id="letter-password"' in printed.text
    letters = ec.get("/api/v1/outbox", params={"channel": "letter"}, headers=ec_service).json()
    for path in ("courrier", "reinitialiser"):
        again = ec.post(f"/console/comptes/{account}/{path}", data=form, follow_redirects=False)
        assert again.status_code == 303, path
        assert again.headers["location"] == f"/console/comptes/{account}"
        shown = ec.get(again.headers["location"], headers={"accept": "text/html"}).text
        assert "Aucun nouveau courrier : ce formulaire avait déjà servi" in html.unescape(shown)
    after = ec.get("/api/v1/outbox", params={"channel": "letter"}, headers=ec_service).json()
    assert after == letters  # nothing printed again, the password handed over still works
    fresh = re.search(
        r'name="dernier_courrier" value="(\d+)"',
        ec.get(f"/console/comptes/{account}", headers={"accept": "text/html"}).text,
    )
    assert fresh
    assert int(fresh.group(1)) > int(known.group(1))  # the page shown again allows a new one


def test_reset_of_a_self_activated_account_asks_for_confirmation(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    results = school_data(ec, ec_service)
    activate_by_sms(ec, ec_service)
    console_login(ec)
    sophie = results[0]["account_id"]
    warned = ec.post(f"/console/comptes/{sophie}/reinitialiser")
    assert warned.status_code == 200
    assert 'id="reset-warning"' in warned.text
    assert "en toute autonomie" in text_of(warned.text)
    assert 'href="/mot-de-passe-oublie"' in warned.text
    assert 'href="/identifiant-oublie"' in warned.text
    still = ec.post(
        "/api/v1/login", json={"identifiant": results[0]["identifiant"], "password": "Soleil2026"}
    )
    assert still.status_code == 200  # nothing changed without the confirmation
    letter_first = ec.post(f"/console/comptes/{sophie}/courrier")
    assert 'id="letter-confirm"' in letter_first.text
    done = ec.post(f"/console/comptes/{sophie}/reinitialiser", data={"confirm": "1"})
    assert 'id="letter-password"' in done.text
    assert "Mot de passe réinitialisé" in text_of(done.text)
    old = ec.post(
        "/api/v1/login", json={"identifiant": results[0]["identifiant"], "password": "Soleil2026"}
    )
    assert old.status_code == 401


def test_unblock_then_attach_by_hand(ec: TestClient, ec_service: dict[str, str]) -> None:
    results = school_data(ec, ec_service)
    session = activate_by_sms(ec, ec_service)
    (proposal,) = ec.get("/api/v1/me/proposals", headers=bearer(session)).json()
    attachment = proposal["attachment_id"]
    ec.post(
        f"/api/v1/me/proposals/{attachment}/confirm",
        json={"birth_date": "2000-01-01"},
        headers=bearer(session),
    )
    console_login(ec)
    account = f"/console/comptes/{results[0]['account_id']}"
    blocked = ec.get(account)
    assert "Bloqué" in text_of(blocked.text)
    assert f'id="unblock-{attachment}"' in blocked.text
    unblocked = ec.post(f"/console/rattachements/{attachment}/debloquer")
    assert unblocked.url.path == account
    assert "est débloqué" in (flash(unblocked.text) or "")
    assert "Sera proposé à la prochaine connexion" in text_of(unblocked.text)
    parent_login = ec.post(
        "/login", data={"identifiant": results[0]["identifiant"], "password": "Soleil2026"}
    )
    assert proposal_ids(parent_login.text) == [attachment]  # proposed again at the next login
    attached = ec.post(f"/console/rattachements/{attachment}/rattacher")
    assert flash(attached.text) == "Léa est rattaché(e) à ce compte par l'école."
    assert "Rattaché par l'école" in text_of(attached.text)
    again = ec.post(f"/console/rattachements/{attachment}/rattacher")
    assert flash(again.text) == "Léa est déjà rattaché(e) à ce compte."
    nothing = ec.post(f"/console/rattachements/{attachment}/debloquer")
    assert flash(nothing.text) == "Le rattachement de Léa n'est pas à débloquer."


def test_a_director_cannot_act_on_another_schools_attachment(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    results = school_data(ec, ec_service)
    other = ec.get(f"/api/v1/accounts/{results[3]['account_id']}", headers=ec_service).json()
    attachment = other["attachments"][0]["id"]
    console_login(ec)
    for action in ("debloquer", "rattacher"):
        refused = ec.post(f"/console/rattachements/{attachment}/{action}")
        assert refused.status_code == 404
        assert "Jules" not in refused.text
    for garbage in ("abc", "0", "12345678901"):
        assert ec.post(f"/console/rattachements/{garbage}/rattacher").status_code == 404
    after = ec.get(f"/api/v1/accounts/{results[3]['account_id']}", headers=ec_service).json()
    assert after["attachments"][0]["status"] == "proposed"


def test_statistics_by_origin_with_bars(ec: TestClient, ec_service: dict[str, str]) -> None:
    school_data(ec, ec_service)
    activate_by_sms(ec, ec_service)
    console_login(ec)
    stats = ec.get("/console/statistiques")
    assert stats.status_code == 200
    assert re.search(r'id="stats-activated">1<', stats.text)
    assert re.search(r'id="stats-accounts">3<', stats.text)
    assert re.search(r'id="stats-rate">33 %<', stats.text)
    row = re.search(r'<tr id="by-origin-Responsable">(.*?)</tr>', stats.text, re.S)
    assert row
    assert 'style="width: 33.3%"' in row.group(1)
    none = re.search(r'<tr id="by-origin-none">(.*?)</tr>', stats.text, re.S)
    assert none
    assert "Non activé" in none.group(1)
    assert "<script" not in stats.text


def test_the_school_reads_the_refusals_on_the_console(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    school_data(ec, ec_service)
    session = activate_by_sms(ec, ec_service)
    (proposal,) = ec.get("/api/v1/me/proposals", headers=bearer(session)).json()
    ec.post(f"/api/v1/me/proposals/{proposal['attachment_id']}/refuse", headers=bearer(session))
    console_login(ec)
    home = ec.get("/console").text
    assert 'id="school-messages"' in home
    assert "Rattachement refusé par un responsable" in text_of(home)
    console_login(ec, OTHER_SCHOOL)
    assert 'id="school-messages"' not in ec.get("/console").text
