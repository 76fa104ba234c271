"""The simulated clock shared by the three services.

The clock has two modes:

* ``manual``: time stands still until someone sets or advances it (trainers, tests);
* ``realtime``: time follows the wall clock from an anchor
  (``sim = anchor + (wall - wall_anchor)``).

Every timestamp, expiry and schedule of the simulator reads :meth:`SimClock.now`, never
``datetime.now()``. The sync service drives the clocks of the fakes over HTTP
(``PUT /api/v1/clock``), so each service holds one :class:`SimClock` of its own.

A service keeps its clock in its database as a :class:`ClockRecord`: the simulated time at a
given wall time, and the mode. Every process of the service (uvicorn workers, a standby replica
of the sync) reads it again at the start of each request (:meth:`SimClock.refresh`), so they all
tell the same time, and a realtime clock restarted after a stop has kept running meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

PARIS = ZoneInfo("Europe/Paris")


class ClockMode(StrEnum):
    """How simulated time moves."""

    manual = "manual"
    realtime = "realtime"


class ClockState(BaseModel):
    """What the clock says, as shown by the API."""

    now: datetime = Field(description="Current simulated time (UTC, ISO 8601).")
    local_date: str = Field(description="Current simulated date in Europe/Paris (YYYY-MM-DD).")
    mode: ClockMode = Field(
        description="`manual`: time stands still; `realtime`: follows the wall."
    )


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime; naive values are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class ClockRecord:
    """What a clock keeps in its database: enough for any process to tell the same time.

    ``anchor`` is the simulated time at the wall time ``wall_anchor`` (seconds since the epoch);
    in realtime mode the clock shows ``anchor + (wall - wall_anchor)``. A manual clock stands at
    ``anchor`` and keeps no wall time (None), nor does a record written by an older version: the
    wall time is then that of reading it.
    """

    anchor: datetime
    mode: ClockMode
    wall_anchor: float | None


class ClockStore(Protocol):
    """Where a clock keeps its :class:`ClockRecord` (a service's database)."""

    def load(self) -> ClockRecord | None:
        """The record kept, if any."""

    def save(self, record: ClockRecord) -> None:
        """Keep ``record`` in place of the one kept."""


class SimClock:
    """A thread-safe simulated clock: read, set, advance."""

    def __init__(
        self,
        start: datetime,
        mode: ClockMode = ClockMode.manual,
        wall: Callable[[], float] = time.time,
        store: ClockStore | None = None,
        until: datetime | None = None,
    ) -> None:
        """``store``: where every change is saved, and :meth:`refresh` reads. ``until``: the end
        of the time this clock may show (excluded). Running in realtime, the clock stops one
        microsecond before it instead of passing it."""
        self._lock = threading.Lock()
        # Held from a local change until it is saved, and by a refresh from reading the store
        # until it adopts what it read: a refresh never takes up the record a change is replacing.
        self._persist = threading.RLock()
        self._wall = wall
        self._anchor = as_utc(start)
        self._wall_anchor = wall()
        self._mode = mode
        self._store = store
        self._last = as_utc(until) - timedelta(microseconds=1) if until is not None else None
        self._version = 0  # local changes made, so that a refresh never undoes one
        self._seen: ClockRecord | None = None  # the record last saved or adopted

    @classmethod
    def of(
        cls,
        record: ClockRecord,
        wall: Callable[[], float] = time.time,
        store: ClockStore | None = None,
        until: datetime | None = None,
    ) -> SimClock:
        """The clock ``record`` describes (a record without wall time: anchored at ``wall()``)."""
        clock = cls(record.anchor, record.mode, wall=wall, store=store, until=until)
        clock._adopt(record)
        return clock

    @classmethod
    def restore(
        cls,
        store: ClockStore,
        start: datetime,
        mode: ClockMode = ClockMode.manual,
        wall: Callable[[], float] = time.time,
        until: datetime | None = None,
    ) -> SimClock:
        """The clock kept in ``store``, or a new one at ``start`` (saved) if it holds none."""
        record = store.load()
        if record is None:
            clock = cls(start, mode, wall=wall, store=store, until=until)
        else:
            clock = cls.of(record, wall, store, until)
        if record is None or record != clock.record():  # new, or kept by an older version
            clock._save()
        return clock

    def record(self) -> ClockRecord:
        """What to keep of this clock for another process (or a restart) to tell the same time."""
        with self._lock:
            wall_anchor = self._wall_anchor if self._mode is ClockMode.realtime else None
            return ClockRecord(self._anchor, self._mode, wall_anchor)

    def refresh(self) -> None:
        """Take up the record kept in the store if another process changed it since.

        A change made here while the store is read wins over what was read.
        """
        if self._store is None:
            return
        if not self._persist.acquire(blocking=False):
            return  # a change of this process is being saved: it is the newest
        try:
            with self._lock:
                version = self._version
            record = self._store.load()
            if record is None or record == self._seen:
                return
            with self._lock:
                if self._version == version:
                    self._adopt_unlocked(record)
        finally:
            self._persist.release()

    def _adopt(self, record: ClockRecord) -> None:
        with self._lock:
            self._adopt_unlocked(record)

    def _adopt_unlocked(self, record: ClockRecord) -> None:
        self._anchor = as_utc(record.anchor)
        self._mode = record.mode
        self._wall_anchor = self._wall() if record.wall_anchor is None else record.wall_anchor
        self._seen = record

    def now(self) -> datetime:
        """Current simulated time, aware, in UTC."""
        with self._lock:
            return self._now_unlocked()

    def _now_unlocked(self) -> datetime:
        if self._mode is not ClockMode.realtime:
            return self._anchor
        elapsed = timedelta(seconds=self._wall() - self._wall_anchor)
        if self._last is not None and elapsed >= self._last - self._anchor:  # no overflow
            return max(self._anchor, self._last)
        return self._anchor + elapsed

    @property
    def mode(self) -> ClockMode:
        """The current mode."""
        return self._mode

    def set(self, when: datetime, mode: ClockMode | None = None) -> datetime:
        """Jump to ``when`` (and optionally switch mode); returns the new time."""
        with self._persist:
            with self._lock:
                self._anchor = as_utc(when)
                self._wall_anchor = self._wall()
                if mode is not None:
                    self._mode = mode
                self._version += 1
                result = self._anchor
            self._save()
        return result

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (which must not be negative); returns the new time."""
        if delta < timedelta(0):
            raise ValueError("the clock only advances forward; use set() to go back")
        with self._persist:
            with self._lock:
                self._anchor = self._now_unlocked() + delta
                self._wall_anchor = self._wall()
                self._version += 1
                result = self._anchor
            self._save()
        return result

    def state(self) -> ClockState:
        """A snapshot of the clock for the API."""
        now = self.now()
        return ClockState(
            now=now, local_date=now.astimezone(PARIS).date().isoformat(), mode=self._mode
        )

    def _save(self) -> None:
        if self._store is not None:
            record = self.record()
            self._seen = record
            self._store.save(record)
