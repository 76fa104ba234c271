"""The change log and the export: every change, in order, on the simulated clock, never lost."""

from __future__ import annotations

import gc
import itertools
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import Session

from edusim_common.db import make_engine
from fake_onde.models import OndeModel
from fake_onde.service.export import ExportKind, export_page
from tests.conftest import DEMO_UAI, make_school

OTHER_UAI = "0000001B"
NAMES = ["Martin", "Lefèvre", "Durand", "N'Diaye", "Éloi", "Bernard"]


def pupil_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nom": "Lefèvre",
        "prenoms": "Léa",
        "sex": "F",
        "birth_date": "2019-02-03",
        "birth_place": "59350",
        "level": "CP",
    }
    body.update(fields)
    return body


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


def set_clock(client: TestClient, service: dict[str, str], when: str) -> None:
    ok(client.put("/api/v1/clock", json={"now": when}, headers=service))


def full_log(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    page = ok(client.get("/api/v1/changes", params={"limit": 500, **params}, headers=headers))
    assert page["has_more"] is False
    items: list[dict[str, Any]] = page["items"]
    return items


def walk(
    client: TestClient, headers: dict[str, str], limit: int, after: int = 0, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """Read the log page by page from ``after``; returns the items and the number of pages."""
    items: list[dict[str, Any]] = []
    pages = 0
    while True:
        page = ok(
            client.get(
                "/api/v1/changes",
                params={"after": after, "limit": limit, **params},
                headers=headers,
            )
        )
        pages += 1
        assert len(page["items"]) <= limit
        assert all(item["seq"] > after for item in page["items"])
        items += page["items"]
        assert page["next_after"] == (page["items"][-1]["seq"] if page["items"] else after)
        after = page["next_after"]
        if not page["has_more"]:
            return items, pages


def kinds(items: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(c["entity"], c["op"], c["entity_id"], c["at"]) for c in items]


def assert_strictly_increasing(items: list[dict[str, Any]]) -> None:
    seqs = [c["seq"] for c in items]
    assert all(a < b for a, b in itertools.pairwise(seqs)), seqs


# ---------------------------------------------------------------- every kind, in order


def test_every_change_kind_is_recorded_in_order_with_the_simulated_time(
    onde: TestClient, service: dict[str, str]
) -> None:
    director = make_school(onde)
    school = ok(onde.get(f"/api/v1/schools/{DEMO_UAI}", headers=director))
    expected: list[tuple[str, str, str, str]] = [
        ("school", "create", DEMO_UAI, school["created_at"])
    ]
    snapshots: list[dict[str, Any] | None] = [None]

    def at(minute: int) -> str:
        when = f"2026-09-02T07:{minute:02d}:00Z"
        set_clock(onde, service, when)
        return when

    def step(entity: str, op: str, entity_id: object, when: str, data: Any = None) -> None:
        expected.append((entity, op, str(entity_id), when))
        snapshots.append(data)

    when = at(1)
    cls = ok(
        onde.post(
            f"/api/v1/schools/{DEMO_UAI}/classes",
            json={"label": "CP A", "levels": ["CP"]},
            headers=director,
        ),
        201,
    )
    step("class", "create", cls["id"], when, cls)
    when = at(2)
    pupil = ok(
        onde.post(
            f"/api/v1/schools/{DEMO_UAI}/pupils",
            json=pupil_body(class_id=cls["id"]),
            headers=director,
        ),
        201,
    )
    step("pupil", "create", pupil["id"], when, pupil)
    when = at(3)
    pupil = ok(
        onde.patch(f"/api/v1/pupils/{pupil['id']}", json={"nom": "Durand"}, headers=director)
    )
    step("pupil", "update", pupil["id"], when, pupil)
    when = at(4)
    pupil = ok(
        onde.post(f"/api/v1/pupils/{pupil['id']}/state", json={"state": "admis"}, headers=director)
    )
    step("pupil", "state", pupil["id"], when, pupil)
    when = at(5)
    parent = ok(
        onde.post(
            f"/api/v1/schools/{DEMO_UAI}/responsables",
            json={"civility": "MME", "nom": "Durand", "prenom": "Anne", "mobile": "0612345678"},
            headers=director,
        ),
        201,
    )
    step("responsable", "create", parent["id"], when, parent)
    when = at(6)
    parent = ok(
        onde.patch(f"/api/v1/responsables/{parent['id']}", json={"mobile": None}, headers=director)
    )
    step("responsable", "update", parent["id"], when, parent)
    when = at(7)
    link = ok(
        onde.post(
            f"/api/v1/pupils/{pupil['id']}/responsables",
            json={"responsable_id": parent["id"], "lien": "mere"},
            headers=director,
        ),
        201,
    )
    step("link", "create", link["id"], when, link)
    when = at(8)
    link_url = f"/api/v1/pupils/{pupil['id']}/responsables/{parent['id']}"
    link = ok(onde.patch(link_url, json={"autorite_parentale": False}, headers=director))
    step("link", "update", link["id"], when, link)
    when = at(9)
    ok(onde.delete(link_url, headers=director), 204)
    step("link", "delete", link["id"], when, link)
    when = at(10)
    ok(onde.delete(f"/api/v1/responsables/{parent['id']}", headers=director), 204)
    step("responsable", "delete", parent["id"], when, parent)
    when = at(11)
    pupil = ok(
        onde.post(f"/api/v1/pupils/{pupil['id']}/state", json={"state": "radie"}, headers=director)
    )
    step("pupil", "state", pupil["id"], when, pupil)
    when = at(12)
    ok(onde.delete(f"/api/v1/pupils/{pupil['id']}", headers=director), 204)
    step("pupil", "delete", pupil["id"], when, pupil)
    when = at(13)
    ok(onde.delete(f"/api/v1/classes/{cls['id']}", headers=director), 204)
    step("class", "delete", cls["id"], when, cls)

    items = full_log(onde, service)
    assert kinds(items) == expected
    assert_strictly_increasing(items)
    for item, data in zip(items, snapshots, strict=True):
        assert item["school_uai"] == DEMO_UAI
        if data is not None:
            assert item["data"] == data, item
    page = ok(onde.get("/api/v1/changes", headers=service))
    assert page["last_seq"] == items[-1]["seq"]


def test_no_change_for_a_no_op_patch_or_a_refused_request(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    other = make_school(onde, OTHER_UAI)
    pupil = ok(
        onde.post(f"/api/v1/schools/{DEMO_UAI}/pupils", json=pupil_body(), headers=director), 201
    )
    parent = ok(
        onde.post(
            f"/api/v1/schools/{DEMO_UAI}/responsables",
            json={"civility": "M", "nom": "Durand", "prenom": "Marc", "mobile": "0612345678"},
            headers=director,
        ),
        201,
    )
    ok(
        onde.post(
            f"/api/v1/pupils/{pupil['id']}/responsables",
            json={"responsable_id": parent["id"], "lien": "pere"},
            headers=director,
        ),
        201,
    )
    before = full_log(onde, service)
    link_url = f"/api/v1/pupils/{pupil['id']}/responsables/{parent['id']}"
    no_ops = [
        ("PATCH", f"/api/v1/pupils/{pupil['id']}", {}),
        ("PATCH", f"/api/v1/pupils/{pupil['id']}", {"nom": "Lefèvre", "level": "CP"}),
        ("PATCH", f"/api/v1/pupils/{pupil['id']}", {"nom": "  Lefèvre "}),
        ("PATCH", f"/api/v1/responsables/{parent['id']}", {"mobile": "06 12 34 56 78"}),
        ("PATCH", f"/api/v1/responsables/{parent['id']}", {"email": None, "address": None}),
        ("PATCH", link_url, {"lien": "pere", "autorite_parentale": True}),
    ]
    for method, path, body in no_ops:
        ok(onde.request(method, path, json=body, headers=director))
    refused = [
        ("POST", f"/api/v1/pupils/{pupil['id']}/state", {"state": "admis_definitif"}, 409),
        ("PATCH", f"/api/v1/pupils/{pupil['id']}", {"birth_date": "2099-01-01"}, 422),
        ("PATCH", f"/api/v1/pupils/{pupil['id']}", {"nom": None}, 422),
        ("POST", f"/api/v1/schools/{DEMO_UAI}/pupils", pupil_body(ine="0000000000X"), 422),
        (
            "POST",
            f"/api/v1/pupils/{pupil['id']}/responsables",
            {"responsable_id": parent["id"], "lien": "mere"},
            409,
        ),
        ("PATCH", f"/api/v1/responsables/{parent['id']}", {"mobile": "0320123456"}, 422),
        ("DELETE", "/api/v1/pupils/9999", None, 404),
        ("POST", f"/api/v1/schools/{OTHER_UAI}/pupils", pupil_body(), 403),
        (
            "POST",
            "/api/v1/schools",
            {"uai": DEMO_UAI, "name": "x", "commune": "x", "academie": "x"},
            409,
        ),
        (
            "POST",
            "/api/v1/schools",
            {"uai": "0000002C", "name": "x", "commune": "x", "academie": "x"},
            403,
        ),
    ]
    for method, path, body, status in refused:
        headers = service if (path, status) == ("/api/v1/schools", 409) else director
        response = onde.request(method, path, json=body, headers=headers)
        assert response.status_code == status, (method, path, response.text)
    ok(onde.get(f"/api/v1/schools/{OTHER_UAI}", headers=other))
    assert full_log(onde, service) == before


# ---------------------------------------------------------------- until


def test_until_cuts_off_changes_of_the_next_day(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    # Day D-1 = 1 September (Paris); day D = 2 September.
    set_clock(onde, service, "2026-09-01T10:00:00+02:00")
    first = ok(
        onde.post(f"/api/v1/schools/{DEMO_UAI}/pupils", json=pupil_body(), headers=director), 201
    )
    set_clock(onde, service, "2026-09-01T23:59:59+02:00")
    ok(onde.patch(f"/api/v1/pupils/{first['id']}", json={"prenoms": "Léna"}, headers=director))
    ok(onde.post("/api/v1/clock/advance", json={"seconds": 9 * 3600 + 1}, headers=service))
    second = ok(
        onde.post(
            f"/api/v1/schools/{DEMO_UAI}/pupils", json=pupil_body(nom="Durand"), headers=director
        ),
        201,
    )
    end_of_previous_day = "2026-09-01T23:59:59.999999+02:00"
    day_before = ok(
        onde.get("/api/v1/changes", params={"until": end_of_previous_day}, headers=service)
    )
    assert [(c["entity_id"], c["op"]) for c in day_before["items"]] == [
        (DEMO_UAI, "create"),
        (str(first["id"]), "create"),
        (str(first["id"]), "update"),
    ]
    assert day_before["has_more"] is False
    assert day_before["last_seq"] > day_before["next_after"]
    # the same cut-off expressed in UTC, or naive (taken as UTC), gives the same answer
    same = ok(
        onde.get(
            "/api/v1/changes", params={"until": "2026-09-01T21:59:59.999999Z"}, headers=service
        )
    )
    assert same["items"] == day_before["items"]
    naive = ok(
        onde.get("/api/v1/changes", params={"until": "2026-09-01T21:59:59.999999"}, headers=service)
    )
    assert naive["items"] == day_before["items"]
    # the next night reads on from its cursor and gets day D's change
    next_night = ok(
        onde.get(
            "/api/v1/changes",
            params={"after": day_before["next_after"], "until": "2026-09-02T23:59:59+02:00"},
            headers=service,
        )
    )
    assert [(c["entity_id"], c["op"], c["at"]) for c in next_night["items"]] == [
        (str(second["id"]), "create", "2026-09-02T07:00:00Z")
    ]
    # nothing new: the cursor stays
    idle = ok(
        onde.get("/api/v1/changes", params={"after": next_night["next_after"]}, headers=service)
    )
    assert idle["items"] == []
    assert idle["next_after"] == next_night["next_after"]
    assert idle["has_more"] is False


def test_until_stops_at_the_first_later_change_even_if_the_clock_went_back(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    set_clock(onde, service, "2026-09-03T08:00:00Z")
    later = ok(
        onde.post(f"/api/v1/schools/{DEMO_UAI}/pupils", json=pupil_body(), headers=director), 201
    )
    set_clock(onde, service, "2026-09-01T08:00:00Z")
    ok(onde.patch(f"/api/v1/pupils/{later['id']}", json={"prenoms": "Léna"}, headers=director))
    page = ok(
        onde.get("/api/v1/changes", params={"until": "2026-09-02T00:00:00Z"}, headers=service)
    )
    # only the school's creation: the change recorded after the clock went back comes later in the
    # log, and skipping over the 3 September change would lose it for a cursor-based reader.
    assert [c["entity"] for c in page["items"]] == ["school"]
    rest, _ = walk(onde, service, limit=10, after=page["next_after"])
    assert [c["op"] for c in rest] == ["create", "update"]


@pytest.mark.parametrize(
    "until",
    ["1800-01-01T00:00:00Z", "yesterday", "3001-01-01T00:00:00Z", "0.5", "1790000000", "-1e3"],
)
def test_bad_until_is_422(onde: TestClient, service: dict[str, str], until: str) -> None:
    response = onde.get("/api/v1/changes", params={"until": until}, headers=service)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.until"


# ---------------------------------------------------------------- paging


def test_small_pages_walk_everything_exactly_once(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    for n in range(14):
        ok(
            onde.post(
                f"/api/v1/schools/{DEMO_UAI}/responsables",
                json={"civility": "MME", "nom": NAMES[n % len(NAMES)], "prenom": "Anne"},
                headers=director,
            ),
            201,
        )
    everything = full_log(onde, service)
    assert len(everything) == 15
    for limit in (1, 2, 3, 5, 15, 16):
        items, pages = walk(onde, service, limit)
        assert items == everything, limit
        assert pages == max(1, -(-len(everything) // limit)), limit
    # starting in the middle reads only what follows
    middle = everything[6]["seq"]
    items, _ = walk(onde, service, 4, after=middle)
    assert items == everything[7:]


def test_interleaved_writes_and_paged_reads_lose_or_double_nothing(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    client = onde

    class ChangeLogMachine(RuleBasedStateMachine):
        """Random writes, refused writes and paged reads; the reader must see every change once."""

        def __init__(self) -> None:
            super().__init__()
            self.start: int = ok(client.get("/api/v1/changes", headers=service))["last_seq"]
            self.cursor = self.start
            self.read: list[dict[str, Any]] = []
            self.writes = 0
            self.parents: list[int] = []
            self.pupils: list[int] = []

        @rule(nom=st.sampled_from(NAMES), mobile=st.booleans())
        def create_responsable(self, nom: str, mobile: bool) -> None:
            body: dict[str, Any] = {"civility": "M", "nom": nom, "prenom": "Paul"}
            if mobile:
                body["mobile"] = "0612345678"
            created = ok(
                client.post(
                    f"/api/v1/schools/{DEMO_UAI}/responsables", json=body, headers=director
                ),
                201,
            )
            self.parents.append(created["id"])
            self.writes += 1

        @rule(nom=st.sampled_from(NAMES))
        def create_pupil(self, nom: str) -> None:
            created = ok(
                client.post(
                    f"/api/v1/schools/{DEMO_UAI}/pupils", json=pupil_body(nom=nom), headers=director
                ),
                201,
            )
            self.pupils.append(created["id"])
            self.writes += 1

        @precondition(lambda self: self.parents)
        @rule(data=st.data(), nom=st.sampled_from(NAMES))
        def update_responsable(self, data: st.DataObject, nom: str) -> None:
            target = data.draw(st.sampled_from(self.parents))
            url = f"/api/v1/responsables/{target}"
            current = ok(client.get(url, headers=director))
            ok(client.patch(url, json={"nom": nom}, headers=director))
            if current["nom"] != nom:
                self.writes += 1

        @precondition(lambda self: self.pupils)
        @rule(data=st.data())
        def refused_write(self, data: st.DataObject) -> None:
            target = data.draw(st.sampled_from(self.pupils))
            response = client.post(
                f"/api/v1/pupils/{target}/state",
                json={"state": "admis_definitif"},
                headers=director,
            )
            assert response.status_code == 409

        @precondition(lambda self: self.pupils and self.parents)
        @rule(data=st.data())
        def link_or_unlink(self, data: st.DataObject) -> None:
            pupil = data.draw(st.sampled_from(self.pupils))
            parent = data.draw(st.sampled_from(self.parents))
            url = f"/api/v1/pupils/{pupil}/responsables"
            response = client.post(
                url, json={"responsable_id": parent, "lien": "tuteur"}, headers=director
            )
            if response.status_code == 409:
                ok(client.delete(f"{url}/{parent}", headers=director), 204)
            else:
                assert response.status_code == 201
            self.writes += 1

        @rule(limit=st.integers(min_value=1, max_value=4))
        def read_page(self, limit: int) -> None:
            page = ok(
                client.get(
                    "/api/v1/changes",
                    params={"after": self.cursor, "limit": limit},
                    headers=service,
                )
            )
            assert len(page["items"]) <= limit
            self.read += page["items"]
            self.cursor = page["next_after"]

        @invariant()
        def pages_are_in_order_without_duplicates(self) -> None:
            seqs = [c["seq"] for c in self.read]
            assert all(a < b for a, b in itertools.pairwise([self.start, *seqs]))

        def teardown(self) -> None:
            while True:
                page = ok(
                    client.get(
                        "/api/v1/changes",
                        params={"after": self.cursor, "limit": 3},
                        headers=service,
                    )
                )
                self.read += page["items"]
                self.cursor = page["next_after"]
                if not page["has_more"]:
                    break
            expected = full_log(client, service, after=self.start)
            assert self.read == expected
            assert len(expected) == self.writes

    run_state_machine_as_test(
        ChangeLogMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def test_concurrent_writers_and_a_paging_reader(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    writers, writes_each = 4, 12
    start = ok(onde.get("/api/v1/changes", headers=service))["last_seq"]
    done = threading.Event()
    errors: list[BaseException] = []
    read: list[dict[str, Any]] = []

    def write(worker: int) -> None:
        try:
            for n in range(writes_each):
                body = {"civility": "MME", "nom": NAMES[worker], "prenom": f"Anne {chr(97 + n)}"}
                created = onde.post(
                    f"/api/v1/schools/{DEMO_UAI}/responsables", json=body, headers=director
                )
                assert created.status_code == 201, created.text
                if n % 3 == 0:
                    patched = onde.patch(
                        f"/api/v1/responsables/{created.json()['id']}",
                        json={"mobile": "0612345678"},
                        headers=director,
                    )
                    assert patched.status_code == 200, patched.text
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def reader() -> None:
        cursor = start
        try:
            while True:
                finished = done.is_set()
                page = onde.get(
                    "/api/v1/changes", params={"after": cursor, "limit": 5}, headers=service
                )
                assert page.status_code == 200, page.text
                body = page.json()
                read.extend(body["items"])
                cursor = body["next_after"]
                if finished and not body["has_more"]:
                    return
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    reading = threading.Thread(target=reader)
    reading.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    done.set()
    reading.join(timeout=60)
    assert not reading.is_alive()
    assert errors == []

    expected = full_log(onde, service, after=start)
    per_writer = writes_each + -(-writes_each // 3)
    assert len(expected) == writers * per_writer
    assert_strictly_increasing(read)
    assert read == expected
    assert len({c["seq"] for c in read}) == len(read)


# ---------------------------------------------------------------- scope


def test_a_director_reads_only_its_schools_changes(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    other = make_school(onde, OTHER_UAI)
    for headers, uai in ((director, DEMO_UAI), (other, OTHER_UAI), (director, DEMO_UAI)):
        ok(
            onde.post(f"/api/v1/schools/{uai}/pupils", json=pupil_body(), headers=headers),
            201,
        )
    mine = full_log(onde, director)
    assert {c["school_uai"] for c in mine} == {DEMO_UAI}
    assert [c["entity"] for c in mine] == ["school", "pupil", "pupil"]
    assert full_log(onde, director, school=DEMO_UAI.lower()) == mine
    theirs = full_log(onde, service, school=OTHER_UAI)
    assert {c["school_uai"] for c in theirs} == {OTHER_UAI}
    assert len(theirs) == 2
    assert len(full_log(onde, service)) == 5
    refused = onde.get("/api/v1/changes", params={"school": OTHER_UAI}, headers=director)
    assert refused.status_code == 403
    # paging a school's log by cursor skips the other school's changes without losing any
    items, _ = walk(onde, director, limit=1)
    assert items == mine


# ---------------------------------------------------------------- export


def _export(
    client: TestClient, headers: dict[str, str], entity: str, limit: int, **params: str
) -> tuple[list[dict[str, Any]], list[int]]:
    items: list[dict[str, Any]] = []
    watermarks: list[int] = []
    after = 0
    while True:
        page = ok(
            client.get(
                f"/api/v1/export/{entity}",
                params={"after": after, "limit": limit, **params},
                headers=headers,
            )
        )
        assert page["entity"] == entity
        assert len(page["items"]) <= limit
        items += page["items"]
        watermarks.append(page["watermark"])
        if page["next_after"] is None:
            return items, watermarks
        assert page["next_after"] == page["items"][-1]["id"]
        after = page["next_after"]


def _seed(client: TestClient, director: dict[str, str], other: dict[str, str]) -> dict[str, Any]:
    classes = [
        ok(
            client.post(
                f"/api/v1/schools/{uai}/classes",
                json={"label": label, "levels": ["CP"]},
                headers=headers,
            ),
            201,
        )
        for uai, headers, label in (
            (DEMO_UAI, director, "CP A"),
            (OTHER_UAI, other, "CP B"),
            (DEMO_UAI, director, "CP C"),
        )
    ]
    pupils = [
        ok(
            client.post(
                f"/api/v1/schools/{uai}/pupils",
                json=pupil_body(nom=NAMES[n], class_id=classes[n % 2]["id"]),
                headers=headers,
            ),
            201,
        )
        for n, (uai, headers) in enumerate(
            [(DEMO_UAI, director), (OTHER_UAI, other)] * 2 + [(DEMO_UAI, director)]
        )
    ]
    parents = [
        ok(
            client.post(
                f"/api/v1/schools/{pupil['school_uai']}/responsables",
                json={"civility": "MME", "nom": pupil["nom"], "prenom": "Anne"},
                headers=director if pupil["school_uai"] == DEMO_UAI else other,
            ),
            201,
        )
        for pupil in pupils
    ]
    links = [
        ok(
            client.post(
                f"/api/v1/pupils/{pupil['id']}/responsables",
                json={"responsable_id": parent["id"], "lien": "mere"},
                headers=director if pupil["school_uai"] == DEMO_UAI else other,
            ),
            201,
        )
        for pupil, parent in zip(pupils, parents, strict=True)
    ]
    return {"classes": classes, "pupils": pupils, "responsables": parents, "links": links}


@pytest.mark.parametrize("limit", [1, 2, 5, 100])
def test_export_pages_completely(
    onde: TestClient, director: dict[str, str], service: dict[str, str], limit: int
) -> None:
    other = make_school(onde, OTHER_UAI)
    seeded = _seed(onde, director, other)
    last = ok(onde.get("/api/v1/changes", headers=service))["last_seq"]
    for entity, records in seeded.items():
        items, watermarks = _export(onde, service, entity, limit)
        assert items == records, entity
        assert set(watermarks) == {last}


@pytest.mark.parametrize("limit", [1, 2, 100])
def test_export_of_responsables_can_embed_their_links(
    onde: TestClient, director: dict[str, str], service: dict[str, str], limit: int
) -> None:
    other = make_school(onde, OTHER_UAI)
    seeded = _seed(onde, director, other)
    first, third = seeded["responsables"][0], seeded["pupils"][2]
    second_link = ok(
        onde.post(
            f"/api/v1/pupils/{third['id']}/responsables",
            json={"responsable_id": first["id"], "lien": "mere"},
            headers=director,
        ),
        201,
    )
    alone = ok(
        onde.post(
            f"/api/v1/schools/{DEMO_UAI}/responsables",
            json={"civility": "M", "nom": "Seul", "prenom": "Paul"},
            headers=director,
        ),
        201,
    )
    items, _ = _export(onde, service, "responsables", limit, embed="links")
    links = seeded["links"] + [second_link]
    expected = [
        {**record, "links": [link for link in links if link["responsable_id"] == record["id"]]}
        for record in seeded["responsables"] + [alone]
    ]
    assert items == expected
    assert [link["id"] for link in items[0]["links"]] == [
        seeded["links"][0]["id"],
        second_link["id"],
    ]
    assert items[-1]["links"] == []
    # Without embed, a responsable is the same record with no links key.
    plain, _ = _export(onde, service, "responsables", limit)
    assert plain == seeded["responsables"] + [alone]


@pytest.mark.parametrize(("entity", "embed"), [("pupils", "links"), ("responsables", "pupils")])
def test_export_embeds_links_into_responsables_only(
    onde: TestClient, service: dict[str, str], entity: str, embed: str
) -> None:
    response = onde.get(f"/api/v1/export/{entity}", params={"embed": embed}, headers=service)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["query.embed"]


def test_export_page_embeds_links_into_responsables_only(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'onde.db'}")
    OndeModel.metadata.create_all(engine)
    with Session(engine) as session:
        assert export_page(session, ExportKind.responsables, 0, 10, embed_links=True) == []
        with pytest.raises(ValueError, match="not pupils"):
            export_page(session, ExportKind.pupils, 0, 10, embed_links=True)


def test_export_is_service_only(onde: TestClient, director: dict[str, str]) -> None:
    for entity in ("pupils", "responsables", "links", "classes"):
        response = onde.get(f"/api/v1/export/{entity}", headers=director)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert onde.get(f"/api/v1/export/{entity}").status_code == 401
    assert onde.get("/api/v1/export/schools", headers=director).status_code == 422


def test_export_watermark_lets_the_reader_catch_up_with_writes_made_during_the_export(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    pupils = [
        ok(
            onde.post(
                f"/api/v1/schools/{DEMO_UAI}/pupils", json=pupil_body(nom=name), headers=director
            ),
            201,
        )
        for name in NAMES[:4]
    ]
    first = ok(onde.get("/api/v1/export/pupils", params={"limit": 2}, headers=service))
    watermark = first["watermark"]
    assert [p["id"] for p in first["items"]] == [p["id"] for p in pupils[:2]]
    # while the export runs, the first (already exported) pupil is renamed
    ok(onde.patch(f"/api/v1/pupils/{pupils[0]['id']}", json={"nom": "Renamed"}, headers=director))
    second = ok(
        onde.get(
            "/api/v1/export/pupils",
            params={"after": first["next_after"], "limit": 2},
            headers=service,
        )
    )
    assert second["watermark"] == watermark + 1
    catch_up = full_log(onde, service, after=watermark)
    assert [(c["entity_id"], c["op"], c["data"]["nom"]) for c in catch_up] == [
        (str(pupils[0]["id"]), "update", "Renamed")
    ]


def test_an_export_page_is_built_with_the_garbage_collector_paused(
    onde: TestClient,
    director: dict[str, str],
    service: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _seed(onde, director, make_school(onde, OTHER_UAI))
    collecting: list[bool] = []

    def spy(*args: Any, **options: Any) -> list[dict[str, Any]]:
        collecting.append(gc.isenabled())
        return export_page(*args, **options)

    monkeypatch.setattr("fake_onde.routes.changes.export_page", spy)
    items, _ = _export(onde, service, "responsables", 100)
    assert items
    assert collecting == [False]
    assert gc.isenabled()
