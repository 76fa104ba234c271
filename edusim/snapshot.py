"""Snapshots of the whole simulation: the three databases and the clock, saved and restored.

A snapshot file is gzip-compressed JSON Lines: a header (name, wall time, the sync's simulated
clock, the row count of every table), then for each database and table a table line followed by
one line per row, then an end line. Tables are found by reflection, so this module imports none of
the services and works on any SQLAlchemy URL (SQLite files, PostgreSQL schemas):

* **save** reads each database in one read transaction (repeatable read on PostgreSQL), all three
  opened before the first row is read, and refuses while a sync run is ``running``;
* **restore** empties every table and inserts the saved rows in one write transaction per
  database (the three committed together at the end), taking each service's writer lock, then
  resets PostgreSQL sequences.

A running service keeps its clock in memory: whoever restores under running services must push the
restored clock to them (the sync service's snapshot API does).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, insert, select, text
from sqlalchemy.engine.url import make_url

from edusim_common.db import make_engine, unit_of_work

FORMAT = "edusim-snapshot"
VERSION = 1
SUFFIX = ".snapshot.jsonl.gz"
SERVICES = ("onde", "educonnect", "sync")
#: Each service's PostgreSQL writer lock (``*_LOCK_KEY`` in its ``main.py``): a restore holds it.
WRITER_LOCK_KEYS = {"onde": 0x4F4E4445, "educonnect": 0x4544554E, "sync": 0x53594E43}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
INSERT_BATCH = 1000


class SnapshotError(Exception):
    """A snapshot could not be saved, read or restored; the message says why, for a person."""


class RunInProgress(SnapshotError):
    """A sync run is in progress: the databases would not be consistent."""


def check_name(name: str) -> str:
    """A snapshot name: letters, digits, ``.``, ``_``, ``-``; 64 characters at most."""
    if not NAME_PATTERN.match(name) or name.endswith(".tmp"):
        raise SnapshotError(
            f"invalid snapshot name {name!r}: use letters, digits, '.', '_' and '-' "
            "(64 characters at most, starting with a letter or a digit)"
        )
    return name


# -- values --------------------------------------------------------------------------------------


def encode_value(value: Any) -> Any:
    """A column value as JSON: plain scalars as they are, the others tagged (``{"$dt": …}``)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": value.total_seconds()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, dict | list):
        return {"$json": value}
    raise SnapshotError(f"cannot store a value of type {type(value).__name__}")


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$dt": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$time": time.fromisoformat,
    "$td": lambda seconds: timedelta(seconds=seconds),
    "$dec": Decimal,
    "$b64": base64.b64decode,
    "$uuid": uuid.UUID,
    "$json": lambda value: value,
}


def decode_value(value: Any) -> Any:
    """The inverse of :func:`encode_value`."""
    if isinstance(value, dict):
        [(tag, payload)] = value.items()
        return _DECODERS[tag](payload)
    return value


# -- reading databases ---------------------------------------------------------------------------


def reflect(conn: Connection) -> MetaData:
    """Every table of the database the connection is on (its default schema)."""
    metadata = MetaData()
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
        "service is marked 'interrupted' when that service starts again."
    )


def read_clock(conn: Connection, metadata: MetaData) -> dict[str, str] | None:
    """The simulated clock saved in a service's database (``sim_clock``), as JSON."""
    table = metadata.tables.get("sim_clock")
    if table is None:
        return None
    row = conn.execute(select(table.c.sim_now, table.c.mode).limit(1)).first()
    if row is None:
        return None
    now = row.sim_now
    if isinstance(now, datetime) and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return {"now": now.isoformat() if isinstance(now, datetime) else str(now), "mode": row.mode}


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
            databases[svc] = {"dialect": conn.dialect.name, "tables": tables}
        # The sync's clock is the master; a database never opened by its service has none.
        order = sorted(conns, key=lambda svc: svc != "sync")
        clock = next((c for c in (read_clock(conns[svc], metas[svc]) for svc in order) if c), None)
        info = SnapshotInfo(name=name, saved_at=wall, clock=clock, databases=databases)
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6) as gz:
            _line(gz, info.header())
            for svc, conn in conns.items():
                for table in metas[svc].sorted_tables:
                    columns = [c.name for c in table.columns]
                    _line(gz, {"table": {"database": svc, "name": table.name, "columns": columns}})
                    result = conn.execution_options(yield_per=INSERT_BATCH).execute(_ordered(table))
                    for row in result:
                        _line(gz, [encode_value(v) for v in row])
            _line(gz, {"end": True})
        return info


