"""Snapshots of the whole simulation: the three databases and the clock, saved and restored.

A snapshot file is gzip-compressed JSON Lines: a header (name, wall time, the sync's simulated
clock, the row count and the id counter of every table), then for each database and table a table
line followed by one line per row, then an end line. Tables are found by reflection, so this
module imports none of the services and works on any SQLAlchemy URL (SQLite files, PostgreSQL
schemas):

* **save** reads each database in one read transaction (repeatable read on PostgreSQL), all three
  opened before the first row is read, and refuses while a sync run is ``running``;
* **restore** empties every table and inserts the saved rows in one write transaction per
  database (the three committed together at the end), taking each service's writer lock, then
  sets each table's id counter (SQLite AUTOINCREMENT, PostgreSQL sequence) back to where it was
  when the snapshot was saved: the restored timeline gives the ids the original one gave, and
  never the id of a row deleted before the save.

A running service reads its clock again from its database at each request, so it takes up the
restored one; the sync service's snapshot API also pushes it to every service, so that a realtime
clock runs on from the restored time instead of from the wall time it was saved at. A realtime
clock is saved as the time it shows at the save.
"""

from __future__ import annotations

import gzip
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, insert, select, text
from sqlalchemy.exc import SAWarning, SQLAlchemyError

from edusim.snapshot_format import (
    INSERT_BATCH,
    WRITER_LOCK_KEYS,
    RunInProgress,
    SnapshotError,
    SnapshotInfo,
    content,
    encode_value,
    read_lines,
    write_line,
)
from edusim_common.clock import ClockMode, ClockRecord, SimClock
from edusim_common.clock_api import LATEST
from edusim_common.db import unit_of_work

# -- reading databases ---------------------------------------------------------------------------


def reflect(conn: Connection) -> MetaData:
    """Every table of the database the connection is on (its default schema).

    A snapshot copies rows: the indexes SQLAlchemy cannot reflect (on expressions, such as
    EduConnect's ``lower(email)``) are not needed, so its warning about them is not shown.
    """
    metadata = MetaData()
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        metadata.reflect(bind=conn)
    return metadata


def _ordered(table: Table) -> Any:
    keys = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*keys)


def running_run(conn: Connection, metadata: MetaData) -> int | None:
    """The id of a sync run marked ``running`` in the sync's database, if any."""
    run = metadata.tables.get("run")
    if run is None:
        return None
    found = conn.execute(select(run.c.id).where(run.c.status == "running").limit(1)).scalar()
    return None if found is None else int(found)


def run_in_progress_message(run_id: int) -> str:
    """What to say when a run is in progress."""
    return (
        f"sync run {run_id} is in progress: the databases would not be consistent. Wait for it "
        "to end (GET /api/v1/runs), then try again; a run left 'running' by a stopped sync "
        "service is marked 'interrupted' by the next run, clock move or snapshot of a running sync "
        "service, or when the sync service starts again."
    )


