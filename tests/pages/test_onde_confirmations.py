"""A trainer's review of the director's ONDE pages: destructive buttons ask first, messages say
truthfully what EduConnect will see, sentences agree with the pupil, and a foster family is not
given parental authority by a box ticked by default."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.pages.test_onde_pages import (
    ADMISSION,
    HTML,
    J_PLUS_1,
    TOMORROW,
    _no_sync,
    field_error,
    flash,
    login,
    pupils_of_school,
    text,
)
from tests.sync.onde_steps import add_parent, admit_pupil, set_state


@pytest.fixture
def site(onde: TestClient, director: dict[str, str]) -> TestClient:
    """ONDE with the demo school, its pages' bar cut from any running sync, logged in."""
    onde.app.state.simbar_source = _no_sync  # type: ignore[attr-defined]
    return onde


def state_of(site: TestClient, director: dict[str, str], pupil_id: int) -> str:
    state: str = site.get(f"/api/v1/pupils/{pupil_id}", headers=director).json()["state"]
    return state


def links_of(site: TestClient, director: dict[str, str], pupil_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = site.get(
        f"/api/v1/pupils/{pupil_id}/responsables", headers=director
    ).json()
    return found


def confirm_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of a confirmation page's form."""
    form = re.search(
        r'<form method="post" action="([^"]+)" id="confirm-form">(.*?)</form>', page, re.S
    )
    assert form, "no confirmation form"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[2]))
    return form[1], fields


# ------------------------------------------------------------------ 1. confirmations


