"""The pages' French: reasons, dates, origins, « admis », the bar, the demo banner, the icon."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from edusim.cli import _demo_seeded, app
from edusim_common.web import FAVICON_PATH
from edusim_common.web.explain_fr import diagnosis_fr
from edusim_common.web.render import date_fr, night_fr
from edusim_common.web.simbar import SimBar
from fake_educonnect.service import imports
from fake_onde.seed import COMPANION_UAI, DEMO_UAI, SeedReport
from sync_service.contract import ImportResult
from sync_service.pages.story import educonnect_event
from sync_service.pages.wording import reason_fr
from sync_service.runner import _line_reasons
from tests.conftest import make_school
from tests.educonnect.helpers import letter_for
from tests.sync.onde_steps import add_parent, admit_pupil, set_state

HTML = {"accept": "text/html"}
# Words of EduConnect's and the sync's English reasons that French never uses.
ENGLISH = re.compile(
    r"\b(the|use|account|letter|school|enrolled|pupil|linked|child|children|deactivated|"
    r"restored|foster|entry|waiting|held|proposed|removed|deleted|record|parental)\b"
)


def _educonnect_reasons() -> list[str]:
    """Every reason constant of EduConnect's import (a new one is checked without editing this)."""
    found = [
        value
        for name, value in vars(imports).items()
        if name.isupper() and isinstance(value, str) and " " in value
    ]
    assert len(found) >= 7
    return found


def _sync_reasons() -> list[str]:
    """Every reason the sync adds to a report line itself."""
    result = ImportResult(
        source_id="1",
        outcome="updated",
        proposals_added=2,
        links_removed=1,
        deactivated=True,
        deactivation_pending=True,
        restored=True,
    )
    return [*_line_reasons(result), "1 child(ren) proposed", "3 link(s) removed"]


ALL_REASONS = _educonnect_reasons() + _sync_reasons()


def text(answer: Any) -> str:
    return html.unescape(str(answer.text))


def section(page: str, marker: str, end: str) -> str:
    return page.split(marker, 1)[1].split(end, 1)[0]


def next_day(sync: TestClient) -> str:
    answer = sync.post("/sim/next-day", data={"next": "/runs"}, headers=HTML)
    assert answer.status_code == 200, answer.text
    return text(answer)


# ------------------------------------------------------------------ 1. reasons


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_every_known_reason_comes_out_in_french(reason: str) -> None:
    french = reason_fr(reason)
    assert french
    assert french != reason
    assert not ENGLISH.search(french), french
    assert " ; " not in french  # « ; » separates reasons: one reason is one part


def test_reasons_holding_a_semicolon_are_matched_whole_in_any_line() -> None:
    for first in ALL_REASONS:
        for second in ALL_REASONS:
            french = reason_fr(f"{first}; {second}")
            assert not ENGLISH.search(french), french
            assert french.count(" ; ") == 1, french


def test_the_no_mobile_and_foster_reasons_in_french() -> None:
    assert reason_fr(f"{imports.NO_MOBILE}; 1 child(ren) proposed") == (
        "pas de mobile dans ONDE : activation autonome par SMS impossible, à faire par "
        "FranceConnect ou avec un courrier de l'école ; 1 enfant proposé au rattachement"
    )
    assert reason_fr(imports.FOSTER) == (
        "famille d'accueil : pas de compte EduConnect (l'ENT lui crée un compte « parent » "
        "manuel, utilisé par l'entrée « Personnel Collectivité et Invité »)"
    )
    assert reason_fr("some new reason; 2 link(s) removed") == "some new reason ; 2 liens retirés"