def _line(out: gzip.GzipFile, value: Any) -> None:
    out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    out.write(b"\n")


# -- the header ----------------------------------------------------------------------------------


@dataclass
class SnapshotInfo:
    """What a snapshot holds, from its header."""

    name: str
    saved_at: datetime
    clock: dict[str, str] | None
    databases: dict[str, Any] = field(default_factory=dict)
    size: int | None = None

    def header(self) -> dict[str, Any]:
        """The first line of the file."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "saved_at": self.saved_at.isoformat(),
            "clock": self.clock,
            "databases": self.databases,
        }

    @property
    def simulated_now(self) -> datetime | None:
        """The simulated time the snapshot was taken at."""
        return datetime.fromisoformat(self.clock["now"]) if self.clock else None

    def rows(self) -> dict[str, int]:
        """Rows per database."""
        return {svc: sum(db["tables"].values()) for svc, db in self.databases.items()}

    @classmethod
    def from_header(cls, header: Any, size: int | None = None) -> SnapshotInfo:
        """Parse and check a header line."""
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise SnapshotError("not an EduSim snapshot file")
        if header.get("version") != VERSION:
            raise SnapshotError(f"snapshot format version {header.get('version')} is not {VERSION}")
        try:
            return cls(
                name=str(header["name"]),
                saved_at=datetime.fromisoformat(header["saved_at"]),
                clock=header["clock"],
                databases=dict(header["databases"]),
                size=size,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"damaged snapshot header: {exc}") from exc


def _lines(source: IO[bytes]) -> Iterator[Any]:
    try:
        with gzip.GzipFile(fileobj=source, mode="rb") as gz:
            for raw in gz:
                yield json.loads(raw)
    except (OSError, EOFError, ValueError) as exc:
        raise SnapshotError(f"damaged snapshot file: {exc}") from exc


def read_info(source: IO[bytes], size: int | None = None) -> SnapshotInfo:
    """The header of a snapshot file."""
    for header in _lines(source):
        return SnapshotInfo.from_header(header, size)
    raise SnapshotError("empty snapshot file")


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
    lines = _lines(source)
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
            _reset_sequences(conn, metas[svc])
    return info


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
    current: tuple[str, Table, list[str]] | None = None
    batch: list[dict[str, Any]] = []
    written: dict[tuple[str, str], int] = {}

    def flush() -> None:
        if current is not None and batch:
            conns[current[0]].execute(insert(current[1]), batch)
            key = (current[0], current[1].name)
            written[key] = written.get(key, 0) + len(batch)
            batch.clear()

    for line in lines:
        if isinstance(line, list):
            if current is None:
                raise SnapshotError("damaged snapshot file: a row before any table")
            batch.append(dict(zip(current[2], map(decode_value, line), strict=True)))
            if len(batch) >= INSERT_BATCH:
                flush()
        elif "table" in line:
            flush()
            svc, name, columns = (line["table"][k] for k in ("database", "name", "columns"))
            if svc not in conns:
                current = None
                continue
            table = metas[svc].tables[name]
            unknown = sorted(set(columns) - set(table.columns.keys()))
            if unknown:
                raise SnapshotError(
                    f"table {svc}.{name} has no column {', '.join(unknown)}: the snapshot was "
                    "made by another version of EduSim"
                )
            current = (svc, table, columns)
        elif line.get("end"):
            flush()
            _check_counts(info, conns, written)
            return
    raise SnapshotError("damaged snapshot file: it ends before its end line (truncated?)")


def _check_counts(
    info: SnapshotInfo, conns: Mapping[str, Connection], written: Mapping[tuple[str, str], int]
) -> None:
    for svc in conns:
        for name, expected in info.databases[svc]["tables"].items():
            if written.get((svc, name), 0) != expected:
                raise SnapshotError(
                    f"damaged snapshot file: {svc}.{name} has {written.get((svc, name), 0)} "
                    f"rows, its header says {expected}"
                )


def _reset_sequences(conn: Connection, metadata: MetaData) -> None:
    """PostgreSQL: each serial/identity column's sequence continues after the restored rows."""
    if conn.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(
                select(func.pg_get_serial_sequence(table.name, column.name))
            ).scalar()
            if sequence is None:
                continue
            highest = select(func.max(column)).scalar_subquery()
            conn.execute(
                select(func.setval(sequence, func.coalesce(highest, 1), highest.is_not(None)))
            )


