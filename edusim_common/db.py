"""Database helpers shared by the services: engine factory, UTC timestamps, write transactions.

* SQLite (the default) runs in WAL mode with foreign keys on; write transactions start with
  ``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of failing on a lock
  upgrade.
* PostgreSQL (any ``postgresql+psycopg://`` URL) serialises the writers of one service with a
  transaction-level advisory lock, which also makes change-log sequence numbers commit in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.url import make_url
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from edusim_common.clock import as_utc

_WRITE_OPTION = "edusim_write"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


def make_engine(url: str, *, echo: bool = False, lock_key: int = 0) -> Engine:
    """Create an engine for ``url``: SQLite tuned for a local service, or any other SQLAlchemy URL.

    ``lock_key`` names the PostgreSQL advisory lock that serialises this service's writers.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool if database in ("", ":memory:") else None,
        )
        _tune_sqlite(engine)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
        _serialise_postgres_writers(engine, lock_key)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _serialise_postgres_writers(engine: Engine, lock_key: int) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_WRITE_OPTION, False):
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key})


def write_session(engine: Engine) -> Session:
    """A session whose every transaction is a serialised write transaction.

    The session is bound to a copy of the engine carrying the write option, so that a transaction
    begun after a commit or a rollback takes the write lock too (not only the first one).
    """
    session = Session(engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False)
    session.connection()
    return session


def read_session(engine: Engine) -> Session:
    """A session for reads only."""
    return Session(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One serialised write transaction: committed if the block succeeds, rolled back otherwise."""
    session = write_session(engine)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_sqlite(engine: Engine) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"
