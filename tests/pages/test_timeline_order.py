"""The timeline of one responsable: order at a standing clock, every state change EduConnect can
tell (and what the runs' reports kept), resets as resets, and words agreeing with the sex."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.educonnect.helpers import activate_by_sms, bearer
from tests.educonnect.helpers import director as director_of  # ``director``: ONDE's fixture
from tests.sync.onde_steps import add_parent, admit_pupil, next_day, set_state

HTML = {"accept": "text/html"}
MOBILE = "06 12 34 56 78"


def timeline(sync: TestClient, responsable_id: int) -> str:
    answer = sync.get(f"/timeline/{responsable_id}", headers=HTML)
    assert answer.status_code == 200, answer.text
    return html.unescape(answer.text).split('id="timeline"', 1)[1].split("</ol>", 1)[0]


def lines(steps: str) -> list[str]:
    """Each step's text (or a group's note), in page order."""
    found = re.findall(r'class="tl-(?:text|instant-note)">([^<]*)<', steps)
    return [text.strip() for text in found]


def index_of(found: list[str], start: str) -> int:
    return next(i for i, text in enumerate(found) if text.startswith(start))


def groups(steps: str) -> list[str]:
    """The groups of steps whose cross-system order is not known."""
    return re.findall(r'<li class="tl-instant".*?</ul>', steps, flags=re.S)


def lefevre(onde: TestClient, director_headers: dict[str, str]) -> tuple[dict[str, Any], int]:
    """The trainer's story: Léa Lefèvre admitted, her mother Anne recorded."""
    lea = admit_pupil(onde, director_headers, nom="Lefèvre", prenoms="Léa", sex="F")
    mother = add_parent(onde, director_headers, lea["id"], nom="Lefèvre", prenom="Anne")
    return lea, int(mother["id"])


def proposals(educonnect: TestClient, session: dict[str, Any]) -> dict[str, int]:
    answer = educonnect.get("/api/v1/me/proposals", headers=bearer(session))
    assert answer.status_code == 200, answer.text
    return {p["prenoms"]: p["attachment_id"] for p in answer.json()}


def confirm(educonnect: TestClient, session: dict[str, Any], attachment: int, day: str) -> None:
    answer = educonnect.post(
        f"/api/v1/me/proposals/{attachment}/confirm",
        json={"birth_date": day},
        headers=bearer(session),
    )
    assert answer.status_code == 200, answer.text