def test_the_run_report_has_no_english(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(onde, director)
    add_parent(onde, director, lea["id"], mobile=None)
    add_parent(onde, director, lea["id"], prenom="Nadia", nom="Roux", lien="famille_accueil")
    next_day(sync)
    lines = section(text(sync.get("/runs/1", headers=HTML)), 'id="lines"', "</table>")
    assert "use FranceConnect" not in lines
    assert "the ENT creates" not in lines
    assert "activation autonome par SMS impossible, à faire par FranceConnect" in lines
    assert "utilisé par l'entrée « Personnel Collectivité et Invité »" in lines


def test_the_foster_family_timeline_says_no_account_once(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(onde, director)
    foster = add_parent(onde, director, lea["id"], nom="Roux", lien="famille_accueil")
    next_day(sync)
    steps = section(
        text(sync.get(f"/timeline/{foster['id']}", headers=HTML)), 'id="timeline"', "</ol>"
    )
    assert "Famille d'accueil : pas de compte EduConnect (l'ENT lui crée" in steps
    assert "the ENT" not in steps
    excluded = next(line for line in steps.split("<li") if "Famille d'accueil :" in line)
    assert excluded.lower().count("pas de compte educonnect") == 1


def test_an_exclusion_that_does_not_say_it_still_reads_no_account() -> None:
    event = {"kind": "excluded", "details": {"reason": imports.DELETED}}
    assert educonnect_event(event, False) == "Pas de compte EduConnect : fiche supprimée dans ONDE"
    event = {"kind": "excluded", "details": {"reason": imports.NO_ENROLLED}}
    assert educonnect_event(event, False) == (
        "Aucun enfant admis ou admis définitivement : pas de compte EduConnect"
    )


# ------------------------------------------------------------------ 2. dates


def test_the_first_of_the_month_is_an_ordinal() -> None:
    assert date_fr(date(2026, 9, 1), "full") == "mardi 1er septembre 2026"
    assert date_fr(date(2026, 9, 1)) == "1er septembre 2026"
    assert date_fr(datetime(2026, 10, 1, 8, tzinfo=UTC)) == "1er octobre 2026"
    assert date_fr(date(2026, 9, 2), "full") == "mercredi 2 septembre 2026"


def test_a_night_reads_from_one_day_to_the_next() -> None:
    assert night_fr(date(2026, 9, 1)) == "1er au 2 septembre"
    assert night_fr(date(2026, 9, 30)) == "30 septembre au 1er octobre"
    assert night_fr(date(2026, 12, 31)) == "31 décembre 2026 au 1er janvier 2027"


def test_the_bar_and_next_day_write_dates_naturally(sync: TestClient) -> None:
    home = text(sync.get("/", headers=HTML))
    assert 'id="sim-date">mardi 1er septembre 2026<' in home
    after = next_day(sync)
    assert (
        "Nous sommes le mercredi 2 septembre 2026 (nuit du 1er au 2 septembre : "
        "synchronisation réussie)." in after
    )


# ------------------------------------------------------------------ 3. ONDE login


async def _no_sync(request: Request) -> dict[str, Any] | None:
    return None  # ONDE's bar falls back to its own clock, whatever runs on this machine


def test_the_onde_login_does_not_repeat_ecole(onde: TestClient, director: dict[str, str]) -> None:
    onde.app.state.simbar_source = _no_sync  # type: ignore[attr-defined]
    answer = onde.post("/connexion", data={"uai": DEMO_UAI}, headers=HTML)
    page = text(answer)
    assert "Connecté comme directeur : École Jean Jaurès (0021593W) — simulation." in page
    assert "l'école École" not in page


def test_another_schools_pupil_is_not_called_inscrit(
    onde: TestClient, director: dict[str, str]
) -> None:
    onde.app.state.simbar_source = _no_sync  # type: ignore[attr-defined]
    other = make_school(onde, "0000001B")
    pupil = onde.post(
        "/api/v1/schools/0000001B/pupils",
        json={
            "nom": "Durand",
            "prenoms": "Paul",
            "sex": "M",
            "birth_date": "2018-01-02",
            "birth_place": "59350",
            "level": "CE1",
            "state": "admis",
        },
        headers=other,
    ).json()
    onde.post("/connexion", data={"uai": DEMO_UAI}, headers=HTML)
    page = text(onde.get(f"/eleves/{pupil['id']}", headers=HTML))
    assert "Cet élève relève d'une autre école que la vôtre (0021593W)" in page
    assert "n'est pas inscrit" not in page


# ------------------------------------------------------------------ 4. origins


def _active(origin: str) -> str:
    account = {"origin": origin, "activated_at": "2026-09-02T06:00:00+00:00"}
    return diagnosis_fr([{"code": "active", "text": "active"}], account, [])[0][1]


def test_origins_are_explained_without_nested_brackets() -> None:
    assert _active("Etablissement") == (
        "Compte activé le 02/09/2026 avec le courrier de notification imprimé par l'école, "
        "origine « Établissement » ; aucune connexion."
    )
    assert _active("Responsable") == (
        "Compte activé le 02/09/2026 par le parent lui-même (code par SMS), origine "
        "« Responsable » ; aucune connexion."
    )
    assert "par le parent lui-même (FranceConnect)" in _active("FranceConnect")
    assert (
        _active("Nouvelle")
        == "Compte activé le 02/09/2026, origine « Nouvelle » ; aucune connexion."
    )
    for origin in ("Etablissement", "Responsable", "FranceConnect"):
        event = educonnect_event({"kind": "activated", "details": {"origin": origin}}, False)
        assert "Etablissement" not in event
        assert not re.search(r"\([^)]*\(", event), event


def test_a_letter_activation_on_the_timeline_says_etablissement(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    lea = admit_pupil(onde, director)
    mother = add_parent(onde, director, lea["id"])
    next_day(sync)
    found = educonnect.get(
        "/api/v1/accounts",
        params={"source": "onde", "source_id": str(mother["id"])},
        headers=ec_service,
    ).json()
    account_id = found["items"][0]["id"]
    letter = letter_for(educonnect, ec_service, account_id)
    session = educonnect.post(
        "/api/v1/login",
        json={"identifiant": letter["identifiant"], "password": letter["temporary_password"]},
    ).json()
    changed = educonnect.post(
        "/api/v1/me/password",
        json={"new_password": "Nouveau2026"},
        headers={"Authorization": f"Bearer {session['session_token']}"},
    )
    assert changed.status_code == 200, changed.text
    page = text(sync.get(f"/timeline/{mother['id']}", headers=HTML))
    assert 'id="account-origin">Établissement<' in page
    assert "Etablissement" not in page
    assert "Compte activé avec le courrier de notification imprimé par l'école" in page


# ------------------------------------------------------------------ 5. and 6. admis


def test_deactivation_and_restoration_say_admis() -> None:
    deactivated, restored = _sync_reasons()[2], _sync_reasons()[4]
    assert reason_fr(deactivated) == "compte désactivé : plus aucun enfant admis"
    assert reason_fr(restored) == "compte restauré : un enfant est de nouveau admis"
    statement = diagnosis_fr([{"code": "desactive", "text": "x"}], {}, [])[0][1]
    assert statement == (
        "Compte désactivé : plus aucun enfant admis. Il revient de lui-même si un enfant est de "
        "nouveau admis."
    )
    event = educonnect_event({"kind": "deactivated"}, False)
    assert "inscrit" not in event
    assert "admis" in event
    assert "inscrit" not in reason_fr(imports.NO_ENROLLED)
    assert reason_fr(imports.NO_ENROLLED) == (
        "aucun enfant admis ou admis définitivement : pas de compte EduConnect"
    )


def test_a_lost_link_does_not_say_the_account_keeps_children_when_it_is_closed() -> None:
    deactivated, held = _sync_reasons()[2], _sync_reasons()[3]
    lost = imports.NO_LONGER_ELIGIBLE
    assert reason_fr(f"{lost}; 1 link(s) removed; {deactivated}") == (
        "plus de lien, par cette fiche ONDE, avec un enfant admis sur lequel s'exerce son autorité "
        "parentale ; 1 lien retiré ; compte désactivé : plus aucun enfant admis"
    )
    assert "garde" not in reason_fr(f"{lost}; 1 link(s) removed; {held}")
    assert reason_fr(f"{lost}; 1 link(s) removed") == (
        "plus de lien, par cette fiche ONDE, avec un enfant admis sur lequel s'exerce son autorité "
        "parentale : le compte garde ses autres enfants, s'il en a ; 1 lien retiré"
    )


def test_the_struck_off_line_of_the_report_reads_clearly(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(onde, director)
    add_parent(onde, director, lea["id"])
    next_day(sync)
    set_state(onde, director, lea["id"], "radie")
    next_day(sync)
    lines = section(text(sync.get("/runs/2", headers=HTML)), 'id="lines"', "</table>")
    assert (
        "plus de lien, par cette fiche ONDE, avec un enfant admis sur lequel s'exerce son autorité "
        "parentale ; 1 lien retiré ; compte désactivé : plus aucun enfant admis" in lines
    )
    assert "garde ses autres enfants" not in lines
    assert "inscrit" not in lines


# ------------------------------------------------------------------ 7. the bar


def test_the_bar_before_any_run() -> None:
    bar = SimBar(now=datetime(2026, 9, 1, tzinfo=UTC), mode="manual", reachable=True, here="/")
    assert bar.last_run_label == "Aucune synchronisation pour l'instant"


def test_the_runs_page_before_any_run(sync: TestClient) -> None:
    page = text(sync.get("/runs", headers=HTML))
    assert "Aucune synchronisation pour l'instant" in page
    assert "encore" not in section(page, 'id="sim-last-run"', "</span>")


# ------------------------------------------------------------------ 8. the start-up banner


def test_the_demo_banner_says_which_schools_it_counts() -> None:
    both = SeedReport(2, 8, 70, 115, 120, 300, 0.1)
    assert _demo_seeded(both) == (
        f"Demo school {DEMO_UAI} and its neighbour maternelle {COMPANION_UAI}: 70 pupils added "
        "and 115 responsables, the 2 schools together."
    )
    alone = SeedReport(1, 5, 60, 99, 100, 250, 0.1)
    assert _demo_seeded(alone) == f"Demo school {DEMO_UAI}: 60 pupils added and 99 responsables."


def test_seed_demo_prints_the_banner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("ONDE_DATABASE_URL", "EDUCONNECT_DATABASE_URL", "SYNC_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"its neighbour maternelle {COMPANION_UAI}" in output
    assert "the 2 schools together" in output


# ------------------------------------------------------------------ 9. the icon


@pytest.mark.parametrize("service", ["onde", "educonnect", "sync"])
def test_every_service_has_a_favicon(service: str, request: pytest.FixtureRequest) -> None:
    client: TestClient = request.getfixturevalue(service)
    icon = client.get(FAVICON_PATH)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
    page = client.get("/no/such/page", headers=HTML).text
    link = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert link, "no icon link in the layout"
    assert client.get(link.group(1)).status_code == 200
