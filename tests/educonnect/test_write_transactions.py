"""A write session serialises every one of its transactions, not only the first."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from edusim_common.db import is_sqlite, make_engine, read_session, write_session

LOCK_KEY = 4242


def _holds_the_write_lock(session: Session, url: str) -> bool:
    """Whether the session's current transaction holds the service's write lock."""
    session.execute(text("SELECT 1"))  # make sure the transaction has begun
    bind = session.get_bind()
    if is_sqlite(bind.engine):
        # Another connection cannot take SQLite's write lock while the session holds it.
        other = sqlite3.connect(make_url(url).database or "", timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        other.rollback()
        other.close()
        return False
    held = session.scalar(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND objid = :key"
        ),
        {"key": LOCK_KEY},
    )
    return bool(held)


def test_every_transaction_of_a_write_session_takes_the_write_lock(db_url: str) -> None:
    engine = make_engine(db_url, lock_key=LOCK_KEY)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
        session = write_session(engine)
        try:
            assert _holds_the_write_lock(session, db_url)
            session.commit()
            assert _holds_the_write_lock(session, db_url)
            session.rollback()
            assert _holds_the_write_lock(session, db_url)
        finally:
            session.close()
        with read_session(engine) as reading:
            assert not _holds_the_write_lock(reading, db_url)
    finally:
        engine.dispose()
