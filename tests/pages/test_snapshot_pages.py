"""« Instantanés »: save the simulation, rewind it, delete a snapshot, from the sync's pages.

The page calls the snapshot API's functions in-process: what it saves and restores is checked
through the services' APIs (the pupil admitted after the save, the clock, the runs).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edusim.snapshot_format import DEMO_SNAPSHOT, SUFFIX
from edusim_common.web.links import get_links
from edusim_common.web.render import date_fr
from sync_service.config import SyncSettings
from sync_service.main import METADATA as SYNC_METADATA
from sync_service.main import create_app
from sync_service.pages.snapshots import size_fr
from sync_service.runner import SyncContext
from tests.pages import test_form_fuzz, test_page_fuzz
from tests.pages.fuzz_seed import seed_sync
from tests.sync.onde_steps import admit_pupil

HTML = {"accept": "text/html"}
START = "mardi 1er septembre 2026"


@pytest.fixture
def sync(sync_with_snapshots: TestClient) -> TestClient:
    """A sync that reaches the fakes' databases, as under ``edusim up``."""
    return sync_with_snapshots


def text(answer: Any) -> str:
    return re.sub(r"\s+", " ", html.unescape(str(answer.text)))


def flash(answer: Any) -> str:
    found = re.search(r'<p class="flash[ "][^>]*>(.*?)</p>', answer.text, re.S)
    assert found, answer.text
    return re.sub(r"\s+", " ", html.unescape(found.group(1)))


