"""The simulated clock shared by the three services.

The clock has two modes:

* ``manual``: time stands still until someone sets or advances it (trainers, tests);
* ``realtime``: time follows the wall clock from an anchor
  (``sim = anchor + (wall - wall_anchor)``).

Every timestamp, expiry and schedule of the simulator reads :meth:`SimClock.now`, never
``datetime.now()``. The sync service drives the clocks of the fakes over HTTP
(``PUT /api/v1/clock``), so each service holds one :class:`SimClock` of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
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


class SimClock:
    """A thread-safe simulated clock: read, set, advance."""

    def __init__(
        self,
        start: datetime,
        mode: ClockMode = ClockMode.manual,
        wall: Callable[[], float] = time.time,
        on_change: Callable[[SimClock], None] | None = None,
        until: datetime | None = None,
    ) -> None:
        """``until``: the end of the time this clock may show (excluded). Running in realtime, the
        clock stops one microsecond before it instead of passing it."""
        self._lock = threading.Lock()
        self._wall = wall
        self._anchor = as_utc(start)
        self._wall_anchor = wall()
        self._mode = mode
        self._on_change = on_change
        self._last = as_utc(until) - timedelta(microseconds=1) if until is not None else None

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
        with self._lock:
            self._anchor = as_utc(when)
            self._wall_anchor = self._wall()
            if mode is not None:
                self._mode = mode
            result = self._anchor
        self._changed()
        return result

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (which must not be negative); returns the new time."""
        if delta < timedelta(0):
            raise ValueError("the clock only advances forward; use set() to go back")
        with self._lock:
            self._anchor = self._now_unlocked() + delta
            self._wall_anchor = self._wall()
            result = self._anchor
        self._changed()
        return result

    def state(self) -> ClockState:
        """A snapshot of the clock for the API."""
        now = self.now()
        return ClockState(
            now=now, local_date=now.astimezone(PARIS).date().isoformat(), mode=self._mode
        )

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self)
