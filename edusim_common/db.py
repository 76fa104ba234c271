"""Database helpers shared by the services: engine factory, UTC timestamps, write transactions.

* SQLite (the default) runs in WAL mode with foreign keys on; write transactions start with
  ``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of failing on a lock
  upgrade.
* PostgreSQL (any ``postgresql+psycopg://`` URL) serialises the writers of one service with a
  transaction-level advisory lock, which also makes change-log sequence numbers commit in order.
* There are no migrations: ``metadata.create_all`` makes the missing tables, and
  :func:`check_schema` refuses, at start-up, tables an older version made differently.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event, inspect, text
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
        # Bulk imports write megabytes per transaction: checkpoint the WAL every 64 MiB rather
        # than every 4 MiB (one write-back and fsync per batch otherwise), and keep up to 64 MiB
        # of pages in memory (the default 2 MiB cache no longer holds the indexes of 100k rows).
        cursor.execute("PRAGMA wal_autocheckpoint=16384")
        cursor.execute("PRAGMA cache_size=-65536")
        # Read the file through a memory map (up to SQLite's 2 GiB cap): a page missing from the
        # cache is then a memory access, not a read() system call. With 1 M pupils EduConnect's
        # file outgrows any cache, and its import made 16 million such calls in five minutes.
        cursor.execute("PRAGMA mmap_size=2147418112")
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


class SchemaMismatch(RuntimeError):
    """The database's tables are not the ones this version of the service writes."""


def _sqlite_plain_tables(engine: Engine, tables: list[Table]) -> set[str]:
    """SQLite: those of ``tables`` meant to be AUTOINCREMENT that were made without it."""
    wanted = [t for t in tables if t.dialect_options["sqlite"].get("autoincrement")]
    if not wanted or engine.dialect.name != "sqlite":
        return set()
    with engine.connect() as conn:
        made: dict[str, str | None] = {
            str(name): sql
            for name, sql in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            )
        }
    return {t.name for t in wanted if "AUTOINCREMENT" not in str(made.get(t.name) or "").upper()}


def schema_problems(engine: Engine, metadata: MetaData) -> list[str]:
    """How the existing tables differ from ``metadata`` in ways that break writes or reads.

    A column the models have and the table lacks; a column the table has, NOT NULL without a
    default, that the models do not know (every insert would fail); on SQLite, a table meant to be
    AUTOINCREMENT made without it (the id of a deleted row would be given again); an index the
    models declare and the table lacks (a query meant to use it reads the whole table).
    """
    inspector = inspect(engine)
    existing = set(inspector.get_table_names())
    problems: list[str] = []
    tables = [t for t in metadata.sorted_tables if t.name in existing]
    for table in tables:
        found = {reflected["name"]: reflected for reflected in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in found:
                problems.append(f"table {table.name} has no column {column.name}")
        for name, reflected in found.items():
            if name in table.columns:
                continue
            if not reflected.get("nullable", True) and reflected.get("default") is None:
                problems.append(
                    f"table {table.name} has a column {name} (NOT NULL, no default) that this "
                    "version does not write"
                )
    for name in sorted(_sqlite_plain_tables(engine, tables)):
        problems.append(
            f"table {name} was made without AUTOINCREMENT (the id of a deleted row would be "
            "given again)"
        )
    made = _index_names(engine, tables)
    for table in tables:
        for index in sorted(i.name for i in table.indexes if i.name):
            if index not in made:
                problems.append(f"table {table.name} has no index {index}")
    return problems


def _index_names(engine: Engine, tables: list[Table]) -> set[str]:
    """The names of the indexes the database has, expression indexes included (SQLAlchemy's
    inspector skips those on SQLite)."""
    queries = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index'",
        "postgresql": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()",
    }
    query = queries.get(engine.dialect.name)
    if query is None:
        inspector = inspect(engine)
        return {i["name"] or "" for t in tables for i in inspector.get_indexes(t.name)}
    with engine.connect() as connection:
        return {name for (name,) in connection.exec_driver_sql(query)}


def add_missing_columns(engine: Engine, table: str, columns: dict[str, str]) -> list[str]:
    """Add to ``table``, made by an older version, the nullable ``columns`` ({name: SQL type}) it
    lacks; the names added. Nothing for a table that does not exist (``create_all`` makes it
    whole)."""
    present = (
        {column["name"] for column in inspect(engine).get_columns(table)}
        if inspect(engine).has_table(table)
        else set()
    )
    missing = [name for name in columns if present and name not in present]
    if missing:
        with engine.begin() as connection:
            for name in missing:
                connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {columns[name]}"))
    return missing


def check_schema(engine: Engine, metadata: MetaData, service: str) -> None:
    """Refuse a database made by another version of the service, saying what to do."""
    problems = schema_problems(engine, metadata)
    if problems:
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaMismatch(
            f"The {service} database ({where}) was made by another version of EduSim: "
            + "; ".join(problems)
            + ". EduSim has no migrations: stop the simulator and run `edusim reset` (or "
            "`edusim reset --demo`) to start again from empty databases (or the demo seed)."
        )