def field_error(answer: Any, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="e-{name}">(.*?)</p>', answer.text, re.S)
    assert found, answer.text
    return html.unescape(found.group(1))


def form_error(answer: Any) -> str:
    found = re.search(r'<p class="form-error"[^>]*>(.*?)</p>', answer.text, re.S)
    assert found, answer.text
    return re.sub(r"\s+", " ", html.unescape(found.group(1)))


def post(sync: TestClient, path: str, **data: str) -> Any:
    """Post a page's form as the browser does (from the site), without following redirects."""
    headers = HTML | {"origin": "http://testserver"}
    return sync.post(path, data=data, headers=headers, follow_redirects=False)


def followed(sync: TestClient, answer: Any) -> Any:
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/instantanes"
    shown = sync.get(answer.headers["location"], headers=HTML)
    assert shown.status_code == 200
    return shown


@pytest.fixture
def state(
    sync: TestClient,
    onde: TestClient,
    educonnect: TestClient,
    director: dict[str, str],
    sync_admin: dict[str, str],
) -> Callable[[], Any]:
    """What a restore rewinds: ONDE's pupils, the runs, every service's clock."""

    def read() -> Any:
        return (
            onde.get("/api/v1/schools/0021593W/pupils", headers=director).json(),
            sync.get("/api/v1/runs", headers=sync_admin).json(),
            sync.get("/api/v1/clock").json(),
            onde.get("/api/v1/clock").json()["now"],
            educonnect.get("/api/v1/clock").json()["now"],
        )

    return read


def test_save_change_restore_through_the_pages(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    snapshot_dir: Path,
    state: Callable[[], Any],
) -> None:
    saved = post(sync, "/instantanes", name="debut-formation")
    listing = followed(sync, saved)
    assert flash(listing).startswith("Instantané « debut-formation » enregistré")
    assert f"le {START}" in flash(listing)
    assert re.search(r'id="snapshot-debut-formation-date">mardi 1er septembre 2026 ', listing.text)
    assert (snapshot_dir / f"debut-formation{SUFFIX}").is_file()
    before = state()

    # The session goes on: a pupil admitted, a night passed (a run, the clock moved).
    pupil = admit_pupil(onde, director, nom="Garnier", prenoms="Hugo")
    moved = sync.post("/sim/next-day", data={"next": "/instantanes"}, headers=HTML)
    assert moved.status_code == 200
    assert "mercredi 2 septembre 2026" in text(moved)
    changed = state()
    assert changed != before
    assert len(changed[1]) == 1

    # The confirmation page says what will be lost, and changes nothing (twice, to be sure).
    for _ in range(2):
        confirm = sync.get("/instantanes/revenir?nom=debut-formation", headers=HTML)
        assert confirm.status_code == 200
        assert "Toutes les saisies faites depuis seront perdues" in text(confirm)
        assert f"La date simulée reviendra au {START}" in text(confirm)
        assert 'action="/instantanes/revenir"' in confirm.text
        assert state() == changed

    restored = post(sync, "/instantanes/revenir", nom="debut-formation")
    shown = followed(sync, restored)
    said = flash(shown)
    assert said.startswith(f"La simulation est revenue au {START}"), said
    assert "« debut-formation »" in said
    assert state() == before
    gone = onde.get(f"/api/v1/pupils/{pupil['id']}", headers=director)
    assert gone.status_code == 404
    assert re.search(r'id="sim-date">mardi 1er septembre 2026<', shown.text)  # the bar agrees


def test_a_run_or_a_clock_move_refuses_in_french_and_changes_nothing(
    sync: TestClient,
    onde: TestClient,
    director: dict[str, str],
    sync_admin: dict[str, str],
    snapshot_dir: Path,
    state: Callable[[], Any],
) -> None:
    ctx: SyncContext = sync.app.state.sync  # type: ignore[attr-defined]
    assert post(sync, "/instantanes", name="jour1").status_code == 303
    admit_pupil(onde, director)
    sync.post("/api/v1/clock/next-day", headers=sync_admin)
    before = state()
    saved_file = (snapshot_dir / f"jour1{SUFFIX}").read_bytes()

    for lock, said in (
        (ctx.driver_lock, "La date simulée est en train d'avancer"),
        (ctx.run_lock, "Une synchronisation est en cours"),
    ):
        with lock:
            refused = post(sync, "/instantanes/revenir", nom="jour1")
            assert refused.status_code == 409, refused.text
            assert form_error(refused).startswith(f"Retour impossible. {said}")
            assert "Rien n'a été modifié" in form_error(refused)
            assert 'action="/instantanes/revenir"' in refused.text  # the button, to try again
            assert state() == before

            refused = post(sync, "/instantanes", name="jour2")
            assert refused.status_code == 409, refused.text
            assert form_error(refused).startswith(f"Instantané non enregistré. {said}")
            assert 'value="jour2"' in refused.text
            assert not (snapshot_dir / f"jour2{SUFFIX}").exists()

            refused = post(sync, "/instantanes", name="jour1", overwrite="oui")
            assert refused.status_code == 409
            assert (snapshot_dir / f"jour1{SUFFIX}").read_bytes() == saved_file
    assert state() == before
    assert post(sync, "/instantanes/revenir", nom="jour1").status_code == 303  # free again
    assert state() != before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Donnez un nom à l'instantané"),
        ("début", "Nom refusé : lettres sans accent"),
        ("-debut", "Nom refusé"),
        ("a/b", "Nom refusé"),
        ("x" * 65, "Nom refusé"),
        ("jour\x00", "Nom refusé"),
        ("jour1.tmp", "Nom refusé"),  # the API's pattern lets it by; the store refuses it
    ],
)
def test_bad_names_are_said_next_to_the_field(
    sync: TestClient, snapshot_dir: Path, name: str, message: str
) -> None:
    refused = post(sync, "/instantanes", name=name)
    assert refused.status_code == 422, refused.text
    assert field_error(refused, "name").startswith(message)
    assert 'aria-invalid="true"' in refused.text
    assert not snapshot_dir.exists() or not list(snapshot_dir.iterdir())


