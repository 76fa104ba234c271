"""The J+1 sync on the simulated clock, with the three services in process."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sync_service import runner
from sync_service.mirror import PUPILS
from tests.sync.onde_steps import add_families, add_parent, admit_pupil, next_day, set_state


def _accounts(educonnect: TestClient, ec_service: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = educonnect.get("/api/v1/accounts", headers=ec_service).json()[
        "items"
    ]
    return items


def test_a_change_of_day_d_reaches_educonnect_on_d_plus_1_not_before(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"])
    assert _accounts(educonnect, ec_service) == []
    moved = next_day(sync, sync_admin)
    assert [r["kind"] for r in moved["runs"]] == ["nightly"]
    run = moved["runs"][0]
    assert run["status"] == "succeeded", run
    assert run["counts"]["created"] == 1
    assert run["cutoff"].startswith("2026-09-01T21:59:59")
    assert moved["clock"]["local_date"] == "2026-09-02"
    accounts = _accounts(educonnect, ec_service)
    assert [(a["nom"], a["state"]) for a in accounts] == [("Martin", "non_active")]
    assert onde.get("/api/v1/clock").json()["now"] == moved["clock"]["now"]
    assert educonnect.get("/api/v1/clock").json()["now"] == moved["clock"]["now"]

    brother = admit_pupil(onde, director, prenoms="Tom", birth_date="2017-05-06", level="CE2")
    onde.post(
        f"/api/v1/pupils/{brother['id']}/responsables",
        json={"responsable_id": 1, "lien": "mere"},
        headers=director,
    )
    account_id = accounts[0]["id"]
    detail = educonnect.get(f"/api/v1/accounts/{account_id}", headers=ec_service).json()
    assert [a["child"]["prenoms"] for a in detail["attachments"]] == ["Léa"]
    # The child names its ONDE pupil: EduConnect's own child id is another number.
    [child] = [a["child"] for a in detail["attachments"]]
    assert (child["source"], child["source_id"]) == ("onde", str(pupil["id"]))
    second = next_day(sync, sync_admin)["runs"][0]
    assert second["counts"]["proposals_added"] == 1
    assert second["from_cursor"] < second["to_cursor"]
    detail = educonnect.get(f"/api/v1/accounts/{account_id}", headers=ec_service).json()
    assert sorted(a["child"]["prenoms"] for a in detail["attachments"]) == ["Léa", "Tom"]


def test_advancing_three_days_runs_three_nights_in_order(
    sync: TestClient, sync_admin: dict[str, str]
) -> None:
    moved = sync.post("/api/v1/clock/advance", json={"seconds": 3 * 86400}, headers=sync_admin)
    runs = moved.json()["runs"]
    assert [r["kind"] for r in runs] == ["nightly"] * 3
    cutoffs = [r["cutoff"] for r in runs]
    assert cutoffs == sorted(cutoffs)
    assert len(set(cutoffs)) == 3
    again = sync.post("/api/v1/clock/advance", json={"seconds": 3600}, headers=sync_admin)
    assert again.json()["runs"] == []


def test_struck_off_deactivates_and_coming_back_restores(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"])
    next_day(sync, sync_admin)
    set_state(onde, director, pupil["id"], "radie")
    run = next_day(sync, sync_admin)["runs"][0]
    assert (run["counts"]["links_removed"], run["counts"]["deactivated"]) == (1, 1)
    assert _accounts(educonnect, ec_service)[0]["state"] == "desactive"
    set_state(onde, director, pupil["id"], "inscrit")
    set_state(onde, director, pupil["id"], "admis")
    run = next_day(sync, sync_admin)["runs"][0]
    assert run["counts"]["restored"] == 1
    assert _accounts(educonnect, ec_service)[0]["state"] == "non_active"


def test_a_foster_family_is_excluded_with_its_reason(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"], lien="famille_accueil", autorite_parentale=False)
    run = next_day(sync, sync_admin)["runs"][0]
    assert run["counts"]["excluded"] == 1
    lines = sync.get(f"/api/v1/runs/{run['id']}/lines", params={"outcome": "excluded"}).json()
    assert "Personnel Collectivité et Invité" in lines[0]["reason"]
    assert _accounts(educonnect, ec_service) == []


def test_the_threshold_holds_mass_deactivation_until_approved(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    sync.app.state.sync.settings.deactivation_max_count = 0  # type: ignore[attr-defined]
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"])
    next_day(sync, sync_admin)
    set_state(onde, director, pupil["id"], "radie")
    run = next_day(sync, sync_admin)["runs"][0]
    assert (run["status"], run["pending_deactivations"]) == ("awaiting_approval", 1)
    assert _accounts(educonnect, ec_service)[0]["state"] == "non_active"
    approved = sync.post(f"/api/v1/runs/{run['id']}/approve", headers=sync_admin).json()
    assert (approved["status"], approved["counts"]["deactivated"]) == ("succeeded", 1)
    assert _accounts(educonnect, ec_service)[0]["state"] == "desactive"
    twice = sync.post(f"/api/v1/runs/{run['id']}/approve", headers=sync_admin)
    assert twice.status_code == 409


def test_a_manual_run_takes_todays_changes_and_says_so(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"], mobile=None)
    run = sync.post("/api/v1/runs", json={}, headers=sync_admin).json()
    assert (run["kind"], run["counts"]["created"], run["counts"]["no_mobile"]) == ("manual", 1, 1)
    assert len(_accounts(educonnect, ec_service)) == 1
    csv = sync.get(f"/api/v1/runs/{run['id']}/report.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "no mobile in ONDE" in csv.text
    report = sync.get(f"/api/v1/runs/{run['id']}/report.json").json()
    assert report["run"]["id"] == run["id"]
    assert [line["outcome"] for line in report["lines"]] == ["created"]
    assert sync.post("/api/v1/runs", json={}).status_code == 401


def test_a_full_dry_run_reports_and_changes_nothing(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"])
    dry = sync.post("/api/v1/runs", json={"full": True, "dry_run": True}, headers=sync_admin).json()
    assert (dry["kind"], dry["dry_run"], dry["counts"]["created"]) == ("full", True, 1)
    assert _accounts(educonnect, ec_service) == []
    status = sync.get("/api/v1/status").json()
    assert (status["cursor"], status["mirror_ready"]) == (0, False)
    lines = sync.get(f"/api/v1/runs/{dry['id']}/lines").json()
    assert [line["outcome"] for line in lines] == ["created"]


def test_a_full_reconciliation_sends_a_responsable_gone_from_onde_as_deleted(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    pupil = admit_pupil(onde, director)
    kept = add_parent(onde, director, pupil["id"])
    gone = add_parent(
        onde,
        director,
        pupil["id"],
        lien="pere",
        civility="M",
        nom="Durand",
        prenom="Paul",
        mobile="06 98 76 54 32",
    )
    assert next_day(sync, sync_admin)["runs"][0]["counts"]["created"] == 2
    deleted = onde.delete(f"/api/v1/responsables/{gone['id']}", headers=director)
    assert deleted.status_code == 204
    # A full run re-reads ONDE as it stands and jumps the cursor past the deletion's change:
    # the mirror's responsable that the export no longer has is what tells it.
    run = sync.post("/api/v1/runs", json={"full": True}, headers=sync_admin).json()
    assert (run["status"], run["counts"]["deactivated"]) == ("succeeded", 1), run
    lines = sync.get(f"/api/v1/runs/{run['id']}/lines").json()
    by_id = {line["source_id"]: line for line in lines}
    assert sorted(by_id) == sorted(line["source_id"] for line in lines)  # one line each
    assert set(by_id) == {str(kept["id"]), str(gone["id"])}
    assert run["counts"]["responsables_sent"] == 2
    assert "deleted in ONDE" in by_id[str(gone["id"])]["reason"]
    states = {a["nom"]: a["state"] for a in _accounts(educonnect, ec_service)}
    assert states == {"Martin": "non_active", "Durand": "desactive"}


def test_a_full_reconciliation_starts_with_small_batches_and_doubles_them(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_families(onde, director, 10)
    ctx = sync.app.state.sync  # type: ignore[attr-defined]
    ctx.settings.batch_size = 4
    monkeypatch.setattr(runner, "FIRST_BATCH", 1)
    sizes: list[int] = []
    post_batch = ctx.educonnect.post_batch

    def counted(body: bytes) -> bytes:
        sizes.append(len(orjson.loads(body)["items"]))
        answer: bytes = post_batch(body)
        return answer

    monkeypatch.setattr(ctx.educonnect, "post_batch", counted)
    run = sync.post("/api/v1/runs", json={"full": True}, headers=sync_admin).json()
    assert (run["status"], run["counts"]["created"]) == ("succeeded", 10), run
    assert sizes == [1, 2, 4, 3]  # doubling up to the batch size, then what is left
    lines = sync.get(f"/api/v1/runs/{run['id']}/lines").json()
    assert [line["source_id"] for line in lines] == [str(n) for n in range(1, 11)]
    assert len(_accounts(educonnect, ec_service)) == 10


def test_a_full_reconciliation_reads_pupils_as_far_as_each_page_of_responsables_needs(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    educonnect: TestClient,
    ec_service: dict[str, str],
) -> None:
    # The first responsables are linked to the last pupils: their page needs every pupil.
    pupils = [admit_pupil(onde, director, prenoms=f"Enfant{letter}") for letter in "abcdef"]
    for index, pupil in enumerate(reversed(pupils)):
        add_parent(onde, director, pupil["id"], prenom=f"Parent{pupil['prenoms'][-1]}",
                   mobile=f"06 12 34 56 {index:02d}")  # fmt: skip
    ctx = sync.app.state.sync  # type: ignore[attr-defined]
    ctx.settings.page_size = 2
    run = sync.post("/api/v1/runs", json={"full": True}, headers=sync_admin).json()
    assert (run["status"], run["counts"]["created"]) == ("succeeded", 6), run
    children = {}
    for account in _accounts(educonnect, ec_service):
        detail = educonnect.get(f"/api/v1/accounts/{account['id']}", headers=ec_service).json()
        children[detail["prenom"]] = [a["child"]["prenoms"] for a in detail["attachments"]]
    assert children == {f"Parent{letter}": [f"Enfant{letter}"] for letter in "abcdef"}
    with ctx.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(PUPILS)) == 6


def _watch_full_run(
    sync: TestClient, monkeypatch: pytest.MonkeyPatch, seen: Callable[[tuple[Any, ...]], None]
) -> None:
    """Watch a full run with pages of 2 and a first batch of 1.

    ``seen`` gets ``("export", entity, after)`` before each export page is asked for, and
    ``("import",)`` before each import call.
    """
    ctx = sync.app.state.sync  # type: ignore[attr-defined]
    ctx.settings.page_size = 2
    monkeypatch.setattr(runner, "FIRST_BATCH", 1)
    export, post_batch = ctx.onde.export, ctx.educonnect.post_batch

    def exported(entity: str, after: int, *args: Any) -> Any:
        seen(("export", entity, after))
        return export(entity, after, *args)

    def imported(body: bytes) -> bytes:
        seen(("import",))
        answer: bytes = post_batch(body)
        return answer

    monkeypatch.setattr(ctx.onde, "export", exported)
    monkeypatch.setattr(ctx.educonnect, "post_batch", imported)


def test_a_full_reconciliation_imports_before_every_pupil_is_read(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_families(onde, director, 6)
    events: list[tuple[Any, ...]] = []
    _watch_full_run(sync, monkeypatch, events.append)
    run = sync.post("/api/v1/runs", json={"full": True}, headers=sync_admin).json()
    assert (run["status"], run["counts"]["created"]) == ("succeeded", 6), run
    pupil_pages = [event for event in events if event[:2] == ("export", "pupils")]
    assert [event[2] for event in pupil_pages] == [0, 2, 4, 6]
    assert events.index(("import",)) < events.index(("export", "pupils", 6))


def test_a_full_reconciliation_builds_and_records_each_batch_with_the_collector_paused(
    sync: TestClient,
    sync_admin: dict[str, str],
    onde: TestClient,
    director: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_families(onde, director, 4)
    collecting: list[tuple[str, bool]] = []
    record = runner._Sender._record

    def seen(event: tuple[Any, ...]) -> None:
        step = event[1] if event[0] == "export" else event[0]  # the entity exported, or "import"
        collecting.append((step, gc.isenabled()))

    def recorded(self: Any, *args: Any) -> None:
        collecting.append(("record", gc.isenabled()))
        record(self, *args)

    _watch_full_run(sync, monkeypatch, seen)
    monkeypatch.setattr(runner._Sender, "_record", recorded)
    run = sync.post("/api/v1/runs", json={"full": True}, headers=sync_admin).json()
    assert (run["status"], run["counts"]["created"]) == ("succeeded", 4), run
    batch_work = [(step, on) for step, on in collecting if step != "classes"]
    assert {step for step, _ in batch_work} == {"responsables", "pupils", "import", "record"}
    assert not any(on for _, on in batch_work), batch_work
    assert gc.isenabled()
