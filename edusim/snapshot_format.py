"""The snapshot file: gzip-compressed JSON Lines, its header, and column values as JSON.

Line 1 is the header (name, wall time, the simulated clock, the row count of every table and, in
``sequences``, the last id each table gave — absent from older files); then,
for each database and table, a table line (``{"table": {database, name, columns}}``) followed by
one line per row (a list of values); last, ``{"end": true}``. Values JSON cannot hold are tagged:
``{"$dt": "2026-09-01T08:00:00"}``, ``{"$date": …}``, ``{"$b64": …}``…
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

from edusim_common.clock import ClockMode
from edusim_common.clock_api import EARLIEST, LATEST, RANGE

FORMAT = "edusim-snapshot"
VERSION = 1
SUFFIX = ".snapshot.jsonl.gz"
#: The snapshot ``edusim reset --demo`` makes of the demo seed (« début de la démonstration »).
DEMO_SNAPSHOT = "demo-seed"
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
    """The inverse of :func:`encode_value`; a value it could not have written is refused."""
    if isinstance(value, dict):
        if len(value) != 1:
            raise SnapshotError(f"damaged snapshot file: a tagged value with {len(value)} keys")
        [(tag, payload)] = value.items()
        decoder = _DECODERS.get(tag)
        if decoder is None:
            raise SnapshotError(f"damaged snapshot file: unknown value tag {tag!r:.40}")
        try:
            return decoder(payload)
        except (TypeError, ValueError, ArithmeticError) as exc:  # binascii.Error is a ValueError
            raise SnapshotError(f"damaged snapshot file: a {tag} value: {exc}") from exc
    if isinstance(value, list):
        raise SnapshotError("damaged snapshot file: a list where a column value should be")
    return value


def write_line(out: gzip.GzipFile, value: Any) -> None:
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
        """Parse and check a header line: every field a restore and a listing rely on."""
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise SnapshotError("not an EduSim snapshot file")
        if header.get("version") != VERSION:
            raise SnapshotError(f"snapshot format version {header.get('version')} is not {VERSION}")
        name = header.get("name")
        if not isinstance(name, str):
            raise SnapshotError("damaged snapshot header: its name is not a string")
        return cls(
            name=name,
            saved_at=_aware(header.get("saved_at"), "saved_at"),
            clock=_clock(header.get("clock")),
            databases=_databases(header.get("databases")),
            size=size,
        )


def _damaged(reason: str) -> SnapshotError:
    return SnapshotError(f"damaged snapshot header: {reason}")


def _aware(value: Any, what: str) -> datetime:
    """A date and time with its offset (``2026-09-01T08:00:00+00:00``)."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise _damaged(f"{what} {value!r:.60} is not a date and time")
    if parsed.tzinfo is None:
        raise _damaged(f"{what} {value!r:.60} has no UTC offset")
    return parsed


def _clock(value: Any) -> dict[str, str] | None:
    """The simulated clock: a time within the clock's range, and a mode the services know."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _damaged("its clock is not an object")
    now = _aware(value.get("now"), "clock.now")
    if _out_of_range(now):
        raise _damaged(f"clock.now {value['now']!r}: {RANGE}")
    if (wrong := _unknown_mode(value.get("mode"))) is not None:
        raise _damaged(f"clock.mode {wrong}")
    return {"now": value["now"], "mode": value["mode"]}


_MODES = tuple(mode.value for mode in ClockMode)


def _unknown_mode(mode: Any) -> str | None:
    """Why ``mode`` is no clock mode the services know (None: it is one)."""
    return None if mode in _MODES else f"{mode!r:.40} is not one of {', '.join(_MODES)}"


def _out_of_range(now: datetime) -> bool:
    """Whether a clock time (UTC when naive, as the services store it) is outside the range."""
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return not EARLIEST <= aware < LATEST


def _counts(value: Any, what: str) -> dict[str, int]:
    """Row counts, or last ids: whole numbers from 0 to a database's largest integer."""
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and type(count) is int and 0 <= count < 2**63
        for key, count in value.items()
    ):
        raise _damaged(f"{what} is not an object of table names and counts")
    return value


def _databases(value: Any) -> dict[str, Any]:
    """Per service: its tables' row counts, and (newer files) the last id each table gave."""
    if not isinstance(value, dict):
        raise _damaged("its databases are not an object")
    for service, database in value.items():
        if service not in SERVICES:
            raise _damaged(f"unknown database {service!r:.40}: not one of {', '.join(SERVICES)}")
        if not isinstance(database, dict):
            raise _damaged(f"databases.{service} is not an object")
        _counts(database.get("tables"), f"databases.{service}.tables")
        if database.get("sequences") is not None:
            _counts(database["sequences"], f"databases.{service}.sequences")
    return dict(value)