def test_overwriting_needs_an_explicit_choice(sync: TestClient, snapshot_dir: Path) -> None:
    assert post(sync, "/instantanes", name="seance").status_code == 303
    first = (snapshot_dir / f"seance{SUFFIX}").read_bytes()
    sync.post("/sim/next-day", data={"next": "/"}, headers=HTML)

    taken = post(sync, "/instantanes", name="seance")
    assert taken.status_code == 409
    assert field_error(taken, "name").startswith("Un instantané porte déjà ce nom")
    assert 'name="overwrite" value="oui"' in taken.text  # the choice, offered unticked
    assert "checked" not in taken.text
    assert (snapshot_dir / f"seance{SUFFIX}").read_bytes() == first

    replaced = followed(sync, post(sync, "/instantanes", name="seance", overwrite="oui"))
    assert "(l'ancien a été remplacé)" in flash(replaced)
    assert "mercredi 2 septembre 2026" in flash(replaced)
    assert (snapshot_dir / f"seance{SUFFIX}").read_bytes() != first


def test_delete_goes_through_a_confirmation(sync: TestClient, snapshot_dir: Path) -> None:
    assert post(sync, "/instantanes", name="a-effacer").status_code == 303
    file = snapshot_dir / f"a-effacer{SUFFIX}"
    listing = sync.get("/instantanes", headers=HTML)
    assert 'href="/instantanes/supprimer?nom=a-effacer"' in listing.text
    assert 'href="/instantanes/revenir?nom=a-effacer"' in listing.text
    assert "Revenir à cet instantané" in listing.text

    confirm = sync.get("/instantanes/supprimer?nom=a-effacer", headers=HTML)
    assert confirm.status_code == 200
    assert "la simulation elle-même ne change pas" in text(confirm)
    assert file.is_file()

    deleted = followed(sync, post(sync, "/instantanes/supprimer", nom="a-effacer"))
    assert flash(deleted).startswith("Instantané « a-effacer » supprimé.")
    assert not file.exists()
    assert 'id="no-snapshots"' in deleted.text
    again = followed(sync, post(sync, "/instantanes/supprimer", nom="a-effacer"))
    assert "Aucun instantané « a-effacer »" in flash(again)


@pytest.mark.parametrize("path", ["/instantanes/revenir", "/instantanes/supprimer"])
@pytest.mark.parametrize("name", ["inconnu", "début", "../sync", "x" * 5000])
def test_an_unknown_snapshot_leads_back_to_the_list(sync: TestClient, path: str, name: str) -> None:
    answer = sync.get(path, params={"nom": name}, headers=HTML, follow_redirects=False)
    shown = followed(sync, answer)
    assert "Choisissez un instantané dans la liste." in flash(shown)
    if name != "inconnu":
        assert name not in flash(shown)  # only a valid name is repeated
    assert post(sync, path, nom=name).status_code == 303


def test_no_name_comes_back_to_the_list_keeping_the_message(sync: TestClient) -> None:
    """The bar's « Jour suivant » on a confirmation re-shown after a refusal lands here."""
    moved = sync.post("/sim/next-day", data={"next": "/instantanes/revenir"}, headers=HTML)
    assert moved.status_code == 200
    assert moved.url.path == "/instantanes"
    assert flash(moved).startswith("Nous sommes le mercredi 2 septembre 2026")


def test_the_demo_snapshot_is_the_start_of_the_demonstration(
    sync: TestClient, snapshot_dir: Path
) -> None:
    assert DEMO_SNAPSHOT == "demo-seed"
    assert post(sync, "/instantanes", name=DEMO_SNAPSHOT).status_code == 303
    listing = sync.get("/instantanes", headers=HTML)
    assert "Début de la démonstration" in listing.text
    confirm = sync.get(f"/instantanes/revenir?nom={DEMO_SNAPSHOT}", headers=HTML)
    assert "Revenir à l'instantané « début de la démonstration » ?" in text(confirm)
    restored = followed(sync, post(sync, "/instantanes/revenir", nom=DEMO_SNAPSHOT))
    assert "(instantané « début de la démonstration »)" in flash(restored)


