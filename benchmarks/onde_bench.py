"""Figures for the fake ONDE: seeding, change-log reads and export reads, each against raw sqlite3.

Run: ``.venv/bin/python benchmarks/onde_bench.py --pupils 1000000`` (progress on stderr, the table
on stdout, ``--json`` for machine-readable output). A script, not a test: it prints, never fails.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Table
from sqlalchemy.dialects import sqlite as sqlite_dialect

from edusim.services import free_port
from edusim_common.db import make_engine
from fake_onde.config import OndeSettings
from fake_onde.main import create_app
from fake_onde.models import OndeModel
from fake_onde.seed import SQLITE_CACHE_KIB, generate_batches, seed_database

NOW = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
TOKEN = "bench-service-token"
PAGE = 5000


@dataclass(frozen=True)
class Figure:
    """One line of the table: a measured rate, its raw-sqlite3 baseline and their ratio."""

    name: str
    records: int
    seconds: float
    rate: float
    baseline_rate: float | None
    ratio: float | None
    note: str = ""


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the table."""
    print(message, file=sys.stderr, flush=True)


def _figure(
    name: str, records: int, seconds: float, baseline: float | None, note: str = ""
) -> Figure:
    rate = records / seconds if seconds else 0.0
    base_rate = records / baseline if baseline else None
    ratio = seconds / baseline if baseline else None
    return Figure(name, records, seconds, rate, base_rate, ratio, note)


# ---------------------------------------------------------------- seeding


def bench_seed(workdir: Path, pupils: int, schools: int, seed: int) -> tuple[list[Figure], Path]:
    """Seed a fresh SQLite file, then insert the same rows with plain sqlite3 executemany."""
    path = workdir / "onde.db"
    for stale in workdir.glob("*.db*"):
        stale.unlink()
    engine = make_engine(f"sqlite:///{path}")
    OndeModel.metadata.create_all(engine)
    done = 0
    last_print = time.perf_counter()

    def progress(count: int) -> None:
        nonlocal done, last_print
        done += count
        if time.perf_counter() - last_print > 5 or done == pupils:
            last_print = time.perf_counter()
            log(f"  seeded {done:,}/{pupils:,} pupils")

    log(f"seed_database: {schools} schools, {pupils:,} pupils into {path}")
    report = seed_database(
        engine, schools=schools, pupils=pupils, seed=seed, now=NOW, progress=progress
    )
    engine.dispose()
    log(f"  {report}")

    raw_seconds, raw_rows = _raw_insert(workdir / "raw.db", pupils, schools, seed)
    assert raw_rows == report.rows, (raw_rows, report.rows)
    figures = [
        _figure(
            "seed rows (all tables + change log)",
            report.rows,
            report.seconds,
            raw_seconds,
            "baseline: same rows, sqlite3 executemany",
        ),
        _figure(
            "seed pupils",
            report.pupils,
            report.seconds,
            raw_seconds,
            f"{report.responsables:,} responsables, {report.links:,} links, "
            f"{report.changes:,} changes",
        ),
    ]
    return figures, path


def _raw_insert(path: Path, pupils: int, schools: int, seed: int) -> tuple[float, int]:
    """Time only sqlite3's inserts of the rows ``seed_database`` wrote (regenerated identically)."""
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    engine = make_engine(f"sqlite:///{path}")
    OndeModel.metadata.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    # The same settings as the seeding connection: the comparison is of code, not of tuning.
    pragmas = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON")
    for pragma in (*pragmas, f"cache_size=-{SQLITE_CACHE_KIB}"):
        conn.execute(f"PRAGMA {pragma}")
    log("raw sqlite3: regenerating the same rows, timing only the inserts")
    elapsed = 0.0
    rows = 0
    batches = generate_batches(
        sqlite_dialect.dialect(), schools=schools, pupils=pupils, seed=seed, now=NOW
    )
    for batch in batches:
        prepared: list[tuple[str, list[tuple[Any, ...]]]] = []
        for table, table_rows in batch.tables():
            if table_rows:
                prepared.append(_statement(table, table_rows))
                rows += len(table_rows)
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for sql, values in prepared:
            conn.executemany(sql, values)
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - started
    conn.close()
    log(f"  {rows:,} rows in {elapsed:.1f} s of inserts")
    return elapsed, rows


