"""Deployment locks keep apart deployments that share one PostgreSQL database in two schemas."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from edusim_common.db import make_engine
from sync_service.locks import RUN_LOCK_KEY, RunLock


def test_two_deployments_hold_their_run_locks_side_by_side(
    db_urls: Callable[[str], str],
) -> None:
    """Two databases (on PostgreSQL, two schemas of one database): each its own run lock."""
    first, second = make_engine(db_urls("one")), make_engine(db_urls("two"))
    mine, other, same = RunLock(first), RunLock(second), RunLock(first)
    try:
        assert mine.acquire(blocking=False)
        assert other.acquire(blocking=False)  # another deployment: not refused
        assert not same.acquire(blocking=False)  # the same deployment's: refused
        mine.release()
        assert same.acquire(blocking=False)
        same.release()
        other.release()
    finally:
        first.dispose()
        second.dispose()


def test_a_lock_whose_session_ended_is_let_go_without_error(db_url: str) -> None:
    """PostgreSQL: the lock's session is killed (a failover, an idle timeout). Releasing it does
    not fail (a finished run would answer a 500), and another holder can take the lock."""
    engine = make_engine(db_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("a PostgreSQL session lock; SQLite's file lock ends only with its process")
    lock, successor = RunLock(engine), RunLock(engine)
    try:
        assert lock.acquire(blocking=False)
        with engine.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND classid = :k AND objsubid = 2 AND pid <> pg_backend_pid()"
                ),
                {"k": RUN_LOCK_KEY},
            ).all()
        assert killed == [(True,)]
        assert successor.acquire(blocking=False)  # the lock went with its session
        lock.release()  # no error: the run that held it ends normally
        successor.release()
    finally:
        engine.dispose()
