"""The clock's driver lock: clock moves, the nightly catch-up and snapshots, one at a time across
every process of the deployment (uvicorn workers, standby replicas).

In one process a thread lock; across processes, on PostgreSQL a session advisory lock held on a
connection of its own, on SQLite an exclusive file lock beside the database (as the scheduler's
leader lock). Without it, a snapshot restored through one replica while another moved the clock
between two nights would see that move overwrite the restored clock and run a night of the
abandoned timeline.
"""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine.url import make_url

DRIVER_LOCK_KEY = 0x53594E44  # "SYND"


class DriverLock:
    """A lock of this process and of the deployment; ``acquire``, ``release``, ``with``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.Lock()
        self._connection: Connection | None = None
        self._file: IO[str] | None = None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock (wait for it unless ``blocking`` is false); whether it was taken."""
        if not self._local.acquire(blocking=blocking):
            return False
        try:
            taken = self._take_shared(blocking)
        except BaseException:
            self._local.release()
            raise
        if not taken:
            self._local.release()
        return taken

    def release(self) -> None:
        """Give the lock up, to this process and to the others."""
        try:
            self._give_shared()
        finally:
            self._local.release()

    def locked(self) -> bool:
        """Whether this process holds it."""
        return self._local.locked()

    def __enter__(self) -> DriverLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()

    def _take_shared(self, blocking: bool) -> bool:
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            try:
                if blocking:
                    connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": DRIVER_LOCK_KEY})
                    taken = True
                else:
                    taken = bool(
                        connection.execute(
                            text("SELECT pg_try_advisory_lock(:k)"), {"k": DRIVER_LOCK_KEY}
                        ).scalar()
                    )
                connection.commit()
            except BaseException:
                connection.close()
                raise
            if taken:
                self._connection = connection
            else:
                connection.close()
            return taken
        database = make_url(str(self.engine.url)).database or ""
        if not database or database == ":memory:":
            return True  # no other process can open this database
        path = Path(f"{database}.driver.lock")
        handle = path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def _give_shared(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": DRIVER_LOCK_KEY})
                connection.commit()
            finally:
                connection.close()
        handle, self._file = self._file, None
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
