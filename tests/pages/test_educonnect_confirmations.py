"""« Ce n'est pas mon enfant » asks first; the console says plainly that a school's parents
appear after the first night's synchronisation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.educonnect.factories import SCHOOL, child, responsable
from tests.educonnect.helpers import import_items
from tests.pages.ec_steps import (
    activate_by_sms_pages,
    flash,
    proposal_ids,
    text_of,
)


def status_of(ec: TestClient, ec_service: dict[str, str], attachment_id: int) -> str:
    account = ec.get("/api/v1/accounts/1", headers=ec_service).json()
    [found] = [a for a in account["attachments"] if a["id"] == attachment_id]
    status: str = found["status"]
    return status


def school_messages(ec: TestClient, ec_service: dict[str, str]) -> list[object]:
    told: list[object] = ec.get(
        "/api/v1/outbox", params={"channel": "school"}, headers=ec_service
    ).json()
    return told


# ------------------------------------------------------------------ « Ce n'est pas mon enfant »


def test_not_my_child_asks_first_and_its_own_form_refuses(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    activate_by_sms_pages(ec)
    (lea,) = proposal_ids(ec.get("/rattachement").text)
    asked = ec.post(f"/rattachement/{lea}/refuser")
    assert asked.status_code == 200
    assert asked.url.path == f"/rattachement/{lea}/refuser"  # a page, not a redirect
    page = text_of(asked.text)
    assert "Léa Martin n'est pas votre enfant ?" in page
    assert "l'école en est informée" in page
    assert f'id="refuse-confirm-{lea}"' in asked.text
    assert 'name="confirm" value="1"' in asked.text
    assert 'href="/rattachement" class="button secondary" id="refuse-cancel"' in asked.text
    assert status_of(ec, ec_service, lea) == "proposed"  # nothing written
    assert school_messages(ec, ec_service) == []
    # Cancelling: the proposal is still there, to confirm with the birth date.
    assert proposal_ids(ec.get("/rattachement").text) == [lea]
    for wrong in ("", "0", "on"):
        again = ec.post(f"/rattachement/{lea}/refuser", data={"confirm": wrong})
        assert f'id="refuse-confirm-{lea}"' in again.text, wrong
    assert status_of(ec, ec_service, lea) == "proposed"
    refused = ec.post(f"/rattachement/{lea}/refuser", data={"confirm": "1"})
    assert refused.url.path == "/me"
    assert "vous n'êtes pas le représentant légal de Léa" in (flash(refused.text) or "")
    assert status_of(ec, ec_service, lea) == "refused"
    assert len(school_messages(ec, ec_service)) == 1


def test_no_get_refuses_a_child(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable())
    activate_by_sms_pages(ec)
    (lea,) = proposal_ids(ec.get("/rattachement").text)
    assert ec.get(f"/rattachement/{lea}/refuser?confirm=1").status_code == 405
    assert status_of(ec, ec_service, lea) == "proposed"


# ------------------------------------------------------------------ console before the first night


def test_console_login_before_any_sync_says_why_no_school_is_listed(ec: TestClient) -> None:
    page = text_of(ec.get("/console").text)
    assert "choisissez simplement votre école" not in page
    assert "EduConnect ne connaît encore aucune école" in page
    assert "après la première synchronisation de la nuit" in page
    assert 'id="f-uai"' not in ec.get("/console").text  # no empty list to pick from


def test_console_of_a_school_before_its_first_sync_says_so(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    logged = ec.post("/console/connexion", data={"uai_autre": SCHOOL})
    assert logged.url.path == "/console"
    for search in ({}, {"nom": "Martin"}):
        page = text_of(ec.get("/console", params=search).text)
        assert "Aucun responsable de votre école ne correspond" not in page
        assert f"EduConnect ne connaît encore aucun responsable de l'école {SCHOOL}" in page
        assert "après la première synchronisation de la nuit" in page
    import_items(ec, ec_service, responsable(children=[child("1")]))  # the first night
    after = ec.get("/console", params={"nom": "Durand"})
    assert "Aucun responsable de votre école ne correspond" in text_of(after.text)
    assert 'id="no-sync-yet"' not in after.text
    listed = text_of(ec.get("/console").text)
    assert "Martin Sophie" in listed
    login_page = text_of(ec.post("/console/deconnexion").text)
    assert "une école n'y apparaît qu'après la première synchronisation de la nuit" in login_page
