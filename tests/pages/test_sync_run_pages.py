"""The sync's runs, a run's report, the approval button, and a responsable's timeline."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sync_service.pages import runs as runs_pages
from tests.educonnect.helpers import activate_by_sms, bearer, director
from tests.sync.onde_steps import add_parent, admit_pupil, set_state

HTML = {"accept": "text/html"}


def text(answer: Any) -> str:
    return html.unescape(str(answer.text))


def next_day(sync: TestClient) -> str:
    """« Jour suivant » from the bar; the page it comes back to."""
    answer = sync.post("/sim/next-day", data={"next": "/runs"}, headers=HTML)
    assert answer.status_code == 200, answer.text
    return text(answer)


def flash(page: str) -> str:
    found = re.search(r'class="flash[ "][^>]*>([^<]*)<', page)
    assert found, "no flash message"
    return html.unescape(found.group(1))


def section(page: str, marker: str, end: str = "</table>") -> str:
    return page.split(marker, 1)[1].split(end, 1)[0]


# ------------------------------------------------------------------ runs


def test_no_run_yet(sync: TestClient) -> None:
    answer = sync.get("/runs", headers=HTML)
    assert answer.status_code == 200
    assert "Aucune synchronisation pour l'instant" in text(answer)


def test_runs_newest_first_with_kind_cutoff_counts_and_status(
    sync: TestClient, sync_admin: dict[str, str], onde: TestClient, director: dict[str, str]
) -> None:
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"], mobile=None)
    next_day(sync)
    manual = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    full = sync.post("/api/v1/runs", json={"full": True, "dry_run": True}, headers=sync_admin)
    assert full.status_code == 200
    page = text(sync.get("/runs", headers=HTML))
    rows = section(page, 'id="runs"')
    order = [int(n) for n in re.findall(r'id="run-row-(\d+)"', rows)]
    assert order == [3, 2, 1]
    first = section(rows, 'id="run-row-1"', "</tr>")
    assert "nocturne" in first
    assert "01/09/2026 à 23:59" in first  # the night of the 2nd reads up to the end of the 1st
    assert "02/09/2026 à 02:00" in first
    assert "<strong>1</strong> compte créé<" in first
    assert "<strong>1</strong> sans mobile<" in first
    assert ">réussie<" in first
    assert " s<" in first  # a duration
    assert "manuelle" in section(rows, f'id="run-row-{manual["id"]}"', "</tr>")
    third = section(rows, 'id="run-row-3"', "</tr>")
    assert "réconciliation complète" in third
    assert "à blanc" in third


def test_runs_page_pages_back_in_time(
    sync: TestClient, sync_admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs_pages, "RUNS_PER_PAGE", 2)
    for _ in range(3):
        sync.post("/api/v1/runs", json={}, headers=sync_admin)
    first = text(sync.get("/runs", headers=HTML))
    assert re.findall(r'id="run-row-(\d+)"', first) == ["3", "2"]
    older = re.search(r'href="(/runs\?avant=\d+)" id="runs-older"', first)
    assert older
    second = text(sync.get(older.group(1), headers=HTML))
    assert re.findall(r'id="run-row-(\d+)"', second) == ["1"]
    assert 'id="runs-first"' in second
    assert sync.get("/runs?avant=abc", headers=HTML).status_code == 200
    assert sync.get("/runs?avant=99999999999999999999", headers=HTML).status_code == 200


def test_a_run_report_with_reasons_in_french_filters_and_downloads(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(onde, director)
    add_parent(onde, director, lea["id"], mobile=None)
    add_parent(onde, director, lea["id"], prenom="Nadia", nom="Roux", lien="famille_accueil")
    next_day(sync)
    page = text(sync.get("/runs/1", headers=HTML))
    assert "<h1>Synchronisation nocturne n° 1</h1>" in page
    assert "01/09/2026 à 23:59" in page
    lines = section(page, 'id="lines"')
    assert "compte créé" in lines
    assert "Sophie Martin" in lines  # the sync's mirror names each responsable
    assert "pas de mobile dans ONDE : activation autonome par SMS impossible" in lines
    assert "1 enfant proposé au rattachement" in lines
    assert "famille d'accueil : pas de compte EduConnect" in lines
    assert "Personnel Collectivité et Invité" in lines
    assert 'href="/timeline/' in lines
    assert '<option value="excluded">exclu (1)</option>' in page
    excluded = section(text(sync.get("/runs/1?resultat=excluded", headers=HTML)), 'id="lines"')
    assert "famille d'accueil" in excluded
    assert "compte créé" not in excluded
    filtered = text(sync.get("/runs/1?resultat=excluded", headers=HTML))
    csv_link = re.search(r'href="([^"]+)" id="download-csv"', filtered)
    assert csv_link
    csv = sync.get(csv_link.group(1))
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.count("\n") == 2  # the header and the excluded line
    json_link = re.search(r'href="([^"]+)" id="download-json"', page)
    assert json_link
    assert len(sync.get(json_link.group(1)).json()["lines"]) == 2


def test_the_downloads_keep_the_page_filters_and_refuse_what_the_lines_refuse(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    """The CSV and JSON downloads take the filters of `/lines` (outcome, source id, name), the
    page's links carry both of its filters, and an unknown outcome is a 422 everywhere."""
    lea = admit_pupil(onde, director)
    add_parent(onde, director, lea["id"], prenom="Anne", nom="Lefèvre")
    add_parent(onde, director, lea["id"], prenom="Paul", nom="Durand", mobile="06 98 76 54 32")
    add_parent(onde, director, lea["id"], prenom="Nadia", nom="Roux", lien="famille_accueil")
    next_day(sync)
    page = text(sync.get("/runs/1?resultat=created&nom=lefe", headers=HTML))
    for kind in ("csv", "json"):
        link = re.search(rf'href="([^"]+)" id="download-{kind}"', page)
        assert link
        assert link.group(1) == f"/api/v1/runs/1/report.{kind}?outcome=created&name=lefe"
    csv = sync.get("/api/v1/runs/1/report.csv?outcome=created&name=lefe")
    assert csv.status_code == 200
    assert csv.text.count("\n") == 2  # the header, Anne's line
    assert ",created," in csv.text
    saved = sync.get("/api/v1/runs/1/report.json?name=ROUX")
    assert saved.headers["content-disposition"] == 'attachment; filename="run-1.json"'
    report = saved.json()
    assert [line["outcome"] for line in report["lines"]] == ["excluded"]
    lines = sync.get("/api/v1/runs/1/lines?name=paul+dur").json()
    assert [line["source_id"] for line in lines] == ["2"]
    one = sync.get("/api/v1/runs/1/report.json?source_id=2").json()["lines"]
    assert [line["source_id"] for line in one] == ["2"]
    for path in ("lines", "report.csv", "report.json"):
        bogus = sync.get(f"/api/v1/runs/1/{path}?outcome=bogus")
        assert bogus.status_code == 422, path
        assert bogus.headers["content-type"] == "application/problem+json"
        assert "outcome" in bogus.json()["detail"]