def test_striking_off_asks_first_and_its_own_form_does_it(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    add_parent(site, director, lea["id"])
    login(site)
    pupil_page = site.get(f"/eleves/{lea['id']}", headers=HTML).text
    assert 'id="state-radie">Radier à la date du 01/09/2026<' in pupil_page
    asked = site.post(f"/eleves/{lea['id']}/etat", data={"etat": "radie"}, headers=HTML)
    assert asked.status_code == 200
    page = text(asked)
    assert "Radier Léa Martin à la date du 01/09/2026 ?" in page
    assert "EduConnect retire Léa des comptes de ses responsables" in page
    assert f'href="/eleves/{lea["id"]}" class="button secondary" id="confirm-cancel"' in page
    assert state_of(site, director, lea["id"]) == "admis"  # nothing written yet
    action, fields = confirm_form(asked.text)
    assert fields == {"etat": "radie", "confirm": "1"}
    done = site.post(action, data=fields, headers=HTML)
    assert "Léa Martin est maintenant radiée." in flash(done.text)
    assert state_of(site, director, lea["id"]) == "radie"


def test_a_wrong_confirm_value_still_only_asks(site: TestClient, director: dict[str, str]) -> None:
    lea = admit_pupil(site, director)
    login(site)
    for confirm in ("", "0", "on", "oui"):
        asked = site.post(
            f"/eleves/{lea['id']}/etat", data={"etat": "radie", "confirm": confirm}, headers=HTML
        )
        assert 'id="confirm-submit"' in asked.text, confirm
    assert state_of(site, director, lea["id"]) == "admis"
    # An illegal strike-off is refused as before, without a confirmation page.
    set_state(site, director, lea["id"], "radie")
    again = site.post(f"/eleves/{lea['id']}/etat", data={"etat": "radie"}, headers=HTML)
    assert again.status_code == 409
    assert "n'est pas permis" in text(again)


def test_unlinking_asks_first_and_its_own_form_does_it(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    mother = add_parent(site, director, lea["id"])
    login(site)
    url = f"/eleves/{lea['id']}/responsables/{mother['id']}/retirer"
    asked = site.post(url, headers=HTML)
    assert asked.status_code == 200
    page = text(asked)
    assert "Retirer Sophie Martin des responsables de Léa Martin ?" in page
    assert "Sophie Martin reste enregistrée dans ONDE" in page
    assert "EduConnect retire Léa du compte de Sophie Martin" in page
    assert len(links_of(site, director, lea["id"])) == 1  # nothing written yet
    action, fields = confirm_form(asked.text)
    assert (action, fields) == (url, {"confirm": "1"})
    done = site.post(action, data=fields, headers=HTML)
    message = flash(done.text)
    assert "Sophie Martin n'est plus responsable de Léa Martin." in message
    assert f"{J_PLUS_1}, le {TOMORROW} : Léa y est retirée du compte de Sophie Martin" in message
    assert links_of(site, director, lea["id"]) == []


def test_no_get_changes_anything(site: TestClient, director: dict[str, str]) -> None:
    lea = admit_pupil(site, director)
    mother = add_parent(site, director, lea["id"])
    login(site)
    for url in (
        f"/eleves/{lea['id']}/etat",
        f"/eleves/{lea['id']}/etat?etat=radie&confirm=1",
        f"/eleves/{lea['id']}/responsables/{mother['id']}/retirer?confirm=1",
    ):
        assert site.get(url, headers=HTML).status_code == 405, url
    assert state_of(site, director, lea["id"]) == "admis"
    assert len(links_of(site, director, lea["id"])) == 1


# ------------------------------------------------------------------ 2. truthful messages


def test_taking_a_pupil_back_says_she_needs_admitting_with_the_button_at_hand(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    add_parent(site, director, lea["id"])
    set_state(site, director, lea["id"], "radie")
    login(site)
    back = site.post(f"/eleves/{lea['id']}/etat", data={"etat": "inscrit"}, headers=HTML)
    message = flash(back.text)
    assert "Visible dans EduConnect" not in message
    assert message.startswith("Léa Martin : élève réinscrite (inscrite).")
    assert "Ses responsables n'auront un compte EduConnect qu'une fois l'élève admise" in message
    assert 'id="notice-admit">Admettre Léa<' in back.text  # the next step, at hand
    admitted = site.post(f"/eleves/{lea['id']}/etat", data={"etat": "admis"}, headers=HTML)
    assert f"Léa Martin est maintenant admise. {J_PLUS_1}, le {TOMORROW}." in flash(admitted.text)
    assert 'id="notice-admit"' not in admitted.text


def test_state_changes_educonnect_never_sees_promise_nothing(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    add_parent(site, director, lea["id"])
    login(site)
    final = site.post(f"/eleves/{lea['id']}/etat", data={"etat": "admis_definitif"}, headers=HTML)
    message = flash(final.text)
    assert message.startswith("Léa Martin est maintenant admise définitivement.")
    assert "Rien ne change dans EduConnect" in message
    assert "Visible dans EduConnect" not in message
    tom = site.post(
        "/eleves/admettre",
        data={k: v for k, v in ADMISSION.items() if not k.startswith("r1_")}
        | {"prenoms": "Tom", "sex": "M", "state": "en_attente"},
        headers=HTML,
    )
    waiting = flash(tom.text)
    assert "Visible dans EduConnect" not in waiting
    assert "qu'une fois l'élève admis (bouton « Admettre »)" in waiting
    [tom_id] = [p["id"] for p in pupils_of_school(site, director) if p["prenoms"] == "Tom"]
    registered = site.post(f"/eleves/{tom_id}/etat", data={"etat": "inscrit"}, headers=HTML)
    assert "Visible dans EduConnect" not in flash(registered.text)
    struck = site.post(
        f"/eleves/{tom_id}/etat", data={"etat": "radie", "confirm": "1"}, headers=HTML
    )
    assert "Tom Lefèvre est maintenant radié. Rien ne change dans EduConnect" in flash(struck.text)


def test_admitting_without_an_entitled_responsable_promises_no_account(
    site: TestClient, director: dict[str, str]
) -> None:
    tom = admit_pupil(site, director, prenoms="Tom", sex="M")
    set_state(site, director, tom["id"], "radie")
    set_state(site, director, tom["id"], "inscrit")
    add_parent(site, director, tom["id"], lien="tuteur", autorite_parentale=False)
    login(site)
    admitted = site.post(f"/eleves/{tom['id']}/etat", data={"etat": "admis"}, headers=HTML)
    message = flash(admitted.text)
    assert "Visible dans EduConnect" not in message
    assert "personne ne recevra de compte EduConnect pour lui" in message


def test_a_change_that_gives_no_account_is_a_warning_not_a_success(
    site: TestClient, director: dict[str, str]
) -> None:
    tom = admit_pupil(site, director, prenoms="Tom", sex="M")
    set_state(site, director, tom["id"], "radie")
    set_state(site, director, tom["id"], "inscrit")
    login(site)
    admitted = site.post(f"/eleves/{tom['id']}/etat", data={"etat": "admis"}, headers=HTML)
    assert "personne ne recevra de compte EduConnect" in flash(admitted.text)
    assert '<p class="flash flash-warning" role="status">' in admitted.text  # orange
    assert "flash-success" not in admitted.text  # not green


def test_edits_educonnect_never_sees_promise_nothing(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    foster = add_parent(site, director, lea["id"], lien="famille_accueil", prenom="Nadia")
    login(site)
    saved = site.post(
        f"/responsables/{foster['id']}/modifier",
        data={"mobile": "06 98 76 54 32", "eleve": str(lea["id"])},
        headers=HTML,
    )
    message = flash(saved.text)
    assert message.startswith("Coordonnées de Nadia Martin enregistrées.")
    assert "Visible dans EduConnect" not in message
    assert "famille d'accueil" in message
    added = site.post(
        f"/eleves/{lea['id']}/responsables/ajouter",
        data={"lien": "pere", "civility": "M", "nom": "Martin", "prenom": "Paul"},  # no authority
        headers=HTML,
    )
    assert "Visible dans EduConnect" not in flash(added.text)
    assert "Ce lien ne donne pas de compte EduConnect à Paul Martin pour Léa" in flash(added.text)
    unlinked = site.post(
        f"/eleves/{lea['id']}/responsables/{foster['id']}/retirer",
        data={"confirm": "1"},
        headers=HTML,
    )
    assert "Visible dans EduConnect" not in flash(unlinked.text)
    assert "Rien ne change dans EduConnect" in flash(unlinked.text)
    mother = site.post(
        f"/eleves/{lea['id']}/responsables/ajouter",
        data={"lien": "mere", "autorite": "on", "civility": "MME", "nom": "Martin"}
        | {"prenom": "Sophie"},
        headers=HTML,
    )
    assert f"{J_PLUS_1}, le {TOMORROW}." in flash(mother.text)


def test_the_pupil_page_promises_tomorrow_only_what_educonnect_sees(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    add_parent(site, director, lea["id"])
    set_state(site, director, lea["id"], "radie")
    set_state(site, director, lea["id"], "inscrit")

    async def after_a_night(request: Any) -> dict[str, Any] | None:
        run = {"id": 1, "kind": "nightly", "status": "succeeded", "dry_run": False}
        run |= {"cutoff": "2026-08-31T21:59:59.999999Z", "counts": {}}
        return {"clock": {"now": "2026-09-01T06:00:00Z", "mode": "manual"}, "last_run": run}

    site.app.state.simbar_source = after_a_night  # type: ignore[attr-defined]
    login(site)
    page = text(site.get(f"/eleves/{lea['id']}", headers=HTML))
    assert 'id="pupil-pending"' not in page
    assert "Pas encore transmis à EduConnect" not in page


# ------------------------------------------------------------------ 3. agreement
# (``accord`` itself: tests/pages/test_words_fr.py)


def test_a_girl_not_admitted_is_written_of_in_the_feminine(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    set_state(site, director, lea["id"], "radie")
    login(site)
    page = text(site.get(f"/eleves/{lea['id']}", headers=HTML))
    assert "Cette élève n'est pas admise : tant qu'elle ne l'est pas" in page
    assert "pour elle (la radiation" in page
    assert "Cet élève" not in page
    assert "tant qu'il ne" not in page
    assert "(e)" not in page
    tom = admit_pupil(site, director, prenoms="Tom", sex="M", birth_date="2017-05-06")
    set_state(site, director, tom["id"], "radie")
    his = text(site.get(f"/eleves/{tom['id']}", headers=HTML))
    assert "Cet élève n'est pas admis : tant qu'il ne l'est pas" in his
    alone = admit_pupil(site, director, prenoms="Zoé", birth_date="2018-01-01")
    assert "pour cette élève." in text(site.get(f"/eleves/{alone['id']}", headers=HTML))
    assert "(e)" not in text(site.get("/", headers=HTML))


def test_a_duplicate_girl_is_named_in_the_feminine(
    site: TestClient, director: dict[str, str]
) -> None:
    admit_pupil(site, director, nom="Lefèvre", prenoms="Léa", birth_date="2019-05-02")
    login(site)
    refused = site.post("/eleves/admettre", data=ADMISSION, headers=HTML)
    assert refused.status_code == 409
    page = text(refused)
    assert "Une élève de même nom" in page
    assert ", admise)" in page


# ------------------------------------------------------------------ 4. foster family authority


FOSTER = ADMISSION | {"r1_lien": "famille_accueil", "r1_prenom": "Nadia", "r1_nom": "Roux"}


def test_the_forms_explain_what_a_foster_family_gets(site: TestClient) -> None:
    login(site)
    form = text(site.get("/eleves/admettre", headers=HTML))
    assert "Une famille d'accueil n'exerce en général pas l'autorité parentale" in form
    assert "ne reçoit jamais de compte EduConnect" in form
    assert "Personnel Collectivité et Invité" in form


def test_a_foster_family_ticked_by_default_is_asked_again(
    site: TestClient, director: dict[str, str]
) -> None:
    login(site)
    asked = site.post("/eleves/admettre", data=FOSTER, headers=HTML)  # the default tick kept
    assert asked.status_code == 422
    assert "la case a été décochée" in field_error(asked.text, "r1_autorite")
    assert not re.search(r'name="r1_autorite" value="on" checked', asked.text)  # unticked
    assert '<input type="hidden" name="r1_autorite_vue" value="1">' in asked.text
    assert 'value="Nadia"' in asked.text
    assert pupils_of_school(site, director) == []  # nothing written
    # Sent again as it comes back (unticked): admitted, the foster family without authority.
    unticked = {k: v for k, v in FOSTER.items() if k != "r1_autorite"} | {"r1_autorite_vue": "1"}
    done = site.post("/eleves/admettre", data=unticked, headers=HTML)
    assert done.status_code == 200
    message = flash(done.text)
    assert "Visible dans EduConnect" not in message
    assert "Pas de compte EduConnect pour Nadia Roux (famille d'accueil" in message
    [pupil] = pupils_of_school(site, director)
    assert [x["autorite_parentale"] for x in links_of(site, director, pupil["id"])] == [False]


def test_a_foster_family_ticked_again_on_purpose_keeps_the_authority(
    site: TestClient, director: dict[str, str]
) -> None:
    login(site)
    done = site.post("/eleves/admettre", data=FOSTER | {"r1_autorite_vue": "1"}, headers=HTML)
    assert done.status_code == 200
    [pupil] = pupils_of_school(site, director)
    assert [x["autorite_parentale"] for x in links_of(site, director, pupil["id"])] == [True]
    # A foster family left unticked from the start is not asked anything.
    other = FOSTER | {"nom": "Autre", "r1_nom": "Autre"}
    del other["r1_autorite"]
    assert site.post("/eleves/admettre", data=other, headers=HTML).status_code == 200


def test_adding_a_foster_family_afterwards_is_asked_too(
    site: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(site, director)
    known = add_parent(site, director, lea["id"])
    tom = admit_pupil(site, director, prenoms="Tom", sex="M", birth_date="2017-05-06")
    login(site)
    url = f"/eleves/{tom['id']}/responsables/ajouter"
    form = {"lien": "famille_accueil", "autorite": "on", "civility": "MME", "nom": "Roux"}
    form |= {"prenom": "Nadia"}
    for data in (form, {"existant": str(known["id"]), "lien": "famille_accueil", "autorite": "on"}):
        asked = site.post(url, data=data, headers=HTML)
        assert asked.status_code == 422
        assert "autorité parentale" in field_error(asked.text, "autorite")
        assert '<input type="hidden" name="autorite_vue" value="1">' in asked.text
    assert links_of(site, director, tom["id"]) == []
    done = site.post(url, data=form | {"autorite_vue": "1"}, headers=HTML)
    assert "Nadia Roux est maintenant responsable de Tom Martin." in flash(done.text)
    assert "Ce lien ne donne pas de compte EduConnect à Nadia Roux pour Tom (famille d'accueil" in (
        flash(done.text)
    )
