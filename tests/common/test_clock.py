"""The simulated clock: the pure SimClock, its persistence, and its HTTP API."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table

from edusim_common.clock import ClockMode, ClockRecord, SimClock, as_utc
from edusim_common.db import UTCDateTime, make_engine
from fake_onde.config import OndeSettings
from fake_onde.main import create_app
from tests.conftest import make_school

START = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)


class FakeWall:
    """A wall clock that moves only when the test says so."""

    def __init__(self, at: float = 1_000_000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


# ---------------------------------------------------------------- SimClock


def test_manual_clock_stands_still_while_the_wall_moves() -> None:
    wall = FakeWall()
    clock = SimClock(START, ClockMode.manual, wall=wall)
    wall.at += 3600
    assert clock.now() == START
    assert clock.mode is ClockMode.manual


def test_realtime_clock_follows_the_wall_from_its_anchor() -> None:
    wall = FakeWall()
    clock = SimClock(START, ClockMode.realtime, wall=wall)
    assert clock.now() == START
    wall.at += 90.5
    assert clock.now() == START + timedelta(seconds=90.5)


def test_a_realtime_clock_stops_at_the_end_of_its_range() -> None:
    """It never shows a time the services refuse (the API's range ends before year 3000)."""
    wall = FakeWall()
    end = datetime(3000, 1, 1, tzinfo=UTC)
    last = end - timedelta(microseconds=1)
    clock = SimClock(end - timedelta(seconds=10), ClockMode.realtime, wall=wall, until=end)
    wall.at += 9.5
    assert clock.now() == end - timedelta(seconds=0.5)
    wall.at += 0.5
    assert clock.now() == last
    wall.at += 10 * 366 * 86400
    assert clock.now() == last
    clock.set(datetime(2999, 12, 31, tzinfo=UTC))
    wall.at += 3600
    assert clock.now() == datetime(2999, 12, 31, 1, 0, tzinfo=UTC)  # it runs again once set back


def test_set_jumps_and_restarts_the_realtime_anchor() -> None:
    wall = FakeWall()
    clock = SimClock(START, ClockMode.realtime, wall=wall)
    wall.at += 1000
    target = datetime(2027, 1, 1, tzinfo=UTC)
    assert clock.set(target) == target
    assert clock.now() == target
    wall.at += 10
    assert clock.now() == target + timedelta(seconds=10)


def test_set_can_switch_mode_both_ways() -> None:
    wall = FakeWall()
    clock = SimClock(START, ClockMode.manual, wall=wall)
    clock.set(START, ClockMode.realtime)
    assert clock.mode is ClockMode.realtime
    wall.at += 5
    assert clock.now() == START + timedelta(seconds=5)
    frozen = clock.now()
    clock.set(frozen, ClockMode.manual)
    wall.at += 500
    assert clock.now() == frozen


def test_set_without_mode_keeps_the_mode() -> None:
    clock = SimClock(START, ClockMode.realtime, wall=FakeWall())
    clock.set(START + timedelta(days=1))
    assert clock.mode is ClockMode.realtime


def test_advance_moves_forward_in_both_modes() -> None:
    wall = FakeWall()
    manual = SimClock(START, ClockMode.manual, wall=wall)
    assert manual.advance(timedelta(days=1)) == START + timedelta(days=1)
    assert manual.now() == START + timedelta(days=1)

    realtime = SimClock(START, ClockMode.realtime, wall=wall)
    wall.at += 30
    assert realtime.advance(timedelta(hours=1)) == START + timedelta(hours=1, seconds=30)
    wall.at += 15
    assert realtime.now() == START + timedelta(hours=1, seconds=45)


def test_advance_by_zero_is_allowed_and_negative_is_refused() -> None:
    clock = SimClock(START, wall=FakeWall())
    assert clock.advance(timedelta(0)) == START
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == START


def test_naive_start_is_taken_as_utc_and_aware_values_are_converted() -> None:
    clock = SimClock(datetime(2026, 9, 1, 6, 0), wall=FakeWall())
    assert clock.now() == START
    assert clock.now().tzinfo is not None
    paris = datetime.fromisoformat("2026-09-01T08:00:00+02:00")
    clock.set(paris)
    assert clock.now() == START
    assert clock.now().utcoffset() == timedelta(0)
    assert as_utc(paris) == START


class MemoryStore:
    """A clock store in memory, shared like a service's database; it counts its saves."""

    def __init__(self, record: ClockRecord | None = None) -> None:
        self.record = record
        self.saves: list[ClockRecord] = []

    def load(self) -> ClockRecord | None:
        return self.record

    def save(self, record: ClockRecord) -> None:
        self.record = record
        self.saves.append(record)


def test_the_store_is_written_after_set_and_advance_only() -> None:
    store = MemoryStore()
    clock = SimClock(START, wall=FakeWall(), store=store)
    clock.now()
    clock.state()
    clock.refresh()
    assert store.saves == []
    clock.set(START + timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    assert [r.anchor for r in store.saves] == [
        START + timedelta(hours=1),
        START + timedelta(hours=2),
    ]
    assert {r.wall_anchor for r in store.saves} == {None}  # a manual clock keeps no wall time


def test_state_gives_the_local_date_in_paris() -> None:
    # 22:30 UTC on 1 September is already 2 September in Paris (UTC+2 in summer).
    clock = SimClock(datetime(2026, 9, 1, 22, 30, tzinfo=UTC), wall=FakeWall())
    state = clock.state()
    assert state.local_date == "2026-09-02"
    assert state.mode is ClockMode.manual
    # ...and 23:30 UTC on 1 January is 2 January in Paris (UTC+1 in winter), 22:30 is not.
    clock.set(datetime(2027, 1, 1, 22, 30, tzinfo=UTC))
    assert clock.state().local_date == "2027-01-01"
    clock.set(datetime(2027, 1, 1, 23, 30, tzinfo=UTC))
    assert clock.state().local_date == "2027-01-02"


def test_processes_sharing_a_store_tell_the_same_time() -> None:
    """Two workers (or replicas) of a service: what one sets, the other reads at its refresh."""
    wall, store = FakeWall(), MemoryStore()
    first = SimClock.restore(store, START, wall=wall)
    second = SimClock.restore(store, datetime(2030, 1, 1, tzinfo=UTC), wall=wall)
    assert second.now() == START  # the kept clock, not its own start
    target = datetime(2027, 2, 3, 4, 5, tzinfo=UTC)
    first.set(target, ClockMode.realtime)
    assert second.now() == START  # until it looks again
    second.refresh()
    wall.at += 30
    assert first.now() == second.now() == target + timedelta(seconds=30)
    assert second.mode is ClockMode.realtime
    second.advance(timedelta(hours=1))
    first.refresh()
    assert first.now() == second.now() == target + timedelta(hours=1, seconds=30)
    assert len(store.saves) == 3  # the first start, the set, the advance: refreshes write nothing


def test_a_realtime_clock_keeps_running_while_its_service_is_stopped() -> None:
    """A restart resumes at the wall's time, not at the last time the clock was set."""
    wall, store = FakeWall(), MemoryStore()
    clock = SimClock.restore(store, START, ClockMode.realtime, wall=wall)
    wall.at += 3600  # an hour of running, then the service stops for a day
    assert clock.now() == START + timedelta(hours=1)
    wall.at += 86400
    restarted = SimClock.restore(store, datetime(2030, 1, 1, tzinfo=UTC), wall=wall)
    assert restarted.mode is ClockMode.realtime
    assert restarted.now() == START + timedelta(hours=25)


def test_a_refresh_never_undoes_a_change_made_while_it_read() -> None:
    wall = FakeWall()
    stale = ClockRecord(START, ClockMode.manual, None)
    target = START + timedelta(days=3)

    class SlowStore(MemoryStore):
        def load(self) -> ClockRecord | None:
            clock.set(target)  # another request of this process moves it during the read
            return stale

    store = SlowStore()
    clock = SimClock(START + timedelta(days=1), wall=wall, store=store)
    clock.refresh()
    assert clock.now() == target
    assert store.record == ClockRecord(target, ClockMode.manual, None)


def test_a_record_kept_by_an_older_version_is_completed() -> None:
    """Older versions kept no wall time: a realtime clock takes the restart's, and saves it."""
    wall = FakeWall()
    kept = ClockRecord(START, ClockMode.realtime, None)
    store = MemoryStore(kept)
    clock = SimClock.restore(store, datetime(2030, 1, 1, tzinfo=UTC), wall=wall)
    assert clock.now() == START
    assert store.saves == [ClockRecord(START, ClockMode.realtime, wall.at)]
    manual = MemoryStore(ClockRecord(START, ClockMode.manual, None))
    assert SimClock.restore(manual, datetime(2030, 1, 1, tzinfo=UTC), wall=wall).now() == START
    assert manual.saves == []  # nothing to complete


# ---------------------------------------------------------------- persistence


def test_clock_survives_an_app_restart(onde_settings: OndeSettings) -> None:
    service = {"Authorization": f"Bearer {onde_settings.service_token}"}
    target = "2027-03-04T05:06:07Z"
    with TestClient(create_app(onde_settings)) as first:
        assert first.get("/api/v1/clock").json()["now"] == "2026-09-01T06:00:00Z"
        response = first.put("/api/v1/clock", json={"now": target}, headers=service)
        assert response.status_code == 200, response.text
        first.post("/api/v1/clock/advance", json={"seconds": 60}, headers=service)
    restarted = onde_settings.model_copy(update={"clock_start": datetime(2030, 1, 1, tzinfo=UTC)})
    with TestClient(create_app(restarted)) as second:
        state = second.get("/api/v1/clock").json()
        assert state["now"] == "2027-03-04T05:07:07Z"
        assert state["mode"] == "manual"
        assert second.get("/health").json()["now"] == "2027-03-04T05:07:07Z"


def test_clock_mode_survives_an_app_restart(onde_settings: OndeSettings) -> None:
    service = {"Authorization": f"Bearer {onde_settings.service_token}"}
    with TestClient(create_app(onde_settings)) as first:
        response = first.put(
            "/api/v1/clock",
            json={"now": "2027-01-01T00:00:00Z", "mode": "realtime"},
            headers=service,
        )
        assert response.json()["mode"] == "realtime"
    with TestClient(create_app(onde_settings)) as second:
        state = second.get("/api/v1/clock").json()
        assert state["mode"] == "realtime"
        assert datetime.fromisoformat(state["now"]) >= datetime(2027, 1, 1, tzinfo=UTC)


def test_two_workers_of_a_service_share_its_clock(onde_settings: OndeSettings) -> None:
    """Two apps on one database stand for two uvicorn workers behind one port."""
    service = {"Authorization": f"Bearer {onde_settings.service_token}"}
    with (
        TestClient(create_app(onde_settings)) as first,
        TestClient(create_app(onde_settings)) as second,
    ):
        moved = first.put(
            "/api/v1/clock", json={"now": "2027-03-04T05:06:07Z"}, headers=service
        ).json()
        assert second.get("/api/v1/clock").json() == moved
        assert second.get("/health").json()["now"] == "2027-03-04T05:06:07Z"
        second.post("/api/v1/clock/advance", json={"seconds": 60}, headers=service)
        assert first.get("/api/v1/clock").json()["now"] == "2027-03-04T05:07:07Z"


def test_a_clock_table_made_by_an_older_version_is_upgraded(
    onde_settings: OndeSettings,
) -> None:
    """It lacked ``wall_anchor``: the service adds it and starts, on the time it kept."""
    engine = make_engine(onde_settings.database_url)
    older = Table(
        "sim_clock",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("sim_now", UTCDateTime(), nullable=False),
        Column("mode", String(16), nullable=False),
    )
    older.create(engine)
    with engine.begin() as conn:
        conn.execute(
            older.insert().values(id=1, sim_now=datetime(2027, 1, 1, tzinfo=UTC), mode="manual")
        )
    engine.dispose()
    with TestClient(create_app(onde_settings)) as client:
        assert client.get("/api/v1/clock").json()["now"] == "2027-01-01T00:00:00Z"


# ---------------------------------------------------------------- API


def test_read_clock_needs_no_token(onde: TestClient) -> None:
    response = onde.get("/api/v1/clock")
    assert response.status_code == 200
    assert response.json() == {
        "now": "2026-09-01T06:00:00Z",
        "local_date": "2026-09-01",
        "mode": "manual",
    }


def test_set_and_advance_through_the_api(onde: TestClient, service: dict[str, str]) -> None:
    response = onde.put("/api/v1/clock", json={"now": "2026-09-01T23:00:00+02:00"}, headers=service)
    assert response.status_code == 200, response.text
    assert response.json()["now"] == "2026-09-01T21:00:00Z"
    assert response.json()["local_date"] == "2026-09-01"
    advanced = onde.post("/api/v1/clock/advance", json={"seconds": 3600}, headers=service)
    assert advanced.status_code == 200, advanced.text
    assert advanced.json()["now"] == "2026-09-01T22:00:00Z"
    assert advanced.json()["local_date"] == "2026-09-02"
    assert onde.get("/api/v1/clock").json() == advanced.json()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/clock", {"now": "2027-01-01T00:00:00Z"}),
        ("POST", "/api/v1/clock/advance", {"seconds": 60}),
    ],
)
def test_clock_writes_need_the_service_token(
    onde: TestClient, method: str, path: str, body: dict[str, object]
) -> None:
    director = make_school(onde)
    before = onde.get("/api/v1/clock").json()

    anonymous = onde.request(method, path, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"] == "Bearer"

    wrong = onde.request(method, path, json=body, headers={"Authorization": "Bearer nope-nope"})
    assert wrong.status_code == 401

    as_director = onde.request(method, path, json=body, headers=director)
    assert as_director.status_code == 403
    assert as_director.json()["code"] == "forbidden"

    assert onde.get("/api/v1/clock").json() == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PUT", "/api/v1/clock", {"now": "not a date"}, "body.now"),
        ("PUT", "/api/v1/clock", {"now": "1800-01-01T00:00:00Z"}, "body.now"),
        ("PUT", "/api/v1/clock", {"now": "3000-01-01T00:00:00Z"}, "body.now"),
        # year 2999 as written, 3000 in UTC: the range is checked in UTC
        ("PUT", "/api/v1/clock", {"now": "2999-12-31T23:59:59-23:59"}, "body.now"),
        # converting to UTC first would overflow
        ("PUT", "/api/v1/clock", {"now": "9999-12-31T23:59:59-23:59"}, "body.now"),
        ("PUT", "/api/v1/clock", {"now": "0001-01-01T00:00:00+23:59"}, "body.now"),
        ("PUT", "/api/v1/clock", {"now": "2027-01-01T00:00:00Z", "mode": "fast"}, "body.mode"),
        ("PUT", "/api/v1/clock", {}, "body.now"),
        ("POST", "/api/v1/clock/advance", {"seconds": -1}, "body.seconds"),
        ("POST", "/api/v1/clock/advance", {"seconds": "soon"}, "body.seconds"),
        # numbers only: a boolean or a numeral in a string was read as one (found by fuzzing)
        ("POST", "/api/v1/clock/advance", {"seconds": False}, "body.seconds"),
        ("POST", "/api/v1/clock/advance", {"seconds": "1"}, "body.seconds"),
        # a date as text only: a number was read as seconds since 1970
        ("PUT", "/api/v1/clock", {"now": "-1"}, "body.now"),
        ("PUT", "/api/v1/clock", {"now": 1790000000}, "body.now"),
        ("POST", "/api/v1/clock/advance", {"seconds": 11 * 366 * 86400}, "body.seconds"),
    ],
)
def test_bad_clock_input_is_a_problem(
    onde: TestClient,
    service: dict[str, str],
    method: str,
    path: str,
    body: dict[str, object],
    field: str,
) -> None:
    before = onde.get("/api/v1/clock").json()
    response = onde.request(method, path, json=body, headers=service)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid-input"
    assert field in [error["field"] for error in problem["errors"]]
    assert onde.get("/api/v1/clock").json() == before