def test_the_spreadsheet_download_is_the_page_in_french_for_excel(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    """« tableur (CSV en français) »: names, French outcomes and reasons, the page's filters,
    « ; » and a byte-order mark (French Excel opened the API's CSV as one column, accents
    garbled, in English)."""
    lea = admit_pupil(onde, director)
    add_parent(onde, director, lea["id"], prenom="Anne", nom="Lefèvre")
    add_parent(onde, director, lea["id"], prenom="Nadia", nom="Roux", lien="famille_accueil")
    next_day(sync)
    page = text(sync.get("/runs/1?resultat=excluded&nom=roux", headers=HTML))
    link = re.search(r'href="([^"]+)" id="download-spreadsheet"', page)
    assert link
    assert link.group(1) == "/runs/1/rapport.csv?resultat=excluded&nom=roux"
    sheet = sync.get(link.group(1))
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="synchronisation-1.csv"' in sheet.headers["content-disposition"]
    assert sheet.content.startswith("\ufeff".encode())
    rows = [row.split(";") for row in sheet.content.decode("utf-8-sig").splitlines()]
    assert rows[0] == [
        "Responsable (ONDE)", "N° ONDE", "École", "Résultat", "Identifiant EduConnect", "Raison",
    ]  # fmt: skip
    assert len(rows) == 2
    assert rows[1][:4] == ["Nadia Roux", "2", "0021593W", "exclu"]
    assert rows[1][5].startswith("famille d'accueil : pas de compte EduConnect")
    every = sync.get("/runs/1/rapport.csv?resultat=inconnu").content.decode("utf-8-sig")
    assert len(every.splitlines()) == 3  # an unknown outcome is ignored, as on the page
    assert sync.get("/runs/999/rapport.csv").status_code == 404


def test_the_run_downloads_are_what_the_openapi_says(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    # The CSV was documented as JSON (found by test_page_fuzz).
    add_parent(onde, director, admit_pupil(onde, director)["id"])
    next_day(sync)
    paths = sync.get("/openapi.json").json()["paths"]
    for suffix, media_type in (("csv", "text/csv"), ("json", "application/json")):
        documented = paths[f"/api/v1/runs/{{run_id}}/report.{suffix}"]["get"]["responses"]
        assert list(documented["200"]["content"]) == [media_type]
        answer = sync.get(f"/api/v1/runs/1/report.{suffix}")
        assert answer.status_code == 200
        assert answer.headers["content-type"].split(";")[0] == media_type


def test_a_run_report_pages_its_lines(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runs_pages, "LINES_PER_PAGE", 1)
    lea = admit_pupil(onde, director)
    add_parent(onde, director, lea["id"])
    add_parent(onde, director, lea["id"], prenom="Marc", civility="M", lien="pere")
    next_day(sync)
    first = text(sync.get("/runs/1", headers=HTML))
    more = re.search(r'href="([^"]+)" id="lines-next"', first)
    assert more
    second = text(sync.get(more.group(1), headers=HTML))
    assert re.findall(r'id="line-(\d+)"', first) != re.findall(r'id="line-(\d+)"', second)


def test_a_run_report_finds_a_responsable_by_name(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Accents and case aside, by the start of a name; pages keep the filter."""
    monkeypatch.setattr(runs_pages, "LINES_PER_PAGE", 1)
    lea = admit_pupil(onde, director)
    add_parent(onde, director, lea["id"], nom="Lefèvre", prenom="Anne")
    add_parent(onde, director, lea["id"], nom="Lefèvre", prenom="Marc", civility="M", lien="pere")
    tom = admit_pupil(onde, director, nom="Durand", prenoms="Tom", birth_date="2018-04-05")
    add_parent(onde, director, tom["id"], nom="Durand", prenom="Paul", civility="M", lien="pere")
    next_day(sync)

    def names(page: str) -> list[str]:
        return re.findall(r'id="line-\d+">([^<]+) <span', page)

    first = text(sync.get("/runs/1", params={"nom": "LEFE"}, headers=HTML))
    assert names(first) == ["Anne Lefèvre"]
    assert 'value="LEFE"' in first
    more = re.search(r'href="([^"]+)" id="lines-next"', first)
    assert more
    assert "nom=LEFE" in more.group(1)
    second = text(sync.get(html.unescape(more.group(1)), headers=HTML))
    assert names(second) == ["Marc Lefèvre"]
    assert 'id="lines-next"' not in second
    assert names(text(sync.get("/runs/1", params={"nom": "paul"}, headers=HTML))) == ["Paul Durand"]
    assert names(text(sync.get("/runs/1", params={"nom": "anne  LEF"}, headers=HTML))) == [
        "Anne Lefèvre"
    ]
    for literal in ("l_f", "%", "le%re", "\\"):  # typed characters, not LIKE wildcards
        page = text(sync.get("/runs/1", params={"nom": literal}, headers=HTML))
        assert names(page) == [], literal
    nobody = text(sync.get("/runs/1", params={"nom": "Zorro"}, headers=HTML))
    assert "Aucune ligne pour « Zorro »" in nobody


def test_run_pages_answer_garbage_in_french(sync: TestClient) -> None:
    for url in ("/runs/999", "/runs/abc", "/runs/0", "/runs/99999999999999999999"):
        answer = sync.get(url, headers=HTML)
        assert answer.status_code == 404, url
        assert "Aucune synchronisation n°" in text(answer)
        assert "Traceback" not in answer.text
    sync.post("/sim/run-now", data={"next": "/"}, headers=HTML)
    odd = sync.get("/runs/1?resultat=<zz>&apres=-3", headers=HTML)
    assert odd.status_code == 200
    assert "Filtre ignoré : résultat inconnu." in text(odd)


def test_a_held_back_run_is_approved_from_the_page(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    sync.app.state.sync.settings.deactivation_max_count = 0  # type: ignore[attr-defined]
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"])
    next_day(sync)
    set_state(onde, director, pupil["id"], "radie")
    next_day(sync)
    page = text(sync.get("/runs", headers=HTML))
    assert "en attente d'approbation" in section(page, 'id="run-row-2"', "</tr>")
    assert 'id="approve-2">Approuver 1 désactivation<' in page
    detail = text(sync.get("/runs/2", headers=HTML))
    assert 'id="awaiting-approval"' in detail
    assert "désactivation retenue : en attente du contrôle de seuil" in detail
    done = sync.post("/runs/2/approuver", data={"next": "/runs/2"}, headers=HTML)
    assert done.status_code == 200
    assert flash(done.text).startswith("Désactivations approuvées : synchronisation n° 2 réussie")
    assert 'id="run-status">réussie<' in done.text
    accounts = educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"]
    assert accounts[0]["state"] == "desactive"
    again = sync.post("/runs/2/approuver", data={"next": "/runs"}, headers=HTML)
    assert "n'attend pas d'approbation" in flash(again.text)
    missing = sync.post("/runs/99/approuver", data={"next": "https://evil.example/"})
    assert "Aucune synchronisation n° 99." in flash(missing.text)
    assert sync.post("/runs/abc/approuver", headers=HTML).status_code == 200


# ------------------------------------------------------------------ timeline


def test_timeline_search_by_name_or_id(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(onde, director)
    mother = add_parent(onde, director, lea["id"], nom="Lefèvre", prenom="Anne")
    empty = text(sync.get("/timeline", headers=HTML))
    assert 'id="timeline-search"' in empty
    assert 'id="search-results"' not in empty
    found = text(sync.get("/timeline", params={"q": "lefe"}, headers=HTML))
    assert f'href="/timeline/{mother["id"]}"' in found
    assert "Mme Anne Lefèvre" in found
    by_first_name = text(sync.get("/timeline", params={"q": "anne"}, headers=HTML))
    assert "Mme Anne Lefèvre" in by_first_name
    nobody = text(sync.get("/timeline", params={"q": "Personne"}, headers=HTML))
    assert "Aucun responsable dont le nom ou le prénom commence par « Personne »" in nobody
    jump = sync.get("/timeline", params={"q": str(mother["id"])}, follow_redirects=False)
    assert jump.status_code == 303
    assert jump.headers["location"] == f"/timeline/{mother['id']}"
    too_long = text(sync.get("/timeline", params={"q": "x" * 200}, headers=HTML))
    assert "Recherche trop longue" in too_long


def test_timeline_of_a_whole_lifecycle(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    lea = admit_pupil(onde, director)
    tom = admit_pupil(onde, director, prenoms="Tom", sex="M", birth_date="2017-05-06")
    mother = add_parent(onde, director, lea["id"])
    onde.post(
        f"/api/v1/pupils/{tom['id']}/responsables",
        json={"responsable_id": mother["id"], "lien": "mere", "autorite_parentale": True},
        headers=director,
    )
    url = f"/timeline/{mother['id']}"

    today = text(sync.get(url, headers=HTML))
    assert 'id="timeline-title">Parcours de Mme Sophie Martin<' in today
    steps = section(today, 'id="timeline"', "</ol>")
    assert "Élève Léa Martin enregistrée dans ONDE : admise" in steps
    assert "Responsable Sophie Martin enregistrée dans ONDE (mobile : 06 12 34 56 78)" in steps
    assert "Liée à Léa Martin (mère, autorité parentale : oui)" in steps
    assert "pas encore transmis" in steps
    assert "Pas encore d'enregistrement EduConnect pour ce responsable" in today

    next_day(sync)
    onde.patch(
        f"/api/v1/responsables/{mother['id']}",
        json={"email": "sophie@example.org"},
        headers=director,
    )
    session = activate_by_sms(educonnect, ec_service)
    proposals = educonnect.get("/api/v1/me/proposals", headers=bearer(session)).json()
    by_name = {p["prenoms"]: p["attachment_id"] for p in proposals}
    educonnect.post(
        f"/api/v1/me/proposals/{by_name['Léa']}/confirm",
        json={"birth_date": "2019-02-03"},
        headers=bearer(session),
    )
    educonnect.post(
        f"/api/v1/me/proposals/{by_name['Tom']}/confirm",
        json={"birth_date": "2001-01-01"},
        headers=bearer(session),
    )

    later = text(sync.get(url, headers=HTML))
    steps = section(later, 'id="timeline"', "</ol>")
    assert "→ transmis par la" in steps
    assert 'href="/runs/1">synchronisation nocturne n° 1</a>' in steps
    assert "Synchronisation nocturne n° 1 : compte créé — identifiant s.martin" in steps
    assert "2 enfants proposés au rattachement" in steps
    assert "Compte EduConnect créé, non activé : identifiant s.martin" in steps
    assert "SMS envoyé : « Code d'activation EduConnect »" in steps
    assert "Compte activé par le parent lui-même (code par SMS), origine « Responsable »" in steps
    assert "Première connexion du parent" in steps
    assert "Léa Martin rattachée par le parent (bonne date de naissance)" in steps
    assert "Rattachement de Tom Martin bloqué : mauvaise date de naissance" in steps
    assert "Coordonnées de Sophie Martin modifiées : courriel : — → sophie@example.org" in steps
    order = [
        steps.index("Élève Léa Martin enregistrée"),
        steps.index("Synchronisation nocturne n° 1"),
        steps.index("Compte EduConnect créé"),
        steps.index("Compte activé"),
        steps.index("Rattachement de Tom Martin bloqué"),
    ]
    assert order == sorted(order)
    account = section(later, 'id="account"', "</section>")
    assert 'id="account-state">Activé<' in account
    assert 'id="account-origin">Responsable<' in account
    diagnosis = section(later, 'id="diagnosis"', "</section>")
    assert "Compte activé le 02/09/2026 par le parent lui-même (code par SMS)" in diagnosis
    assert "orienter d'abord vers « Identifiant oublié »" in diagnosis
    assert "Léa Martin est rattaché(e)." in diagnosis
    assert "Rattachement de Tom Martin bloqué après une mauvaise date de naissance" in diagnosis

    educonnect.post(
        f"/api/v1/console/attachments/{by_name['Tom']}/unblock",
        headers=director_headers(educonnect, ec_service),
    )
    unblocked = text(sync.get(url, headers=HTML))
    assert "Rattachement de Tom Martin débloqué par l'école" in unblocked
    assert "Tom Martin sera proposé(e) à la prochaine connexion" in unblocked


def director_headers(client: TestClient, service: dict[str, str]) -> dict[str, str]:
    return director(client, service)


def test_timeline_of_an_excluded_foster_family(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(onde, director)
    foster = add_parent(onde, director, lea["id"], nom="Roux", lien="famille_accueil")
    next_day(sync)
    page = text(sync.get(f"/timeline/{foster['id']}", headers=HTML))
    steps = section(page, 'id="timeline"', "</ol>")
    assert "Synchronisation nocturne n° 1 : exclu" in steps
    assert "Famille d'accueil : pas de compte EduConnect (l'ENT lui crée" in steps
    assert "Liée à Léa Martin (famille d'accueil, autorité parentale : oui)" in steps
    assert 'id="no-account"' in page


def test_timeline_of_a_struck_off_child_and_a_deleted_responsable(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    lea = admit_pupil(onde, director)
    mother = add_parent(onde, director, lea["id"])
    next_day(sync)
    set_state(onde, director, lea["id"], "radie")
    onde.delete(f"/api/v1/responsables/{mother['id']}", headers=director)
    next_day(sync)
    page = text(sync.get(f"/timeline/{mother['id']}", headers=HTML))
    assert "l'ancien responsable n°" in page
    steps = section(page, 'id="timeline"', "</ol>")
    assert "Léa Martin : radiée" in steps
    assert "N'est plus liée à Léa Martin" in steps
    assert "Responsable Sophie Martin supprimée de ONDE" in steps
    assert "Lien avec Léa Martin retiré par la synchronisation" in steps
    assert "Compte désactivé" in steps


def test_timeline_still_shows_what_it_can_when_a_service_fails(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    lea = admit_pupil(onde, director)
    mother = add_parent(onde, director, lea["id"])
    next_day(sync)
    rule = {"path": "^/api/v1/history", "status": 400}
    assert educonnect.post("/api/v1/faults", json=rule, headers=ec_service).status_code == 201
    page = text(sync.get(f"/timeline/{mother['id']}", headers=HTML))
    assert 'id="educonnect-error"' in page
    assert "Synchronisation nocturne n° 1 : compte créé" in page
    assert "Liée à Léa Martin" in page


def test_timeline_of_nobody_is_a_french_404(sync: TestClient) -> None:
    for url in ("/timeline/999", "/timeline/abc", "/timeline/0", "/timeline/99999999999999"):
        answer = sync.get(url, headers=HTML)
        assert answer.status_code == 404, url
        assert "Aucun responsable n°" in text(answer)
        assert "Traceback" not in answer.text