_END = object()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def read_lines(source: IO[bytes]) -> Iterator[Any]:
    try:
        with gzip.GzipFile(fileobj=source, mode="rb") as gz:
            for raw in gz:
                yield json.loads(raw, parse_constant=_no_constant)  # no NaN nor Infinity
    except (OSError, EOFError, ValueError) as exc:
        raise SnapshotError(f"damaged snapshot file: {exc}") from exc


def read_info(source: IO[bytes], size: int | None = None) -> SnapshotInfo:
    """The header of a snapshot file."""
    for header in read_lines(source):
        return SnapshotInfo.from_header(header, size)
    raise SnapshotError("empty snapshot file")


@dataclass(frozen=True)
class TableStart:
    """A table line: the rows that follow are this table's, with these columns."""

    database: str
    name: str
    columns: list[str]


def content(info: SnapshotInfo, lines: Iterator[Any]) -> Iterator[TableStart | list[Any]]:
    """The lines after the header: each table line, then its rows (values decoded), checked.

    A line of another shape, a row of the wrong length, an undecodable value, a table the header
    does not count, a count that is not the header's, a missing end line or anything after it:
    a :class:`SnapshotError` naming it.
    """
    current: TableStart | None = None
    counted: dict[tuple[str, str], int] = {}
    for line in lines:
        if isinstance(line, list):
            if current is None:
                raise SnapshotError("damaged snapshot file: a row before any table")
            if len(line) != len(current.columns):
                raise SnapshotError(
                    f"damaged snapshot file: a row of {current.database}.{current.name} has "
                    f"{len(line)} values for {len(current.columns)} columns"
                )
            counted[(current.database, current.name)] += 1
            values = [decode_value(value) for value in line]
            if current.name == CLOCK_TABLE:
                _check_clock_row(current, dict(zip(current.columns, values, strict=True)))
            yield values
        elif isinstance(line, dict) and isinstance(line.get("table"), dict):
            current = _table_start(info, line["table"])
            key = (current.database, current.name)
            if key in counted:
                raise SnapshotError(f"damaged snapshot file: table {'.'.join(key)} given twice")
            counted[key] = 0
            yield current
        elif line == {"end": True}:
            if next(lines, _END) is not _END:
                raise SnapshotError("damaged snapshot file: lines after its end line")
            _check_counts(info, counted)
            return
        else:
            raise SnapshotError(f"damaged snapshot file: an unexpected line {str(line)[:60]!r}")
    raise SnapshotError("damaged snapshot file: it ends before its end line (truncated?)")


#: The table in which each service keeps its simulated clock (``edusim_common.clock_api``).
CLOCK_TABLE = "sim_clock"


def _check_clock_row(table: TableStart, row: dict[str, Any]) -> None:
    """A service's clock as restored: a mode the services know, a time within the clock's range
    (a service whose clock row is neither answers 500 to every request)."""
    where = f"damaged snapshot file: {table.database}.{table.name}"
    if "mode" in row and (wrong := _unknown_mode(row["mode"])) is not None:
        raise SnapshotError(f"{where}: mode {wrong}")
    now = row.get("sim_now")
    if "sim_now" in row and not isinstance(now, datetime):
        raise SnapshotError(f"{where}: sim_now {now!r:.60} is not a date and time")
    if isinstance(now, datetime) and _out_of_range(now):
        raise SnapshotError(f"{where}: sim_now {now.isoformat()}: {RANGE}")


def _table_start(info: SnapshotInfo, table: dict[str, Any]) -> TableStart:
    database, name, columns = table.get("database"), table.get("name"), table.get("columns")
    if database not in info.databases or not isinstance(name, str):
        raise SnapshotError(
            f"damaged snapshot file: a table line for {database!r:.40}.{name!r:.40}, "
            "which the header does not list"
        )
    if (
        not isinstance(columns, list)
        or not columns
        or not all(isinstance(column, str) for column in columns)
        or len(set(columns)) != len(columns)
    ):
        raise SnapshotError(f"damaged snapshot file: the columns of {database}.{name}")
    return TableStart(database, name, columns)


def _check_counts(info: SnapshotInfo, counted: dict[tuple[str, str], int]) -> None:
    expected = {
        (database, name): count
        for database, described in info.databases.items()
        for name, count in described["tables"].items()
    }
    for key in sorted(expected.keys() | counted.keys()):
        if counted.get(key, 0) != expected.get(key, 0):
            raise SnapshotError(
                f"damaged snapshot file: {'.'.join(key)} has {counted.get(key, 0)} rows, its "
                f"header says {expected.get(key, 0)}"
            )


def verify(source: IO[bytes], size: int | None = None) -> SnapshotInfo:
    """The header of a snapshot file, once every line of it is checked (see :func:`content`)."""
    lines = read_lines(source)
    info = SnapshotInfo.from_header(next(lines, None), size)
    for _ in content(info, lines):
        pass
    return info