def _statement(table: Table, rows: list[dict[str, Any]]) -> tuple[str, list[tuple[Any, ...]]]:
    columns = list(rows[0])
    sql = (
        f'INSERT INTO "{table.name}" ({", ".join(columns)}) '
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    return sql, [tuple(row.values()) for row in rows]


# ---------------------------------------------------------------- reading over HTTP


@contextmanager
def running_onde(path: Path) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a thread."""
    settings = OndeSettings(database_url=f"sqlite:///{path}", service_token=TOKEN)
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake ONDE did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _timed(function: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    records = function()
    return records, time.perf_counter() - started


def read_changes_http(client: httpx.Client, limit: int) -> int:
    """Page through the change log as the sync does; return the records read."""
    after = 0
    read = 0
    while read < limit:
        size = min(PAGE, limit - read)
        response = client.get("/api/v1/changes", params={"after": after, "limit": size})
        response.raise_for_status()
        page = response.json()
        read += len(page["items"])
        after = page["next_after"]
        if not page["has_more"]:
            break
    return read


def read_changes_raw(conn: sqlite3.Connection, limit: int) -> int:
    """The same pages straight from sqlite3."""
    after = 0
    read = 0
    query = (
        "SELECT seq, at, entity, op, entity_id, school_uai, data FROM change_log "
        "WHERE seq > ? ORDER BY seq LIMIT ?"
    )
    while read < limit:
        rows = conn.execute(query, (after, min(PAGE, limit - read))).fetchall()
        if not rows:
            break
        read += len(rows)
        after = rows[-1][0]
    return read


def read_export_http(client: httpx.Client, kind: str, limit: int, embed: str = "") -> int:
    """Page through the full export of one kind: the records read (embedded links included)."""
    after = 0
    read = 0
    records = 0
    while read < limit:
        params: dict[str, str | int] = {"after": after, "limit": min(PAGE, limit - read)}
        if embed:
            params["embed"] = embed
        response = client.get(f"/api/v1/export/{kind}", params=params)
        response.raise_for_status()
        page = response.json()
        read += len(page["items"])
        records += len(page["items"]) + sum(len(item.get(embed, ())) for item in page["items"])
        if page["next_after"] is None:
            break
        after = page["next_after"]
    return records


def read_export_raw(conn: sqlite3.Connection, table: str, limit: int, links: bool = False) -> int:
    """The same keyset pages straight from sqlite3 (``links``: and each page's links)."""
    after = 0
    read = 0
    records = 0
    while read < limit:
        size = min(PAGE, limit - read)
        rows = conn.execute(
            f"SELECT * FROM {table} WHERE id > ? ORDER BY id LIMIT ?", (after, size)
        ).fetchall()
        read += len(rows)
        records += len(rows)
        if links and rows:
            records += len(
                conn.execute(
                    "SELECT * FROM pupil_responsable WHERE responsable_id > ? "
                    "AND responsable_id <= ? ORDER BY id",
                    (after, rows[-1][0]),
                ).fetchall()
            )
        if len(rows) < size:
            break
        after = rows[-1][0]
    return records


def bench_reads(path: Path, read_limit: int | None) -> list[Figure]:
    """Change log and export over HTTP, against raw sqlite3 keyset pages of the same rows."""
    limit = read_limit or 2**62
    raw = sqlite3.connect(path)
    figures: list[Figure] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        running_onde(path) as base,
        httpx.Client(base_url=base, headers=headers, timeout=300) as client,
    ):
        log(f"reading the change log over HTTP ({base})")
        records, seconds = _timed(lambda: read_changes_http(client, limit))
        raw_records, raw_seconds = _timed(lambda: read_changes_raw(raw, limit))
        assert records == raw_records, (records, raw_records)
        figures.append(
            _figure("change log read (HTTP, pages of 5000)", records, seconds, raw_seconds)
        )
        for kind, table, embed in (
            ("pupils", "pupil", ""),
            ("responsables", "responsable", ""),
            ("responsables", "responsable", "links"),
        ):
            name = f"export {kind}" + (f" + {embed}" if embed else "")
            log(f"{name} over HTTP")
            records, seconds = _timed(partial(read_export_http, client, kind, limit, embed))
            raw_records, raw_seconds = _timed(
                partial(read_export_raw, raw, table, limit, bool(embed))
            )
            assert records == raw_records, (records, raw_records)
            figures.append(_figure(f"{name} (HTTP, pages of 5000)", records, seconds, raw_seconds))
    raw.close()
    return figures


# ---------------------------------------------------------------- output


def render(figures: list[Figure]) -> str:
    """A plain-text table."""
    header = (
        f"{'measure':<49} {'records':>11} {'seconds':>9} {'rate/s':>11} "
        f"{'raw rate/s':>11} {'x raw':>7}"
    )
    lines = [header, "-" * len(header)]
    for f in figures:
        base = f"{f.baseline_rate:>11,.0f}" if f.baseline_rate else f"{'':>11}"
        ratio = f"{f.ratio:>7.2f}" if f.ratio else f"{'':>7}"
        lines.append(
            f"{f.name:<49} {f.records:>11,} {f.seconds:>9.1f} {f.rate:>11,.0f} {base} {ratio}"
        )
        if f.note:
            lines.append(f"{'':<4}{f.note}")
    lines.append("x raw = our time / raw sqlite3 time for the same records (1.0 = as fast as raw)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run every measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--schools", type=int, default=0, help="default: one per ~400 pupils")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument("--read-limit", type=int, default=None, help="records per read measure")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    schools = args.schools or max(1, args.pupils // 400)
    with tempfile.TemporaryDirectory(prefix="onde-bench-") as temp:
        workdir: Path = args.workdir or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        figures, path = bench_seed(workdir, args.pupils, schools, args.seed)
        figures += bench_reads(path, args.read_limit)
    if args.json:
        print(json.dumps([asdict(f) for f in figures], indent=2))
    else:
        print(render(figures))


if __name__ == "__main__":
    main()