def test_without_the_other_databases_the_page_says_so(
    sync_settings: SyncSettings,
    onde: TestClient,
    educonnect: TestClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    snapshot_dir: Path,
) -> None:
    monkeypatch.delenv("ONDE_DATABASE_URL", raising=False)
    monkeypatch.delenv("EDUCONNECT_DATABASE_URL", raising=False)
    (tmp_path / "alone").mkdir()
    alone = sync_settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'alone' / 'sync.db'}"}
    )
    app = create_app(alone, onde_client=onde, educonnect_client=educonnect)
    with TestClient(app) as sync:
        listing = sync.get("/instantanes", headers=HTML)
        assert listing.status_code == 200
        assert 'id="snapshots-unavailable"' in listing.text
        refused = post(sync, "/instantanes", name="debut")
        assert refused.status_code == 409
        assert "Les instantanés ne sont pas disponibles" in form_error(refused)
        assert not snapshot_dir.exists() or not list(snapshot_dir.iterdir())


def test_a_form_from_another_site_is_refused(sync: TestClient, snapshot_dir: Path) -> None:
    refused = sync.post(
        "/instantanes",
        data={"name": "debut"},
        headers=HTML | {"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "envoyé depuis un autre site" in text(refused)
    assert not (snapshot_dir / f"debut{SUFFIX}").exists()


def test_the_bar_and_the_home_link_to_the_page(sync: TestClient) -> None:
    home = sync.get("/", headers=HTML)
    assert 'id="sim-snapshots"' in home.text
    assert home.text.count("/instantanes") >= 2  # the bar and the home's tile


def test_sizes_and_dates_in_french() -> None:
    assert size_fr(None) == "—"
    assert size_fr(1) == "1 octet"
    assert size_fr(850) == "850 octets"
    assert size_fr(12_700) == "12,4 ko"
    assert size_fr(3 * 1024**2 + 100_000) == "3,1 Mo"
    assert date_fr(None) == "—"


def test_the_snapshot_pages_under_fuzz(
    sync: TestClient, onde: TestClient, director: dict[str, str], snapshot_dir: Path
) -> None:
    """The fuzzers of every page and form, with a snapshot to show: its confirmations are
    crawled, their forms posted with its real name and with hostile ones (the shared fuzz tests
    run with no snapshot at all). Never a 5xx, always French, and a refusal writes nothing."""
    seeded = seed_sync(sync, onde, director)
    assert post(sync, "/instantanes", name="debut").status_code == 303
    service = test_form_fuzz.seeded_service(
        "sync", sync, get_links().sync_url, seeded, SYNC_METADATA
    )
    service.routes = [r for r in service.routes if r.path.startswith("/instantanes")]
    service.stats = {r.path: test_form_fuzz.RouteStats() for r in service.routes}
    shown = service.forms()[0]
    assert shown["/instantanes/revenir"]["nom"] == {"debut"}
    assert shown["/instantanes/supprimer"]["nom"] == {"debut"}
    service.fuzz(examples=12)
    service.check_coverage(minimum_routes=3)
    assert service.stats["/instantanes/revenir"].statuses[303] > 0

    assert post(sync, "/instantanes", name="debut", overwrite="oui").status_code == 303
    pages = test_page_fuzz.Pages(service, seeded.ids, ("nom",))
    pages.routes = [r for r in pages.routes if r.path.startswith("/instantanes")]
    pages.stats = {r.path: test_page_fuzz.RouteStats() for r in pages.routes}
    pages.downloads = {}
    assert "debut" in pages.query_values["nom"]
    pages.fuzz(examples=12)
    for route in pages.routes[1:]:  # the confirmations: the real name, or a hostile one
        pages.fuzz_route(route, {}, {"nom": ["debut"]}, examples=12)
        assert pages.stats[route.path].statuses[200] > 0, (route.path, pages.stats)
    pages.check_coverage(minimum_routes=3)