# -- a directory of snapshots --------------------------------------------------------------------


class SnapshotStore:
    """Snapshot files in one directory: ``NAME.snapshot.jsonl.gz``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        """The file of snapshot ``name``."""
        return self.directory / f"{check_name(name)}{SUFFIX}"

    def exists(self, name: str) -> bool:
        """Whether snapshot ``name`` exists."""
        return self.path(name).is_file()

    def list(self) -> list[SnapshotInfo]:
        """Every readable snapshot, oldest first (damaged files are skipped)."""
        found = []
        if not self.directory.is_dir():
            return []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                found.append(self.info(path.name.removesuffix(SUFFIX)))
            except SnapshotError:
                continue
        return sorted(found, key=lambda info: info.saved_at)

    def info(self, name: str) -> SnapshotInfo:
        """The header of snapshot ``name``."""
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(name)
        with path.open("rb") as source:
            info = read_info(source, path.stat().st_size)
        info.name = name  # the file's name wins: an uploaded file may carry another
        return info

    @contextmanager
    def writing(self, name: str, overwrite: bool = False) -> Iterator[IO[bytes]]:
        """A file to write snapshot ``name`` into; it appears only if the block succeeds."""
        path = self.path(name)
        if path.exists() and not overwrite:
            raise FileExistsError(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("wb") as out:
                yield out
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)

    def delete(self, name: str) -> None:
        """Remove snapshot ``name``."""
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(name)
        path.unlink()


def save_to_store(
    store: SnapshotStore,
    name: str,
    urls: Mapping[str, str],
    overwrite: bool = False,
    wall: datetime | None = None,
) -> SnapshotInfo:
    """Save the databases at ``urls`` (by service name) as snapshot ``name``."""
    engines = {svc: make_engine(url) for svc, url in urls.items()}
    try:
        with store.writing(name, overwrite) as out:
            info = save(engines, out, name, wall or datetime.now(UTC))
        info.size = store.path(name).stat().st_size
        return info
    finally:
        for engine in engines.values():
            engine.dispose()


def restore_from_store(
    store: SnapshotStore,
    name: str,
    urls: Mapping[str, str],
    create: Mapping[str, MetaData] | None = None,
) -> SnapshotInfo:
    """Restore snapshot ``name`` into the databases at ``urls``."""
    path = store.path(name)
    if not path.is_file():
        raise FileNotFoundError(name)
    engines = {
        svc: make_engine(url, lock_key=WRITER_LOCK_KEYS.get(svc, 0)) for svc, url in urls.items()
    }
    try:
        with path.open("rb") as source:
            return restore(engines, source, create)
    finally:
        for engine in engines.values():
            engine.dispose()


def default_directory(sync_url: str, fallback: Path = Path("data")) -> Path:
    """Where snapshots live: ``EDUSIM_SNAPSHOT_DIR``, else beside the sync's SQLite file, else
    ``fallback/snapshots``."""
    configured = os.environ.get("EDUSIM_SNAPSHOT_DIR")
    if configured:
        return Path(configured)
    parsed = make_url(sync_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database or ".").parent / "snapshots"
    return fallback / "snapshots"
