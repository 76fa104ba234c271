"""End to end, three real services: J+1, each activation path, 2D parents, foster families,
struck-off pupils, and the deactivation threshold."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.school import (
    UAI,
    accounts,
    admit,
    bearer,
    confirm_all,
    last_code,
    open_school,
    parent_of,
    set_state,
)
from tests.e2e.stack import Stack

pytestmark = pytest.mark.slow
LEA = "2019-02-03"


def _activate(stack: Stack, path: str, account_id: int, identifiant: str) -> dict[str, Any]:
    """Activate by ``path``; the opened session."""
    if path == "sms":
        started = stack.ec_call(
            "POST",
            "/api/v1/activation/sms",
            json={"nom": "Martin", "prenom": "Sophie", "mobile": "0612345678"},
        ).json()
        done = stack.ec_call(
            "POST",
            "/api/v1/activation/sms/confirm",
            json={
                "request_id": started["request_id"],
                "code": last_code(stack, "+33612345678"),
                "password": "Soleil2026",
            },
        )
        activated: dict[str, Any] = done.json()
        return activated
    if path == "franceconnect":
        stack.ec_call(
            "POST",
            "/api/v1/franceconnect/identities",
            json={"sub": "fc-1", "given_name": "Sophie", "family_name": "Martin",
                  "birthdate": "1985-04-12", "gender": "female"},
        )  # fmt: skip
        back = stack.ec_call("POST", "/api/v1/franceconnect/login", json={"sub": "fc-1"}).json()
        done = stack.ec_call(
            "POST",
            "/api/v1/franceconnect/confirm",
            json={"request_id": back["request_id"], "code": last_code(stack, "+33612345678")},
        )
        linked: dict[str, Any] = done.json()
        return linked
    token = stack.ec_call("GET", f"/api/v1/schools/{UAI}/director-token").json()
    letter = stack.ec_call(
        "POST",
        f"/api/v1/console/accounts/{account_id}/letter",
        headers=bearer(token["director_token"]),
    ).json()
    session = stack.ec_call(
        "POST",
        "/api/v1/login",
        json={"identifiant": identifiant, "password": letter["temporary_password"]},
    ).json()
    changed = stack.ec_call(
        "POST",
        "/api/v1/me/password",
        headers=bearer(session["session_token"]),
        json={"new_password": "Rentree2026"},
    ).json()
    session["step"] = changed["step"]
    return dict(session)


@pytest.mark.parametrize(
    ("path", "origin"),
    [("sms", "Responsable"), ("franceconnect", "FranceConnect"), ("letter", "Etablissement")],
)
def test_from_admission_to_attached_child(stack: Stack, path: str, origin: str) -> None:
    director = open_school(stack)
    pupil = admit(stack, director, "Léa", LEA)
    parent_of(stack, director, pupil)
    assert accounts(stack) == []  # day D: nothing in EduConnect yet
    night = stack.next_day()["runs"][0]
    assert (night["kind"], night["counts"]["created"]) == ("nightly", 1)
    [account] = accounts(stack)
    assert account["state"] == "non_active"
    session = _activate(stack, path, account["id"], account["identifiant"])
    assert session["step"] == "attachment"
    assert confirm_all(stack, session, {"Léa": LEA}) == {"Léa": "attached"}
    [account] = accounts(stack)
    assert (account["state"], account["origin"]) == ("active", origin)
    assert [a["status"] for a in account["attachments"]] == ["attached"]


def test_a_day_d_change_is_absent_on_d_and_present_on_d_plus_1(stack: Stack) -> None:
    director = open_school(stack)
    stack.next_day()
    pupil = admit(stack, director, "Léa", LEA)
    parent_of(stack, director, pupil)
    manual_clock = stack.sync_call("POST", "/api/v1/clock/advance", json={"seconds": 3600}).json()
    assert manual_clock["runs"] == []
    assert accounts(stack) == []
    assert len(stack.next_day()["runs"]) == 1
    assert len(accounts(stack)) == 1


def test_a_2d_parent_gets_the_1d_child_proposed_after_the_sync(stack: Stack) -> None:
    loaded = stack.ec_call(
        "POST",
        "/api/v1/fixtures/siecle",
        json={"items": [{
            "source_id": "S-1", "nom": "Martin", "prenom": "Sophie", "mobile": "+33612345678",
            "password": "College2025",
            "children": [{"source_id": "E-1", "ine": "123456789AB", "nom": "Martin",
                          "prenoms": "Hugo", "birth_date": "2013-06-01",
                          "school_uai": "0590100N", "level": "5E"}],
        }]},
    ).json()["results"][0]  # fmt: skip
    director = open_school(stack)
    pupil = admit(stack, director, "Léa", LEA)
    parent_of(stack, director, pupil)
    night = stack.next_day()["runs"][0]
    assert (night["counts"]["matched"], night["counts"]["created"]) == (1, 0)
    session = stack.ec_call(
        "POST", "/api/v1/login",
        json={"identifiant": loaded["identifiant"], "password": "College2025"},
    ).json()  # fmt: skip
    assert session["step"] == "attachment"
    assert confirm_all(stack, session, {"Léa": LEA}) == {"Léa": "attached"}
    [account] = accounts(stack)
    assert sorted(a["child"]["degree"] for a in account["attachments"]) == ["1D", "2D"]


def test_a_foster_family_is_excluded(stack: Stack) -> None:
    director = open_school(stack)
    pupil = admit(stack, director, "Léa", LEA)
    foster = parent_of(stack, director, pupil, lien="famille_accueil", autorite_parentale=False)
    run = stack.next_day()["runs"][0]
    assert run["counts"]["excluded"] == 1
    lines = stack.sync_call("GET", f"/api/v1/runs/{run['id']}/lines").json()
    assert lines[0]["source_id"] == str(foster)
    assert "Personnel Collectivité et Invité" in lines[0]["reason"]
    assert accounts(stack) == []


def test_struck_off_then_back_and_the_threshold(stack: Stack) -> None:
    director = open_school(stack)
    pupils = [admit(stack, director, name, LEA) for name in ("Léa", "Zoé")]
    parent_of(stack, director, pupils[0])
    parent_of(stack, director, pupils[1], prenom="Julie", mobile="0698765432")
    stack.next_day()
    set_state(stack, director, pupils[0], "radie")
    run = stack.next_day()["runs"][0]
    assert (run["counts"]["links_removed"], run["counts"]["deactivated"]) == (1, 1)
    states = {a["prenom"]: a["state"] for a in accounts(stack)}
    assert states == {"Sophie": "desactive", "Julie": "non_active"}
    set_state(stack, director, pupils[0], "inscrit")
    set_state(stack, director, pupils[0], "admis")
    assert stack.next_day()["runs"][0]["counts"]["restored"] == 1
    # A mass strike-off passing the threshold (here: 50 % of 2 responsables, at least 1) waits.
    stack.sync.stop()
    stack.sync.env |= {
        "SYNC_DEACTIVATION_MAX_PERCENT": "40",
        "SYNC_DEACTIVATION_PERCENT_MIN_COUNT": "1",
    }
    stack.sync.start()
    set_state(stack, director, pupils[1], "radie")
    held = stack.next_day()["runs"][0]
    assert (held["status"], held["pending_deactivations"]) == ("awaiting_approval", 1)
    assert {a["prenom"]: a["state"] for a in accounts(stack)}["Julie"] == "non_active"
    approved = stack.sync_call("POST", f"/api/v1/runs/{held['id']}/approve").json()
    assert approved["status"] == "succeeded"
    assert {a["prenom"]: a["state"] for a in accounts(stack)}["Julie"] == "desactive"


def test_head_answers_like_get_without_the_body(stack: Stack) -> None:
    """RFC 9110 on the real servers (uvicorn refuses a body after a HEAD): same status and
    headers as GET, no body, and the connection still serves the next request."""
    for call in (stack.onde_call, stack.ec_call, stack.sync_call):
        for path in ("/api/v1/clock", "/health", "/"):
            got, head = call("GET", path), call("HEAD", path)
            assert head.status_code == got.status_code, (path, head.text)
            assert head.content == b""
            for name in ("content-type", "content-length"):
                assert head.headers.get(name) == got.headers.get(name), (path, name)
            assert call("GET", path).status_code == got.status_code
        assert call("HEAD", "/nowhere/at/all").status_code == 404