def read_clock(conn: Connection, metadata: MetaData, wall: datetime) -> dict[str, str] | None:
    """The simulated clock saved in a service's database (``sim_clock``) at ``wall``, as JSON.

    A realtime clock keeps the time it showed at a wall time (``wall_anchor``): the snapshot
    records the time it shows at ``wall``, not when it was last set.
    """
    table = metadata.tables.get("sim_clock")
    if table is None:
        return None
    row = conn.execute(select(table).limit(1)).mappings().first()
    if row is None:
        return None
    now = row["sim_now"]
    if isinstance(now, datetime) and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if isinstance(now, datetime) and row["mode"] == ClockMode.realtime.value:
        record = ClockRecord(now, ClockMode.realtime, row.get("wall_anchor"))
        now = SimClock.of(record, wall=wall.timestamp, until=LATEST).now()
    return {"now": now.isoformat() if isinstance(now, datetime) else str(now), "mode": row["mode"]}


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def save(engines: Mapping[str, Engine], out: IO[bytes], name: str, wall: datetime) -> SnapshotInfo:
    """Write a snapshot of ``engines`` (by service name) to ``out``; refuse during a sync run."""
    with ExitStack() as stack:
        conns = {svc: stack.enter_context(_reading(e)) for svc, e in engines.items()}
        metas = {svc: reflect(conn) for svc, conn in conns.items()}
        if "sync" in conns:
            running = running_run(conns["sync"], metas["sync"])
            if running is not None:
                raise RunInProgress(run_in_progress_message(running))
        databases: dict[str, Any] = {}
        for svc, conn in conns.items():
            tables = {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                for t in metas[svc].sorted_tables
            }
            databases[svc] = {
                "dialect": conn.dialect.name,
                "tables": tables,
                "sequences": read_sequences(conn, metas[svc]),
            }
        # The sync's clock is the master; a database never opened by its service has none.
        order = sorted(conns, key=lambda svc: svc != "sync")
        clock = next(
            (c for c in (read_clock(conns[svc], metas[svc], wall) for svc in order) if c), None
        )
        info = SnapshotInfo(name=name, saved_at=wall, clock=clock, databases=databases)
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6) as gz:
            write_line(gz, info.header())
            for svc, conn in conns.items():
                for table in metas[svc].sorted_tables:
                    columns = [c.name for c in table.columns]
                    write_line(
                        gz, {"table": {"database": svc, "name": table.name, "columns": columns}}
                    )
                    result = conn.execution_options(yield_per=INSERT_BATCH).execute(_ordered(table))
                    for row in result:
                        write_line(gz, [encode_value(v) for v in row])
            write_line(gz, {"end": True})
        return info


# -- restoring -----------------------------------------------------------------------------------


def restore(
    engines: Mapping[str, Engine],
    source: IO[bytes],
    create: Mapping[str, MetaData] | None = None,
) -> SnapshotInfo:
    """Replace the content of ``engines`` with the snapshot's, all or nothing.

    ``create`` gives, per service, metadata whose missing tables are created first (a fresh
    database). Tables of a database absent from the snapshot are emptied.
    """
    lines = read_lines(source)
    info = SnapshotInfo.from_header(next(lines, None))
    missing = [svc for svc in engines if svc not in info.databases]
    if missing:
        raise SnapshotError(f"the snapshot has no {', '.join(missing)} database")
    for svc, metadata in (create or {}).items():
        metadata.create_all(engines[svc])
    with ExitStack() as stack:
        conns: dict[str, Connection] = {}
        for svc, engine in engines.items():
            conns[svc] = stack.enter_context(unit_of_work(engine)).connection()
            if conns[svc].dialect.name == "postgresql":
                conns[svc].execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITER_LOCK_KEYS.get(svc, 0)}
                )
        metas = {svc: reflect(conn) for svc, conn in conns.items()}
        if "sync" in conns:
            running = running_run(conns["sync"], metas["sync"])
            if running is not None:
                raise RunInProgress(run_in_progress_message(running))
        _check_tables(info, metas)
        for svc, conn in conns.items():
            for table in reversed(metas[svc].sorted_tables):
                conn.execute(table.delete())
        _insert_rows(info, lines, conns, metas)
        for svc, conn in conns.items():
            _reset_sequences(conn, metas[svc], info.databases[svc].get("sequences") or {})
            _restart_clock(conn, metas[svc], info)
    return info


def _restart_clock(conn: Connection, metadata: MetaData, info: SnapshotInfo) -> None:
    """Each service's clock at the snapshot's time, a realtime one running on from now.

    The rows as saved would put a realtime clock at its saved time plus all the wall time since
    the save (its ``wall_anchor`` is the save's): it starts again from the restore instead.
    """
    table = metadata.tables.get("sim_clock")
    if table is None or info.clock is None:
        return
    now = datetime.fromisoformat(info.clock["now"])
    values: dict[str, Any] = {"sim_now": now.astimezone(UTC).replace(tzinfo=None)}
    values["mode"] = info.clock["mode"]
    if "wall_anchor" in table.c:
        realtime = info.clock["mode"] == ClockMode.realtime.value
        values["wall_anchor"] = time.time() if realtime else None
    conn.execute(table.update().values(**values))


def _check_tables(info: SnapshotInfo, metas: Mapping[str, MetaData]) -> None:
    for svc, metadata in metas.items():
        absent = sorted(set(info.databases[svc]["tables"]) - set(metadata.tables))
        if absent:
            raise SnapshotError(
                f"the {svc} database has no table {', '.join(absent)}: it was made by another "
                "version of EduSim"
            )


