"""Locks of the whole deployment: the scheduler's leader, the clock's driver, and the run.

A :class:`DeploymentLock` is held by one process of the deployment at a time: on PostgreSQL a
session advisory lock on a connection of its own, on SQLite an exclusive file lock beside the
database (a database in memory has no other process: the lock is always free).

The :class:`DriverLock` serialises clock moves, the nightly catch-up and snapshots within a
process and across the deployment's processes (uvicorn workers, standby replicas). Without it, a
snapshot restored through one replica while another moved the clock between two nights would see
that move overwrite the restored clock and run a night of the abandoned timeline.

The :class:`RunLock` is held by whoever carries out a sync run, from its claim to its recorded
end (and by an approval or a snapshot, which must not meet a run). A process that dies lets its
locks go (the file is closed, the PostgreSQL session ends): a run still marked ``running`` while
the run lock is free was left by a dead process, and whoever takes the lock marks it interrupted.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine.url import make_url

log = logging.getLogger("edusim.sync.locks")
LEADER_LOCK_KEY = 0x53594E4C  # "SYNL": who runs the scheduler
DRIVER_LOCK_KEY = 0x53594E44  # "SYND": who moves the clock
RUN_LOCK_KEY = 0x53594E52  # "SYNR": who carries out a run
#: Advisory locks are per database: the second key keeps apart deployments that share one
#: PostgreSQL database in schemas of their own (``options=-csearch_path=…``), as the tests do.
_SCHEMA = "hashtext(current_schema())"


class DeploymentLock:
    """One process of the deployment at a time (not reentrant, not for threads of one process)."""

    def __init__(self, engine: Engine, key: int, suffix: str) -> None:
        """``key``: the PostgreSQL advisory lock; ``suffix``: the SQLite lock file's
        (``<database>.<suffix>.lock``)."""
        self.engine = engine
        self.key = key
        self.suffix = suffix
        self._connection: Connection | None = None
        self._file: IO[str] | None = None
        self._alone = False  # an in-memory database: no other process can share it

    @property
    def held(self) -> bool:
        """Whether this process holds it."""
        return self._connection is not None or self._file is not None or self._alone

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock (wait for it unless ``blocking`` is false); whether this process holds
        it."""
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            return self._advisory(blocking)
        database = make_url(str(self.engine.url)).database or ""
        if not database or database == ":memory:":
            self._alone = True
            return True
        path = Path(f"{database}.{self.suffix}.lock")
        handle = path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def _advisory(self, blocking: bool) -> bool:
        connection = self.engine.connect()
        try:
            function = "pg_advisory_lock" if blocking else "pg_try_advisory_lock"
            query = text(f"SELECT {function}(:k, {_SCHEMA})")
            taken = connection.execute(query, {"k": self.key}).scalar()
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if blocking or taken:
            self._connection = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        """Give the lock up (nothing if this process does not hold it)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                # Closing only returns the connection to the pool, where its session (and so the
                # lock) would live on: unlock explicitly.
                unlock = text(f"SELECT pg_advisory_unlock(:k, {_SCHEMA})")
                connection.execute(unlock, {"k": self.key})
                connection.commit()
            except Exception:
                # The session is gone (and its lock with it), or in an unknown state: never back
                # to the pool, where a lock still held would follow the next user.
                log.warning("advisory lock %#x: unlock failed, connection dropped", self.key)
                connection.invalidate()
            finally:
                connection.close()
        handle, self._file = self._file, None
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        self._alone = False


class SharedLock:
    """This process's threads, then the deployment's processes (one holder in all).

    The threads' lock is a plain :class:`threading.Lock`: any thread may release it (a run claimed
    by a request is carried out, then let go, by a thread of its own).
    """

    def __init__(self, engine: Engine, key: int, suffix: str) -> None:
        self._local = threading.Lock()
        self._shared = DeploymentLock(engine, key, suffix)

    def acquire(self, blocking: bool = True, wait_for_others: bool | None = None) -> bool:
        """Take the lock; whether it was taken. ``blocking`` waits for this process's threads,
        ``wait_for_others`` (``blocking`` unless given) for the other processes."""
        if not self._local.acquire(blocking=blocking):
            return False
        try:
            taken = self._shared.acquire(blocking if wait_for_others is None else wait_for_others)
        except BaseException:
            self._local.release()
            raise
        if not taken:
            self._local.release()
        return taken

    def release(self) -> None:
        """Give the lock up, to this process and to the others."""
        try:
            self._shared.release()
        finally:
            self._local.release()

    def __enter__(self) -> SharedLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


class DriverLock(SharedLock):
    """The clock's driver: clock moves, the nightly catch-up, snapshots."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, DRIVER_LOCK_KEY, "driver")


class RunLock(SharedLock):
    """Who carries out a sync run (or approves one, or saves or restores a snapshot)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, RUN_LOCK_KEY, "run")