def login(educonnect: TestClient, identifiant: str, password: str) -> dict[str, Any]:
    answer = educonnect.post(
        "/api/v1/login", json={"identifiant": identifiant, "password": password}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_strike_off_at_the_same_minute_as_the_parent_is_not_put_before_her(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    sync_admin: dict[str, str],
) -> None:
    lea, mother = lefevre(onde, director)
    next_day(sync, sync_admin)  # 02/09 08:00; the clock then stands still
    session = activate_by_sms(educonnect, ec_service, nom="Lefèvre", prenom="Anne")
    confirm(educonnect, session, proposals(educonnect, session)["Léa"], "2019-02-03")
    set_state(onde, director, lea["id"], "radie")  # the director, last, the same minute

    steps = timeline(sync, mother)
    found = lines(steps)
    # The night's run and what it did in EduConnect: one cause after the other, not grouped.
    night = index_of(found, "Synchronisation nocturne n° 1")
    assert index_of(found, "Élève Léa Lefèvre enregistr") < night
    assert night < index_of(found, "Compte EduConnect créé")
    # 02/09 08:00: the parent in EduConnect and the director in ONDE acted independently: the
    # page no longer says the strike-off came first, it says the order is not known.
    [group] = groups(steps)
    assert "02/09/2026 à 08:00" in group
    assert "l'ordre réel entre ONDE, la synchronisation et EduConnect n'est pas connu" in group
    for text in ("Léa Lefèvre : radi", "Compte activé", "Première connexion du parent"):
        assert text in group
    assert "SMS envoyé" in group
    assert "Synchronisation nocturne" not in group  # the run is at another instant
    # Inside the group, each system keeps its own order.
    assert index_of(found, "Compte activé") < index_of(found, "Léa Lefèvre rattach")


def test_changes_read_by_a_manual_run_come_before_it_in_one_known_order(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    sync_admin: dict[str, str],
) -> None:
    _, mother = lefevre(onde, director)
    assert sync.post("/api/v1/runs", headers=sync_admin).status_code == 200
    steps = timeline(sync, mother)
    assert groups(steps) == []  # all at 01/09 08:00, yet every step is tied to the run
    found = lines(steps)
    run = index_of(found, "Synchronisation manuelle n° 1")
    assert index_of(found, "Lié") < run < index_of(found, "Compte EduConnect créé")


def test_the_attachment_cycle_and_a_lifted_block_stay_visible(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    sync_admin: dict[str, str],
) -> None:
    lea, mother = lefevre(onde, director)
    next_day(sync, sync_admin)  # run 1: account created, Léa proposed
    session = activate_by_sms(educonnect, ec_service, nom="Lefèvre", prenom="Anne")
    attachment = proposals(educonnect, session)["Léa"]
    confirm(educonnect, session, attachment, "2001-01-01")  # blocked at once
    unblocked = educonnect.post(
        f"/api/v1/console/attachments/{attachment}/unblock",
        headers=director_of(educonnect, ec_service),
    )
    assert unblocked.status_code == 200, unblocked.text
    session = login(educonnect, session["identifiant"], "Soleil2026")
    proposals(educonnect, session)
    confirm(educonnect, session, attachment, "2019-02-03")  # attached: the unblock is overwritten

    steps = timeline(sync, mother)
    assert "seul le déblocage par l'école propose de nouveau" in steps
    found = lines(steps)
    # The block and its lifting, though EduConnect's row now only says « attached ».
    unblock = index_of(found, "Rattachement de Léa Lefèvre débloqué par l'école")
    assert "bloqué par une mauvaise date de naissance, ou refusé" in found[unblock]
    assert index_of(found, "Léa Lefèvre proposée au rattachement") < unblock
    assert index_of(found, "Léa Lefèvre rattachée par le parent") > unblock
    # One instant under a standing clock: the school lifted the block after the parent's
    # activation and first login (it came first, before the SMS, found by a trainer's walk)
    assert index_of(found, "Compte activé") < unblock
    assert index_of(found, "Première connexion") < unblock

    set_state(onde, director, lea["id"], "radie")
    next_day(sync, sync_admin)  # run 2: link removed, account deactivated
    set_state(onde, director, lea["id"], "inscrit")
    set_state(onde, director, lea["id"], "admis")
    next_day(sync, sync_admin)  # run 3: proposed again, account restored

    steps = timeline(sync, mother)
    found = lines(steps)
    # Run 1's proposal, run 2's removal and deactivation, run 3's restoration, in EduConnect's
    # part, from what EduConnect answered each run (its rows have lost them).
    educonnect_part = re.findall(r'<li class="tl-educonnect[^"]*">.*?</li>', steps, flags=re.S)
    said = "\n".join(educonnect_part)
    assert "Léa Lefèvre proposée au rattachement" in said
    assert "Lien avec Léa Lefèvre retiré par la synchronisation (élève radiée" in said
    assert "Compte désactivé : plus aucun enfant admis" in said
    assert "Compte restauré : un enfant est de nouveau admis" in said
    assert "Connu par la réponse d'EduConnect à la synchronisation n° 2" in said
    order = [
        index_of(found, "Synchronisation nocturne n° 1"),
        index_of(found, "Léa Lefèvre proposée au rattachement"),
        index_of(found, "Compte activé"),
        index_of(found, "Synchronisation nocturne n° 2"),
        index_of(found, "Lien avec Léa Lefèvre retiré"),
        index_of(found, "Compte désactivé"),
        index_of(found, "Synchronisation nocturne n° 3"),
        index_of(found, "Compte restauré"),
    ]
    assert found[order[-1] - 1].startswith("Léa Lefèvre proposée au rattachement")  # run 3's
    assert order == sorted(order)


def test_a_removal_still_in_educonnect_says_what_it_does_not_know(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    sync_admin: dict[str, str],
) -> None:
    lea, mother = lefevre(onde, director)
    next_day(sync, sync_admin)
    set_state(onde, director, lea["id"], "radie")
    next_day(sync, sync_admin)
    found = lines(timeline(sync, mother))
    removed = found[index_of(found, "Lien avec Léa Lefèvre retiré")]
    assert "n'est pas gardé" in removed
    assert sum(text.startswith("Lien avec Léa Lefèvre retiré") for text in found) == 1
    assert sum(text.startswith("Compte désactivé") for text in found) == 1


def test_a_reset_letter_is_shown_as_a_reset(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    sync_admin: dict[str, str],
) -> None:
    _, mother = lefevre(onde, director)
    next_day(sync, sync_admin)
    history = educonnect.get(f"/api/v1/history/sources/onde/{mother}", headers=ec_service)
    account = history.json()["account"]["id"]
    console = director_of(educonnect, ec_service)
    first = educonnect.post(f"/api/v1/console/accounts/{account}/letter", headers=console)
    assert first.status_code == 200, first.text
    activate_by_sms(educonnect, ec_service, nom="Lefèvre", prenom="Anne")
    reset = educonnect.post(
        f"/api/v1/console/accounts/{account}/reset-password",
        json={"confirm": True},
        headers=console,
    )
    assert reset.status_code == 200, reset.text

    found = lines(timeline(sync, mother))
    assert any(t.startswith("Courrier d'activation imprimé par l'école") for t in found)
    assert any(t.startswith("Mot de passe réinitialisé par l'école") for t in found)
    assert not any(t.startswith("Courrier de notification imprimé") for t in found)
    # The letter's own copy in the outbox is the letter, not a second step.
    assert not any("Notification de compte EduConnect" in t for t in found)


def test_words_agree_with_the_sex_onde_knows(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    sync_admin: dict[str, str],
) -> None:
    lea = admit_pupil(onde, director, nom="Lefèvre", prenoms="Léa", sex="F")
    hugo = admit_pupil(onde, director, nom="Lefèvre", prenoms="Hugo", sex="M")
    father = add_parent(
        onde, director, hugo["id"], lien="pere", civility="M", nom="Lefèvre", prenom="Marc"
    )
    onde.post(
        f"/api/v1/pupils/{lea['id']}/responsables",
        json={"responsable_id": father["id"], "lien": "pere", "autorite_parentale": True},
        headers=director,
    )
    next_day(sync, sync_admin)
    set_state(onde, director, hugo["id"], "radie")
    found = lines(timeline(sync, father["id"]))
    text = "\n".join(found)
    assert "Élève Léa Lefèvre enregistrée dans ONDE : admise" in text
    assert "Élève Hugo Lefèvre enregistré dans ONDE : admis" in text
    assert "Hugo Lefèvre : radié" in text
    assert "radié(e)" not in text
    assert "Responsable Marc Lefèvre enregistré dans ONDE" in text
    assert "Lié à Hugo Lefèvre (père" in text
    assert "Léa Lefèvre proposée au rattachement" in text
    assert "Hugo Lefèvre proposé au rattachement" in text
    assert "(e)" not in text
