"""The simulation's home, the bar and its actions, the French error pages."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from edusim_common.web.links import WebLinks
from sync_service.locks import RunLock
from sync_service.models import RunKind
from sync_service.runner import SyncContext, claim_run
from tests.sync.onde_steps import add_parent, admit_pupil

HTML = {"accept": "text/html"}


def test_home_shows_the_simulated_date_and_links_every_screen(sync: TestClient) -> None:
    answer = sync.get("/", headers=HTML)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    body = html.unescape(answer.text)
    assert 'lang="fr"' in body
    assert "Aujourd'hui (simulé)" in body
    assert "mardi 1er septembre 2026" in body  # the default clock start
    assert "Aucune synchronisation pour l'instant" in body
    for target in ("/console", "/outbox", "/runs", "/timeline"):
        assert target in body
    # « Aller au contenu »: the keyboard's first stop, before the bar's and the menu's 11 links
    first_link = body.index("<a ")
    assert body[first_link:].startswith('<a class="skip-link" href="#contenu"')
    assert body.index('id="contenu"') < body.index("<main>")


def test_next_day_runs_the_night_and_comes_back_with_a_message(
    sync: TestClient, onde: TestClient, director: dict[str, str]
) -> None:
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"])
    moved = sync.post(
        "/sim/next-day", data={"next": "/?from=test"}, headers=HTML, follow_redirects=False
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == "/?from=test"
    after = sync.get("/?from=test", headers=HTML)
    assert "mercredi 2 septembre 2026" in after.text
    assert "synchronisation réussie" in after.text  # the one-time message
    assert "Synchronisation nocturne n° 1 : réussie" in after.text  # the bar's last run
    again = sync.get("/", headers=HTML)
    assert "synchronisation réussie" not in again.text  # shown once


def test_run_now_is_marked_manual(sync: TestClient) -> None:
    sync.post("/sim/run-now", data={"next": "/"}, headers=HTML)
    assert "Synchronisation manuelle n° 1 : réussie" in sync.get("/", headers=HTML).text
    assert sync.get("/api/v1/runs").json()[0]["kind"] == "manual"


def test_a_run_elsewhere_is_said_in_french_and_starts_nothing(sync: TestClient) -> None:
    """Another replica is running run 1: « Lancer maintenant », « Jour suivant » and
    « Approuver » say so in French, and no run starts."""
    ctx: SyncContext = sync.app.state.sync  # type: ignore[attr-defined]
    elsewhere = RunLock(ctx.engine)
    assert elsewhere.acquire(blocking=False)
    try:
        run_id = claim_run(ctx, RunKind.manual, ctx.clock.now(), dry_run=False)
        for path, said in (
            ("/sim/run-now", "Synchronisation impossible pour l'instant"),
            ("/sim/next-day", "Jour suivant impossible pour l'instant"),
            (f"/runs/{run_id}/approuver", "Approbation impossible pour l'instant"),
        ):
            sent = sync.post(path, data={"next": "/"}, headers=HTML, follow_redirects=False)
            assert sent.status_code == 303, path
            body = html.unescape(sync.get("/", headers=HTML).text)
            assert f"{said} : la synchronisation n° {run_id} est en cours." in body, path
        assert [run["id"] for run in sync.get("/api/v1/runs").json()] == [run_id]
    finally:
        elsewhere.release()


def test_the_bar_never_redirects_outside_the_simulator(sync: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        moved = sync.post(
            "/sim/run-now", data={"next": target}, headers=HTML, follow_redirects=False
        )
        assert moved.headers["location"] == "/", target


def test_safe_next_accepts_the_services_pages_only() -> None:
    links = WebLinks(onde_url="http://127.0.0.1:8001", sync_url="http://127.0.0.1:8003")
    assert links.safe_next("http://127.0.0.1:8001/pupils?x=1") == "http://127.0.0.1:8001/pupils?x=1"
    assert links.safe_next("http://127.0.0.1:9999/") == "/"
    assert links.safe_next(None, "/home") == "/home"


def test_pages_answer_errors_in_french_and_the_api_keeps_problem_json(sync: TestClient) -> None:
    page = sync.get("/no/such/page", headers=HTML)
    assert page.status_code == 404
    assert "Page introuvable" in page.text
    assert "Traceback" not in page.text
    api = sync.get("/api/v1/runs/999", headers=HTML)
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_the_frameworks_refusals_are_explained_in_french_on_pages(sync: TestClient) -> None:
    # Their details are Starlette's, in English (« Missing boundary in multipart. »): a page
    # shows a French one instead, the API keeps them.
    unreadable = sync.post(
        "/sim/run-now", content=b"next=/", headers=HTML | {"content-type": "multipart/form-data"}
    )
    assert unreadable.status_code == 400
    assert "Le formulaire reçu est illisible" in html.unescape(unreadable.text)
    assert "boundary" not in unreadable.text
    assert sync.get("/api/v1/runs").json() == []  # nothing ran
    huge = sync.post("/sim/run-now", data={"next": "/" + "x" * 3_000_000}, headers=HTML)
    assert huge.status_code == 400
    assert "trop volumineux" in html.unescape(huge.text)
    missing = sync.get("/no/such/page", headers=HTML)
    assert "Cette page n'existe pas" in html.unescape(missing.text)
    assert "Not Found" not in missing.text
    wrong_method = sync.put("/runs", headers=HTML)
    assert wrong_method.status_code == 405
    assert "Cette action n'est pas possible" in html.unescape(wrong_method.text)
    api = sync.post("/api/v1/runs", content=b"{", headers={"content-type": "multipart/form-data"})
    assert api.headers["content-type"] == "application/problem+json"


def test_a_nul_in_a_page_address_gets_the_french_error_page(sync: TestClient) -> None:
    # The check in front of the app answered problem+json in English, pages included.
    for method, url in (("POST", "/runs/1%00/approuver"), ("GET", "/runs/%00")):
        page = sync.request(method, url, headers=HTML)
        assert page.status_code == 422, url
        assert page.headers["content-type"].startswith("text/html"), url
        assert "caractère nul (%00)" in html.unescape(page.text)
    api = sync.get("/api/v1/runs/%00", headers=HTML)
    assert api.status_code == 422
    assert api.headers["content-type"] == "application/problem+json"


def test_a_form_posted_from_another_site_is_refused(sync: TestClient) -> None:
    foreign = HTML | {"origin": "https://evil.example"}
    refused = sync.post("/sim/run-now", data={"next": "/"}, headers=foreign)
    assert refused.status_code == 403
    assert "Accès refusé" in refused.text
    assert "envoyé depuis un autre site que la simulation" in html.unescape(refused.text)
    assert "posted" not in refused.text  # the page is French (it said it in English)
    cross = sync.post("/sim/run-now", headers=HTML | {"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    assert sync.get("/api/v1/runs").json() == []  # nothing ran
    ours = HTML | {"origin": "http://127.0.0.1:8001"}  # ONDE's pages post to the bar
    assert sync.post("/sim/run-now", data={"next": "/"}, headers=ours).status_code == 200
