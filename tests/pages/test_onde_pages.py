"""The director's ONDE pages: simulated login, dashboard, pupil, admission, responsables."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from fake_onde.pages import school as school_pages
from tests.conftest import DEMO_UAI, make_school
from tests.sync.onde_steps import add_parent, admit_pupil

HTML = {"accept": "text/html"}
OTHER_UAI = "0000001B"
TOMORROW = "mercredi 2 septembre 2026"  # the default clock starts on Tuesday 1 September 2026
J_PLUS_1 = "Visible dans EduConnect demain (après la synchronisation de la nuit)"


async def _no_sync(request: Request) -> dict[str, Any] | None:
    return None  # the bar falls back to ONDE's own clock, whatever runs on this machine


@pytest.fixture
def site(onde: TestClient, director: dict[str, str]) -> TestClient:
    """ONDE with the demo school, its pages' bar cut from any running sync."""
    onde.app.state.simbar_source = _no_sync  # type: ignore[attr-defined]
    return onde


def login(client: TestClient, uai: str = DEMO_UAI) -> None:
    answer = client.post("/connexion", data={"uai": uai}, headers=HTML, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def text(answer: Any) -> str:
    """The page with entities decoded, for plain-text assertions."""
    return html.unescape(str(answer.text))


def field_error(page: str, name: str) -> str:
    found = re.search(rf'id="e-{name}">([^<]*)<', page)
    assert found, f"no error next to {name}"
    return html.unescape(found.group(1))


def flash(page: str) -> str:
    found = re.search(r'class="flash[ "][^>]*>([^<]*)<', page)
    assert found, "no flash message"
    return html.unescape(found.group(1))


def pupils_of_school(client: TestClient, director: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(
        "/api/v1/pupils", params={"school": DEMO_UAI}, headers=director
    ).json()["items"]
    return items


ADMISSION = {
    "nom": "Lefèvre",
    "prenoms": "Léa",
    "sex": "F",
    "birth_date": "2019-05-02",
    "birth_place": "59350",
    "level": "CP",
    "state": "admis",
    "r1_civility": "MME",
    "r1_nom": "Lefèvre",
    "r1_prenom": "Anne",
    "r1_lien": "mere",
    "r1_autorite": "on",
    "r1_mobile": "06 98 76 54 32",
    "r1_accepts_sms": "on",
    "r1_email": "anne.lefevre@example.org",
}


# ------------------------------------------------------------------ login


def test_login_page_explains_the_simulated_authentication(site: TestClient) -> None:
    answer = site.get("/", headers=HTML)
    assert answer.status_code == 200
    page = text(answer)
    assert "Connexion directeur — simulation" in page
    assert "ARENA" in page
    assert "École Jean Jaurès — Lille (0021593W)" in page
    assert 'id="login-submit"' in page


def test_login_sets_an_onde_cookie_and_opens_the_school(site: TestClient) -> None:
    answer = site.post("/connexion", data={"uai": DEMO_UAI}, follow_redirects=False)
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "onde_director=" in c)
    assert "onde-dir-0021593W-" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    home = text(site.get("/", headers=HTML))
    assert "Connecté comme directeur : École Jean Jaurès (0021593W)" in flash(home)
    assert 'id="school-uai">0021593W<' in home
    assert (
        '<span><strong id="school-name">École Jean Jaurès</strong>' in home
    )  # not « École École »


def test_login_refusals_are_in_french(site: TestClient) -> None:
    empty = site.post("/connexion", data={"uai": ""}, headers=HTML)
    assert empty.status_code == 422
    assert field_error(empty.text, "uai") == "Choisissez votre école."
    unknown = site.post("/connexion", data={"uai": "9999999Z'<"}, headers=HTML)
    assert unknown.status_code == 422
    assert "Aucune école d'UAI" in field_error(unknown.text, "uai")
    assert "onde_director" not in site.cookies


def test_a_forged_cookie_is_no_director(site: TestClient) -> None:
    site.cookies.set("onde_director", "onde-dir-0021593W-forged")
    assert "Connexion directeur — simulation" in text(site.get("/", headers=HTML))
    refused = site.get("/eleves/1", headers=HTML)
    assert refused.status_code == 401
    assert "Connectez-vous d'abord" in text(refused)


def test_logout_forgets_the_director(site: TestClient) -> None:
    login(site)
    answer = site.post("/deconnexion", headers=HTML)
    assert "Vous êtes déconnecté." in flash(answer.text)
    assert "Connexion directeur — simulation" in text(answer)


# ------------------------------------------------------------------ dashboard


def test_dashboard_shows_classes_counts_and_pupils(
    site: TestClient, director: dict[str, str]
) -> None:
    made = site.post(
        f"/api/v1/schools/{DEMO_UAI}/classes",
        json={"label": "CP Mme Durand", "levels": ["CP"]},
        headers=director,
    ).json()
    lea = admit_pupil(site, director, class_id=made["id"])
    add_parent(site, director, lea["id"], mobile=None)
    admit_pupil(site, director, prenoms="Tom", birth_date="2018-04-04", sex="M")
    login(site)
    page = text(site.get("/", headers=HTML))
    assert "<h1>École Jean Jaurès</h1>" in page
    assert "UAI 0021593W · Lille · académie de Lille" in page
    assert re.search(r'id="count-total">2</strong> élèves<', page)
    assert re.search(r'id="count-responsables">1</strong> responsable\s', page)
    assert "1 sans mobile" in page
    classes = page.split('id="classes"')[1].split("</table>")[0]
    assert "CP Mme Durand" in classes
    assert "Sans classe" in classes
    pupils = page.split('id="pupils"')[1].split("</table>")[0]
    assert f'href="/eleves/{lea["id"]}"' in pupils
    assert "03/02/2019" in pupils
    assert "admise" in pupils
    assert "Mme Sophie Martin" in pupils
    assert "sans mobile" in pupils


def test_dashboard_filters_by_class_state_and_name(
    site: TestClient, director: dict[str, str]
) -> None:
    made = site.post(
        f"/api/v1/schools/{DEMO_UAI}/classes",
        json={"label": "CE1 M. Petit", "levels": ["CE1"]},
        headers=director,
    ).json()
    admit_pupil(site, director, nom="Bernard", prenoms="Inès", level="CE1", class_id=made["id"])
    admit_pupil(site, director, nom="Lefèvre", prenoms="Zoé", birth_date="2018-01-01")
    site.post(
        f"/api/v1/schools/{DEMO_UAI}/pupils",
        json={
            "nom": "Durand",
            "prenoms": "Noé",
            "sex": "M",
            "birth_date": "2019-07-07",
            "birth_place": "59350",
            "level": "CP",
        },
        headers=director,
    )
    login(site)

    def names(**params: str) -> list[str]:
        page = text(site.get("/", params=params, headers=HTML))
        table = page.split('id="pupils"')[1].split("</table>")[0]
        return re.findall(r'id="pupil-\d+">([^<]+)<', table)

    assert names() == ["Bernard", "Lefèvre", "Durand"]
    assert names(classe=str(made["id"])) == ["Bernard"]
    assert names(etat="inscrit") == ["Durand"]
    assert names(nom="lefe") == ["Lefèvre"]  # accent-insensitive prefix
    assert names(nom="zoe") == ["Lefèvre"]
    assert names(nom="personne") == []
    kept = text(site.get("/", params={"nom": "lefe", "etat": "admis"}, headers=HTML))
    assert 'value="lefe"' in kept
    assert '<option value="admis" selected>' in kept


def test_dashboard_pages_through_the_pupils(
    site: TestClient, director: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(school_pages, "LIST_PAGE_SIZE", 2)
    for index, first in enumerate(("Ana", "Bea", "Cyl", "Dan", "Eve")):
        admit_pupil(site, director, prenoms=first, birth_date=f"2018-0{index + 1}-01")
    login(site)
    seen: list[str] = []
    url = "/?etat=admis"
    for _ in range(5):
        page = text(site.get(url, headers=HTML))
        seen += re.findall(r"<td>(Ana|Bea|Cyl|Dan|Eve)</td>", page)
        found = re.search(r'href="([^"]+)" id="next-page"', page)
        if found is None:
            break
        url = html.unescape(found.group(1))
        assert "etat=admis" in url  # the filters follow the pages
    assert seen == ["Ana", "Bea", "Cyl", "Dan", "Eve"]


def test_dashboard_survives_garbage_filters(site: TestClient) -> None:
    login(site)
    for params in (
        {"etat": "zz", "classe": "abc", "apres": "-1"},
        {"classe": "99999999999999999999", "apres": "99999999999999999999"},
        {"nom": "x" * 300},
        {"nom": "%_\\'\""},
    ):
        answer = site.get("/", params=params, headers=HTML)
        assert answer.status_code == 200, params
    assert "Filtre ignoré" in text(site.get("/?etat=zz", headers=HTML))


# ------------------------------------------------------------------ pupil page


def test_pupil_page_shows_identity_state_and_responsables(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    mother = add_parent(
        site,
        director,
        lea["id"],
        email="sophie.martin@example.org",
        home_phone="03 20 12 34 56",
        accepts_sms=False,
        address={"line1": "12 rue des Tilleuls", "postal_code": "59000", "city": "Lille"},
    )
    add_parent(site, director, lea["id"], civility="M", prenom="Paul", lien="pere", mobile=None)
    login(site)
    answer = site.get(f"/eleves/{lea['id']}", headers=HTML)
    assert answer.status_code == 200
    page = text(answer)
    assert 'id="pupil-name">Léa Martin<' in page
    assert f'id="pupil-ine">{lea["ine"]}<' in page
    assert 'id="pupil-birth-date">03/02/2019<' in page
    assert 'id="pupil-state">admise<' in page
    assert "depuis le 01/09/2026" in page
    assert 'id="state-admis_definitif">Admettre définitivement<' in page
    assert 'id="state-radie">Radier à la date du 01/09/2026<' in page
    block = page.split(f'id="resp-{mother["id"]}"')[1].split("</article>")[0]
    assert "Mme Sophie Martin" in block
    assert "<td>Mère</td>" in block
    assert "06 12 34 56 78 — <strong>n'accepte pas les SMS</strong>" in block
    assert "03 20 12 34 56" in block
    assert "sophie.martin@example.org" in block
    assert "12 rue des Tilleuls, 59000 Lille" in block
    assert f"/timeline/{mother['id']}" in block
    assert "aucun mobile" in page  # the father has none
    assert 'id="add-resp"' in page


def test_striking_off_says_when_educonnect_sees_it(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    add_parent(site, director, lea["id"])
    login(site)
    asked = site.post(f"/eleves/{lea['id']}/etat", data={"etat": "radie"}, headers=HTML)
    assert 'id="confirm-submit"' in asked.text  # asked first (tests/pages/test_onde_confirmations)
    answer = site.post(
        f"/eleves/{lea['id']}/etat", data={"etat": "radie", "confirm": "1"}, headers=HTML
    )
    assert answer.status_code == 200
    message = flash(answer.text)
    assert "Léa Martin est maintenant radiée." in message
    assert f"{J_PLUS_1}, le {TOMORROW} : Léa y est retirée des comptes" in message
    page = text(answer)
    assert 'id="pupil-state">radiée<' in page
    assert "Réinscrire (retour de l'élève)" in page
    api = site.get(f"/api/v1/pupils/{lea['id']}", headers=director).json()
    assert api["state"] == "radie"


def test_illegal_or_garbage_transitions_are_refused_in_french(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    login(site)
    illegal = site.post(f"/eleves/{lea['id']}/etat", data={"etat": "en_attente"}, headers=HTML)
    assert illegal.status_code == 409
    assert "n'est pas permis depuis l'état actuel" in text(illegal)
    garbage = site.post(f"/eleves/{lea['id']}/etat", data={"etat": "<script>"}, headers=HTML)
    assert garbage.status_code == 422
    assert "Choisissez un état" in text(garbage)
    assert site.get(f"/api/v1/pupils/{lea['id']}", headers=director).json()["state"] == "admis"


def test_readmitting_a_duplicate_is_refused_naming_the_other_record(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    site.post(f"/api/v1/pupils/{lea['id']}/state", json={"state": "radie"}, headers=director)
    twin = admit_pupil(site, director)  # the same child admitted again once struck off
    site.post(f"/api/v1/pupils/{lea['id']}/state", json={"state": "inscrit"}, headers=director)
    login(site)
    refused = site.post(f"/eleves/{lea['id']}/etat", data={"etat": "admis"}, headers=HTML)
    assert refused.status_code == 409
    assert "doublon" in text(refused)
    assert f"élève n° {twin['id']}" in text(refused)


# ------------------------------------------------------------------ admission


def test_admission_form_renders(site: TestClient) -> None:
    login(site)
    page = text(site.get("/eleves/admettre", headers=HTML))
    assert "<h1>Admettre un élève</h1>" in page
    assert 'id="admit-submit"' in page
    assert 'name="r2_mobile"' in page
    assert '<option value="famille_accueil">Famille d\'accueil</option>' in page


def test_admission_with_two_responsables(site: TestClient, director: dict[str, str]) -> None:
    login(site)
    form = ADMISSION | {
        "birth_date": "02/05/2019",  # the French way works too
        "r2_civility": "M",
        "r2_nom": "Lefèvre",
        "r2_prenom": "Marc",
        "r2_lien": "pere",
        "r2_autorite": "on",
        "r2_mobile": "+33 6 11 22 33 44",
    }
    answer = site.post("/eleves/admettre", data=form, headers=HTML)
    assert answer.status_code == 200
    message = flash(answer.text)
    assert message.startswith("Léa Lefèvre : admise avec 2 responsables (INE ")
    assert f"{J_PLUS_1}, le {TOMORROW}." in message
    [pupil] = pupils_of_school(site, director)
    assert pupil["birth_date"] == "2019-05-02"
    assert pupil["state"] == "admis"
    links = site.get(f"/api/v1/pupils/{pupil['id']}/responsables", headers=director).json()
    assert sorted((x["lien"], x["autorite_parentale"]) for x in links) == [
        ("mere", True),
        ("pere", True),
    ]
    father = site.get(f"/api/v1/responsables/{links[1]['responsable_id']}", headers=director)
    assert father.json()["mobile"] == "+33611223344"
    assert father.json()["accepts_sms"] is False  # the box was not ticked


def test_admission_without_responsable_then_add_one(
    site: TestClient, director: dict[str, str]
) -> None:
    login(site)
    alone = {k: v for k, v in ADMISSION.items() if not k.startswith("r1_")}
    answer = site.post("/eleves/admettre", data=alone, headers=HTML)
    assert "Léa Lefèvre : admise (INE" in flash(answer.text)
    assert 'id="no-responsable"' in answer.text
    [pupil] = pupils_of_school(site, director)
    form = {"lien": "tuteur", "civility": "M", "nom": "Garnier", "prenom": "Luc"}
    added = site.post(f"/eleves/{pupil['id']}/responsables/ajouter", data=form, headers=HTML)
    assert "Luc Garnier est maintenant responsable de Léa Lefèvre." in flash(added.text)
    assert J_PLUS_1 not in flash(added.text)  # no parental authority: no account
    assert "Ce lien ne donne pas de compte EduConnect à Luc Garnier pour Léa" in flash(added.text)
    assert "Tuteur" in text(added)
    assert "Non" in text(added).split("Autorité parentale")[1][:60]  # box left unticked


def test_admission_errors_are_next_to_the_fields_values_kept_nothing_written(
    site: TestClient, director: dict[str, str]
) -> None:
    login(site)
    form = ADMISSION | {
        "nom": "",
        "prenoms": "L3a",
        "sex": "X",
        "birth_date": "pas une date",
        "birth_place": "abc",
        "r1_mobile": "03 20 12 34 56",
        "r1_email": "anne@",
        "r1_lien": "",
    }
    answer = site.post("/eleves/admettre", data=form, headers=HTML)
    assert answer.status_code == 422
    page = answer.text
    assert field_error(page, "nom") == "Ce champ est obligatoire."
    assert "lettres" in field_error(page, "prenoms")
    assert field_error(page, "sex") == "Choix invalide."
    assert "Date invalide" in field_error(page, "birth_date")
    assert "INSEE" in field_error(page, "birth_place")
    assert "pas un mobile" in field_error(page, "r1_mobile")
    assert "Adresse électronique invalide" in field_error(page, "r1_email")
    assert field_error(page, "r1_lien") == "Ce champ est obligatoire."
    assert 'value="L3a"' in page
    assert 'value="03 20 12 34 56"' in page
    assert pupils_of_school(site, director) == []
    # At the top, before the form, a summary links to each field: the errors far down the page
    # were unseen (the page comes back at its top)
    summary = page[
        page.index('id="error-summary"') : page.index("</div>", page.index('id="error-summary"'))
    ]
    assert page.index('id="error-summary"') < page.index('id="f-nom"')
    assert "Vérifiez le formulaire : 8 champs à corriger." in summary
    assert '<a href="#f-r1_mobile">' in summary
    assert "autofocus" in summary


def test_a_refused_responsable_leaves_no_pupil_behind(
    site: TestClient, director: dict[str, str]
) -> None:
    login(site)
    answer = site.post("/eleves/admettre", data=ADMISSION | {"r1_prenom": "4nne"}, headers=HTML)
    assert answer.status_code == 422
    assert "lettre" in field_error(answer.text, "r1_prenom")
    assert pupils_of_school(site, director) == []


def test_business_refusals_keep_the_form_and_write_nothing(
    site: TestClient, director: dict[str, str]
) -> None:
    other_class = site.post(
        f"/api/v1/schools/{DEMO_UAI}/classes",
        json={"label": "CM2", "levels": ["CM2"]},
        headers=director,
    ).json()
    login(site)
    future = site.post("/eleves/admettre", data=ADMISSION | {"birth_date": "2030-01-01"})
    assert future.status_code == 409
    assert field_error(future.text, "birth_date") == "La date de naissance est dans le futur."
    wrong_class = site.post(
        "/eleves/admettre", data=ADMISSION | {"class_id": str(other_class["id"])}
    )
    assert wrong_class.status_code == 409
    assert "n'accueille pas ce niveau" in field_error(wrong_class.text, "class_id")
    assert 'value="Lefèvre"' in wrong_class.text
    assert pupils_of_school(site, director) == []
    responsables = site.get("/api/v1/responsables", headers=director).json()["items"]
    assert responsables == []


def test_duplicate_admission_is_refused_in_french_and_nothing_half_written(
    site: TestClient, director: dict[str, str]
) -> None:
    login(site)
    first = site.post("/eleves/admettre", data=ADMISSION, headers=HTML)
    assert first.status_code == 200
    again = site.post("/eleves/admettre", data=ADMISSION | {"prenoms": "LÉA"}, headers=HTML)
    assert again.status_code == 409
    page = text(again)
    [pupil] = pupils_of_school(site, director)
    assert "Admission refusée : doublon." in page
    assert f"élève n° {pupil['id']}, INE {pupil['ine']}, école 0021593W, admis" in page
    assert 'value="LÉA"' in page
    responsables = site.get("/api/v1/responsables", headers=director).json()["items"]
    assert len(responsables) == 1  # the refused admission's mother was not recorded


# ------------------------------------------------------------------ responsables


def test_adding_an_existing_responsable_of_the_school(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    mother = add_parent(site, director, lea["id"])
    tom = admit_pupil(site, director, prenoms="Tom", sex="M", birth_date="2017-05-06")
    login(site)
    father = add_parent(site, director, lea["id"], civility="M", nom="Durand", prenom="Paul")
    zoe = add_parent(site, director, lea["id"], nom="Ébrard", prenom="Zoé", lien="autre")
    form_page = text(site.get(f"/eleves/{tom['id']}/responsables/ajouter", headers=HTML))
    assert f'<option value="{mother["id"]}">Mme Sophie Martin</option>' in form_page
    # alphabetical, accents aside (they came in the order recorded)
    offered = re.findall(r'<option value="(\d+)">(?:Mme|M\.) ', form_page)
    assert offered == [str(father["id"]), str(zoe["id"]), str(mother["id"])]
    answer = site.post(
        f"/eleves/{tom['id']}/responsables/ajouter",
        data={"existant": str(mother["id"]), "lien": "mere", "autorite": "on"},
        headers=HTML,
    )
    assert "Sophie Martin est maintenant responsable de Tom Martin." in flash(answer.text)
    links = site.get(f"/api/v1/responsables/{mother['id']}/pupils", headers=director).json()
    assert sorted(x["pupil_id"] for x in links) == [lea["id"], tom["id"]]
    twice = site.post(
        f"/eleves/{tom['id']}/responsables/ajouter",
        data={"existant": str(mother["id"]), "lien": "mere"},
        headers=HTML,
    )
    assert twice.status_code == 409
    assert "Ce responsable est déjà lié à cet élève." in text(twice)


def test_adding_a_responsable_needs_a_link_and_valid_data(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    login(site)
    url = f"/eleves/{lea['id']}/responsables/ajouter"
    missing = site.post(url, data={"nom": "Martin", "prenom": "Paul"}, headers=HTML)
    assert missing.status_code == 422
    assert field_error(missing.text, "lien") == "Ce champ est obligatoire."
    assert field_error(missing.text, "civility") == "Ce champ est obligatoire."
    assert 'value="Paul"' in missing.text
    stranger = site.post(url, data={"existant": "999", "lien": "pere"}, headers=HTML)
    assert stranger.status_code == 422
    assert "Responsable inconnu dans votre école." in text(stranger)
    assert site.get("/api/v1/responsables", headers=director).json()["items"] == []


def test_editing_a_responsable_normalises_the_phone(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    mother = add_parent(site, director, lea["id"], mobile=None)
    login(site)
    url = f"/responsables/{mother['id']}/modifier"
    form = text(site.get(url, params={"eleve": lea["id"]}, headers=HTML))
    assert "Coordonnées de Mme Sophie Martin" in form
    assert 'id="contact-submit"' in form
    answer = site.post(
        url,
        data={
            "mobile": "06.98.76.54.32",
            "accepts_sms": "on",
            "email": "sophie@example.org",
            "eleve": str(lea["id"]),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/eleves/{lea['id']}"
    shown = site.get(answer.headers["location"], headers=HTML)
    message = flash(shown.text)
    assert "Coordonnées de Sophie Martin enregistrées." in message
    assert f"{J_PLUS_1}, le {TOMORROW}." in message
    assert "06 98 76 54 32 — accepte les SMS" in text(shown)
    stored = site.get(f"/api/v1/responsables/{mother['id']}", headers=director).json()
    assert stored["mobile"] == "+33698765432"
    assert stored["email"] == "sophie@example.org"
    assert stored["accepts_sms"] is True
    again = text(site.get(url, headers=HTML))
    assert 'value="06 98 76 54 32"' in again


def test_editing_refusals_keep_the_values(site: TestClient, director: dict[str, str]) -> None:
    lea = admit_pupil(site, director)
    mother = add_parent(site, director, lea["id"])
    login(site)
    answer = site.post(
        f"/responsables/{mother['id']}/modifier",
        data={"mobile": "03 20 12 34 56", "email": "pas-un-courriel", "home_phone": "12"},
        headers=HTML,
    )
    assert answer.status_code == 422
    assert "pas un mobile" in field_error(answer.text, "mobile")
    assert "Adresse électronique invalide" in field_error(answer.text, "email")
    assert "Numéro de téléphone invalide" in field_error(answer.text, "home_phone")
    assert 'value="pas-un-courriel"' in answer.text
    stored = site.get(f"/api/v1/responsables/{mother['id']}", headers=director).json()
    assert stored["mobile"] == "+33612345678"


def test_clearing_the_mobile_and_refusing_sms(site: TestClient, director: dict[str, str]) -> None:
    lea = admit_pupil(site, director)
    mother = add_parent(site, director, lea["id"])
    login(site)
    site.post(f"/responsables/{mother['id']}/modifier", data={"mobile": ""}, headers=HTML)
    stored = site.get(f"/api/v1/responsables/{mother['id']}", headers=director).json()
    assert stored["mobile"] is None
    assert stored["accepts_sms"] is False


def test_unlinking_a_responsable(site: TestClient, director: dict[str, str]) -> None:
    lea = admit_pupil(site, director)
    mother = add_parent(site, director, lea["id"])
    login(site)
    url = f"/eleves/{lea['id']}/responsables/{mother['id']}/retirer"
    answer = site.post(url, data={"confirm": "1"}, headers=HTML)
    assert "Sophie Martin n'est plus responsable de Léa Martin." in flash(answer.text)
    assert site.get(f"/api/v1/pupils/{lea['id']}/responsables", headers=director).json() == []
    again = site.post(url, data={"confirm": "1"}, headers=HTML)
    assert again.status_code == 404
    assert "n'est pas (ou plus) responsable" in text(again)


# ------------------------------------------------------------------ scoping, garbage


def test_a_director_never_sees_another_school(site: TestClient, director: dict[str, str]) -> None:
    stranger = make_school(site, OTHER_UAI, name="École du Centre")
    theirs = admit_pupil_in(site, stranger)
    their_parent = site.post(
        f"/api/v1/schools/{OTHER_UAI}/responsables",
        json={"civility": "M", "nom": "Roux", "prenom": "Jean"},
        headers=stranger,
    ).json()
    mine = admit_pupil(site, director)
    login(site)
    page = text(site.get("/", headers=HTML))
    assert "Roux" not in page
    assert "École du Centre" not in page.split("<main>")[1]
    for method, url in (
        ("GET", f"/eleves/{theirs['id']}"),
        ("POST", f"/eleves/{theirs['id']}/etat"),
        ("GET", f"/eleves/{theirs['id']}/responsables/ajouter"),
        ("GET", f"/responsables/{their_parent['id']}/modifier"),
        ("POST", f"/responsables/{their_parent['id']}/modifier"),
        ("POST", f"/eleves/{mine['id']}/responsables/{their_parent['id']}/retirer"),
    ):
        answer = site.request(method, url, data={"etat": "radie"}, headers=HTML)
        assert answer.status_code == 403, (method, url)
        assert "votre école" in text(answer)
        assert "Traceback" not in answer.text
    linked = site.post(
        f"/eleves/{mine['id']}/responsables/ajouter",
        data={"existant": str(their_parent["id"]), "lien": "pere"},
        headers=HTML,
    )
    assert linked.status_code == 422
    assert site.get(f"/api/v1/pupils/{theirs['id']}", headers=stranger).json()["state"] == "admis"


def admit_pupil_in(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    body = {
        "nom": "Roux",
        "prenoms": "Lou",
        "sex": "F",
        "birth_date": "2018-08-08",
        "birth_place": "59350",
        "level": "CE1",
        "state": "admis",
    }
    answer = client.post(f"/api/v1/schools/{OTHER_UAI}/pupils", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def test_pages_need_a_director(site: TestClient) -> None:
    for url in ("/eleves/admettre", "/eleves/1", "/responsables/1/modifier"):
        answer = site.get(url, headers=HTML)
        assert answer.status_code == 401, url
        assert "Connectez-vous d'abord" in text(answer)


def test_no_500_on_garbage(site: TestClient, director: dict[str, str]) -> None:
    lea = admit_pupil(site, director)
    login(site)
    for url in (
        "/eleves/abc",
        "/eleves/0",
        "/eleves/99999999999999999999",
        "/eleves/-1",
        "/responsables/abc/modifier",
        f"/eleves/{lea['id']}/responsables/abc/retirer",
    ):
        answer = site.get(url, headers=HTML)
        assert answer.status_code in (404, 405), url
        assert "Traceback" not in answer.text
    for data in (
        {"nom": "\x00", "birth_date": "31/02/2019"},
        {"class_id": "abc", "level": "ZZ", "state": "radie"},
        {"class_id": "99999999999999", "r1_nom": "x" * 500, "r2_mobile": "+"},
    ):
        answer = site.post("/eleves/admettre", data=ADMISSION | data, headers=HTML)
        assert 400 <= answer.status_code < 500, data
        assert "Traceback" not in answer.text
    weird = site.post(
        f"/responsables/{lea['id']}/modifier", data={"mobile": "\x00" * 40}, headers=HTML
    )
    assert 400 <= weird.status_code < 500


def test_changes_after_the_last_run_are_marked_for_tomorrow(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    add_parent(site, director, lea["id"])

    async def after_a_night(request: Request) -> dict[str, Any] | None:
        run = {"id": 1, "kind": "nightly", "status": "succeeded", "dry_run": False}
        run |= {"cutoff": "2026-08-31T21:59:59.999999Z", "counts": {}}
        clock = {"now": "2026-09-01T06:00:00Z", "mode": "manual"}
        return {"clock": clock, "last_run": run}

    site.app.state.simbar_source = after_a_night  # type: ignore[attr-defined]
    login(site)
    page = text(site.get(f"/eleves/{lea['id']}", headers=HTML))
    assert 'id="pupil-pending"' in page
    assert "Pas encore transmis à EduConnect" in page
    assert "Synchronisation nocturne n° 1 : réussie" in page  # the bar


# Digits to ``str.isdigit`` that are not ASCII: ``²`` (``int`` refuses it: it was a 500),
# Arabic-Indic and full-width one (``int`` reads them as 1: they opened record 1).
NOT_ASCII_DIGITS = ("²", "١", "１", "1" * 5000)


def test_ids_and_filters_take_ascii_digits_only(site: TestClient, director: dict[str, str]) -> None:
    made = site.post(
        f"/api/v1/schools/{DEMO_UAI}/classes",
        json={"label": "CP Mme Durand", "levels": ["CP"]},
        headers=director,
    ).json()
    assert made["id"] == 1
    lea = admit_pupil(site, director, class_id=1)
    mother = add_parent(site, director, lea["id"])
    assert lea["id"] == mother["id"] == 1
    login(site)
    for raw in NOT_ASCII_DIGITS:
        for url in (f"/eleves/{raw}", f"/responsables/{raw}/modifier"):
            answer = site.get(url, headers=HTML)
            assert answer.status_code == 404, (url[:30], answer.status_code)
            assert "Aucun " in text(answer)
        listed = site.get("/", params={"classe": raw, "apres": raw}, headers=HTML)
        assert listed.status_code == 200
        assert "Filtre ignoré (valeur invalide) : classe." in text(listed)
        saved = site.post(
            f"/responsables/{mother['id']}/modifier",
            data={"mobile": "06 12 34 56 78", "accepts_sms": "on", "eleve": raw},
            headers=HTML,
            follow_redirects=False,
        )
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == "/"  # not back to pupil 1


def test_a_birth_date_in_other_digits_is_refused_in_french(site: TestClient) -> None:
    login(site)
    for typed in ("٠٢/٠٥/٢٠١٩", "０２/０５/２０１９", "02/05/２０19"):
        answer = site.post("/eleves/admettre", data=ADMISSION | {"birth_date": typed}, headers=HTML)
        assert answer.status_code == 422, typed
        assert field_error(answer.text, "birth_date")
        assert f'value="{typed}"' in answer.text
