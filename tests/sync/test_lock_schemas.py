"""Deployment locks keep apart deployments that share one PostgreSQL database in two schemas."""

from __future__ import annotations

from collections.abc import Callable

from edusim_common.db import make_engine
from sync_service.locks import RunLock


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
