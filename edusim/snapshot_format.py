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
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

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
    """The inverse of :func:`encode_value`."""
    if isinstance(value, dict):
        [(tag, payload)] = value.items()
        return _DECODERS[tag](payload)
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


def read_lines(source: IO[bytes]) -> Iterator[Any]:
    try:
        with gzip.GzipFile(fileobj=source, mode="rb") as gz:
            for raw in gz:
                yield json.loads(raw)
    except (OSError, EOFError, ValueError) as exc:
        raise SnapshotError(f"damaged snapshot file: {exc}") from exc


def read_info(source: IO[bytes], size: int | None = None) -> SnapshotInfo:
    """The header of a snapshot file."""
    for header in read_lines(source):
        return SnapshotInfo.from_header(header, size)
    raise SnapshotError("empty snapshot file")