def test_advance_past_year_2999_is_refused(onde: TestClient, service: dict[str, str]) -> None:
    onde.put("/api/v1/clock", json={"now": "2998-06-01T00:00:00Z"}, headers=service)
    response = onde.post(
        "/api/v1/clock/advance", json={"seconds": 2 * 365 * 86400}, headers=service
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.seconds"
    assert onde.get("/api/v1/clock").json()["now"] == "2998-06-01T00:00:00Z"


def test_the_clock_can_reach_the_last_instant_of_its_range_not_beyond(
    onde: TestClient, service: dict[str, str]
) -> None:
    onde.put("/api/v1/clock", json={"now": "2999-12-31T23:00:00Z"}, headers=service)
    over = onde.post("/api/v1/clock/advance", json={"seconds": 3600}, headers=service)
    assert over.status_code == 422
    assert over.headers["content-type"] == "application/problem+json"
    last = onde.post("/api/v1/clock/advance", json={"seconds": 3599.5}, headers=service)
    assert last.status_code == 200, last.text
    assert last.json()["now"] == "2999-12-31T23:59:59.500000Z"
    naive = onde.put("/api/v1/clock", json={"now": "2999-12-31T23:59:59"}, headers=service)
    assert naive.json()["now"] == "2999-12-31T23:59:59Z"


def test_a_refresh_never_takes_up_the_record_a_change_is_replacing() -> None:
    """Another request of this process refreshes while a change is still being saved."""
    saving, release = threading.Event(), threading.Event()

    class SlowStore(MemoryStore):
        def save(self, record: ClockRecord) -> None:
            saving.set()
            release.wait(5)
            super().save(record)

    store = SlowStore(ClockRecord(START, ClockMode.manual, None))
    clock = SimClock.restore(store, START, wall=FakeWall())
    target = START + timedelta(days=1)
    mover = threading.Thread(target=clock.set, args=(target, ClockMode.realtime))
    mover.start()
    assert saving.wait(5)
    clock.refresh()  # the store still holds the old record
    assert (clock.now(), clock.mode) == (target, ClockMode.realtime)
    release.set()
    mover.join(5)
    clock.refresh()
    assert (clock.now(), clock.mode) == (target, ClockMode.realtime)
    assert store.record == ClockRecord(target, ClockMode.realtime, clock.record().wall_anchor)
