"""EduConnect's pages and letters name the schools its directory knows (« École élémentaire Jean
Jaurès, Lille »), with the UAI for the director, and fall back to « École 0021593W »."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.educonnect.factories import OTHER_SCHOOL, SCHOOL, child, responsable
from tests.educonnect.helpers import import_items
from tests.pages.ec_steps import (
    activate_by_sms_pages,
    console_login,
    pages_client,
    proposal_ids,
    text_of,
)
from tests.sync.onde_steps import add_parent, admit_pupil, one_night

JAURES = "École élémentaire Jean Jaurès, Lille"
JAURES_UAI = f"{JAURES} ({SCHOOL})"
UNKNOWN = f"École {OTHER_SCHOOL}"


def _directory(ec: TestClient, ec_service: dict[str, str]) -> None:
    """Only the demo school is in EduConnect's directory (OTHER_SCHOOL is not)."""
    body = {"items": [{"uai": SCHOOL, "name": "École élémentaire Jean Jaurès", "commune": "Lille"}]}
    assert ec.put("/api/v1/schools", json=body, headers=ec_service).status_code == 200


def _console_school(page: str) -> str:
    found = re.search(r'id="console-school">([^<]*)<', page)
    assert found, text_of(page)
    return found.group(1)


def _school_of(page: str, attachment_id: int) -> str:
    """The school « Mes enfants » gives beside one child."""
    found = re.search(rf'id="child-{attachment_id}">.*?class="ec-school">([^<]*)<', page, re.S)
    assert found, text_of(page)
    return found.group(1)


def _letter(ec: TestClient, account_id: int) -> tuple[str, str]:
    """The printed letter's letterhead, and its text."""
    printed = ec.post(f"/console/comptes/{account_id}/courrier")
    assert printed.status_code == 200, text_of(printed.text)
    found = re.search(r'id="letter-school">([^<]*)<', printed.text)
    assert found, text_of(printed.text)
    return found.group(1), text_of(printed.text)


def test_the_parent_reads_the_school_s_name_and_the_fallback(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    _directory(ec, ec_service)
    theirs = child("2", prenoms="Tom", school_uai=OTHER_SCHOOL, birth_date="2017-05-06")
    import_items(ec, ec_service, responsable(children=[child("1"), theirs]))
    activate_by_sms_pages(ec)
    page = ec.get("/rattachement")
    lea, tom = proposal_ids(page.text)
    proposals = text_of(page.text)
    assert f"{JAURES} · CP" in proposals
    assert f"{UNKNOWN} · CP" in proposals
    assert f"({SCHOOL})" not in proposals  # a parent has no use for the UAI
    asked = text_of(ec.post(f"/rattachement/{tom}/refuser").text)
    assert f"({UNKNOWN} · CP)" in asked
    ec.post(f"/rattachement/{lea}/confirmer", data={f"birth_date_{lea}": "03/02/2019"})
    mine = ec.get("/me")
    assert mine.url.path == "/me"
    assert _school_of(mine.text, lea) == JAURES  # attached: the table
    assert _school_of(mine.text, tom) == UNKNOWN  # still to confirm: below it


def test_the_console_and_the_letter_name_the_school_with_its_uai(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    _directory(ec, ec_service)
    ours, theirs = import_items(
        ec,
        ec_service,
        responsable(),
        responsable("901", nom="Lemoine", prenom="Claire", mobile="+33677777777",
                    school_uai=OTHER_SCHOOL, children=[child("9", school_uai=OTHER_SCHOOL)]),
    )  # fmt: skip
    picker = ec.get("/console").text
    assert f'<option value="{SCHOOL}">{JAURES_UAI}</option>' in picker
    assert f'<option value="{OTHER_SCHOOL}">{UNKNOWN}</option>' in picker
    console_login(ec)
    assert _console_school(ec.get("/console").text) == JAURES_UAI
    assert _console_school(ec.get("/console/statistiques").text) == JAURES_UAI
    letterhead, letter = _letter(ec, ours["account_id"])
    assert letterhead == JAURES_UAI
    assert letter.endswith(f"La direction de l'école {JAURES_UAI}")
    (copy,) = ec.get("/api/v1/outbox", params={"channel": "letter"}, headers=ec_service).json()
    assert copy["body"].startswith("Madame Martin,\n")
    assert copy["body"].endswith(f"\n\nLa direction de l'école\n{JAURES_UAI}")
    outbox = text_of(ec.get("/outbox", params={"canal": "letter"}).text)
    assert JAURES_UAI in outbox

    console_login(ec, OTHER_SCHOOL)  # a school the directory does not know
    assert _console_school(ec.get("/console").text) == UNKNOWN
    letterhead, _ = _letter(ec, theirs["account_id"])
    assert letterhead == UNKNOWN
    newest = ec.get("/api/v1/outbox", params={"channel": "letter"}, headers=ec_service).json()
    assert newest[-1]["body"].endswith(f"\n\nLa direction de l'école\n{UNKNOWN}")


def test_after_the_first_night_educonnect_names_onde_s_school(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
) -> None:
    """The demo's walk: the school is named in EduConnect from the first « Jour suivant »."""
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"])
    ec = pages_client(educonnect)
    console_login(ec)
    assert _console_school(ec.get("/console").text) == f"École {SCHOOL}"  # J: not yet known
    assert one_night(sync, sync_admin)["status"] == "succeeded"
    assert _console_school(ec.get("/console").text) == f"École Jean Jaurès, Lille ({SCHOOL})"
    activate_by_sms_pages(ec)
    assert "École Jean Jaurès, Lille · CP" in text_of(ec.get("/rattachement").text)