def _insert_rows(
    info: SnapshotInfo,
    lines: Iterator[Any],
    conns: Mapping[str, Connection],
    metas: Mapping[str, MetaData],
) -> None:
    """Insert the snapshot's rows (the file checked as it is read: see ``content``)."""
    current: tuple[str, Table, list[str]] | None = None
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if current is not None and batch:
            try:
                conns[current[0]].execute(insert(current[1]), batch)
            except SQLAlchemyError as exc:
                reason = getattr(exc, "orig", None) or exc
                raise SnapshotError(
                    f"the rows of {current[0]}.{current[1].name} do not fit its database: {reason}"
                ) from exc
            batch.clear()

    for entry in content(info, lines):
        if isinstance(entry, list):
            if current is not None:  # else the rows of a database not being restored
                batch.append(dict(zip(current[2], entry, strict=True)))
                if len(batch) >= INSERT_BATCH:
                    flush()
            continue
        flush()
        current = None
        if entry.database not in conns:
            continue
        table = metas[entry.database].tables.get(entry.name)
        if table is None:
            raise SnapshotError(
                f"the {entry.database} database has no table {entry.name}: the snapshot was made "
                "by another version of EduSim"
            )
        unknown = sorted(set(entry.columns) - set(table.columns.keys()))
        if unknown:
            raise SnapshotError(
                f"table {entry.database}.{entry.name} has no column {', '.join(unknown)}: the "
                "snapshot was made by another version of EduSim"
            )
        current = (entry.database, table, entry.columns)
    flush()


def _serial_columns(conn: Connection, metadata: MetaData) -> Iterator[tuple[Table, Any, str]]:
    """PostgreSQL: each table's primary-key column fed by a sequence, with that sequence."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(
                select(func.pg_get_serial_sequence(table.name, column.name))
            ).scalar()
            if sequence is not None:
                yield table, column, str(sequence)


def _sqlite_autoincrement(conn: Connection) -> set[str] | None:
    """SQLite: the AUTOINCREMENT tables (None when there are none: no ``sqlite_sequence``)."""
    found = conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).first()
    if found is None:
        return None
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
    )
    return {name for name, sql in rows if "AUTOINCREMENT" in (sql or "").upper()}


def read_sequences(conn: Connection, metadata: MetaData) -> dict[str, int]:
    """The last id each table gave, rows deleted since included (SQLite AUTOINCREMENT counters,
    PostgreSQL sequences): restored with the rows, so a deleted row's id is not given again
    (ONDE's ids are EduConnect's keys)."""
    out: dict[str, int] = {}
    if conn.dialect.name == "sqlite":
        if _sqlite_autoincrement(conn) is None:
            return out
        for name, seq in conn.exec_driver_sql("SELECT name, seq FROM sqlite_sequence"):
            if name in metadata.tables and seq:
                out[name] = int(seq)
    elif conn.dialect.name == "postgresql":
        for table, _column, sequence in _serial_columns(conn, metadata):
            value = conn.execute(select(func.pg_sequence_last_value(sequence))).scalar()
            if value:
                out[table.name] = int(value)
    return out


def _reset_sequences(conn: Connection, metadata: MetaData, saved: Mapping[str, int]) -> None:
    """Each table's id counter as it was when the snapshot was saved (at least past the restored
    rows): the restored timeline gives the ids the original one gave, and never a deleted one."""
    if conn.dialect.name == "sqlite":
        autoincrement = _sqlite_autoincrement(conn)
        for table in metadata.sorted_tables:
            if autoincrement is None or table.name not in autoincrement:
                continue
            [column] = table.primary_key.columns
            highest = max(
                int(saved.get(table.name, 0)),
                int(conn.execute(select(func.coalesce(func.max(column), 0))).scalar_one()),
            )
            conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table.name,))
            if highest:
                conn.exec_driver_sql(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table.name, highest)
                )
        return
    if conn.dialect.name != "postgresql":
        return
    for table, column, sequence in _serial_columns(conn, metadata):
        last = func.greatest(
            select(func.max(column)).scalar_subquery(), int(saved.get(table.name, 0))
        )
        conn.execute(select(func.setval(sequence, func.greatest(last, 1), last > 0)))
