"""Figures for the sync: the full first sync and a daily delta, each against raw sqlite3.

Run: ``.venv/bin/python benchmarks/sync_bench.py --pupils 100000 --changes-percent 1``
(progress on stderr, the table on stdout, ``--json`` for machine-readable output). The three
services run under uvicorn on free loopback ports, on SQLite files in a temporary folder; the
sync sends batches of 50,000 (``SYNC_BATCH_SIZE``, as docs/sync.md advises for a first sync at
scale) with a 600 s HTTP timeout.

- full first sync: the records read from ONDE's export (pupils, responsables, links) per second,
  through the whole pipeline (export → mirror → EduConnect import);
- two raw sqlite3 baselines, each timed after the OS has written back what the sync wrote (a
  raw copy timed during write-back took up to twice as long):
  - minimal raw copy: ONDE's pupils, responsables and links read from its file and written into
    tables with only a primary key (the rows the sync reads, not those it writes);
  - same-rows raw copy: what the sync reads and writes, without any of its logic: ONDE's four
    exported tables read, then the rows the full sync left (mirror, run lines, EduConnect's
    accounts, sources, children, attachments, exclusions) written with plain executemany into
    fresh files with the same schema (indexes, unique constraints, foreign keys on), WAL and
    ``synchronous=NORMAL`` like the services; the rows are loaded into memory first, untimed;
- daily delta: ``--changes-percent`` of the pupils changed through ONDE's API (half contact
  changes, half strike-offs), then, once the write-back has settled, « next day »: the nightly
  run's duration; and the same with a fixed ``--fixed-changes`` count, to show that the
  delta's time follows the changes, not the size;
  each against its own minimal raw copy: the night's change-log rows (those the run read) read
  from ONDE's file and written into another;
- the CPU seconds each service used during the full sync (from ``/proc``, on Linux): where the
  time goes.

``--postgres URL`` (a server, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
runs the three services on PostgreSQL instead: the script drops and creates the databases
``syncbench_onde``, ``syncbench_educonnect`` and ``syncbench_sync`` on that server and seeds ONDE
there. The baselines stay raw sqlite3: ONDE is also seeded, with the same seed, into a SQLite file
(the same rows: the script checks the counts), and each night's change-log rows are copied from
PostgreSQL into that file (untimed) before its raw copy. The same-rows copy, which reads the
services' SQLite files, is not measured. When the server runs on this machine, the CPU its
processes used during the full sync is printed with the services'. A server whose autovacuum is
off never gathers the statistics its planner needs after the full sync's millions of rows: the
script then analyses the three databases (untimed) before the nights, as autovacuum would have.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import make_url, text

from edusim.services import ServiceSpec, Supervisor, free_port
from edusim_common.db import make_engine
from fake_onde.models import OndeModel
from fake_onde.seed import seed_database

NOW = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
ONDE_TOKEN, EC_TOKEN, SYNC_TOKEN = "bench-onde", "bench-educonnect", "bench-sync"


@dataclass(frozen=True)
class Figure:
    """One line of the table."""

    name: str
    records: int
    seconds: float
    rate: float
    baseline_seconds: float | None = None
    ratio: float | None = None
    fair_seconds: float | None = None
    fair_ratio: float | None = None
    note: str = ""


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


Query = tuple[str, str, str, tuple[object, ...]]
"""(table, key column, WHERE clause, its parameters): rows of ONDE's file to copy."""
FULL_COPY: list[Query] = [(t, "id", "1", ()) for t in ("pupil", "responsable", "pupil_responsable")]


def raw_copy(onde_db: Path, target: Path, queries: list[Query]) -> tuple[int, float]:
    """Read rows from ONDE's file and write them into another, into tables with a key only."""
    target.unlink(missing_ok=True)
    settle()
    started = time.perf_counter()
    source = sqlite3.connect(onde_db)
    sink = sqlite3.connect(target)
    sink.execute("PRAGMA journal_mode=WAL")
    sink.execute("PRAGMA synchronous=NORMAL")
    total = 0
    for table, key, where, params in queries:
        columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
        sink.execute(f"CREATE TABLE {table} ({', '.join(columns)}, PRIMARY KEY ({key}))")
        placeholders = ", ".join("?" for _ in columns)
        cursor = source.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE {where} ORDER BY {key}", params
        )
        while rows := cursor.fetchmany(20000):
            sink.executemany(f"INSERT INTO {table} VALUES ({placeholders})", rows)
            total += len(rows)
        sink.commit()
    source.close()
    sink.close()
    return total, time.perf_counter() - started


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(supervisor: Supervisor) -> dict[str, float | None]:
    """CPU seconds used so far by each service of ``supervisor``."""
    return {name: cpu_seconds(process.pid) for name, process in supervisor.processes.items()}


def postgres_cpu() -> dict[int, float]:
    """CPU seconds used so far by each process of a local PostgreSQL server (Linux ``/proc``)."""
    found: dict[int, float] = {}
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        pid = int(comm.parent.name)
        if (seconds := cpu_seconds(pid)) is not None:
            found[pid] = seconds
    return found


def postgres_cpu_since(before: dict[int, float]) -> float:
    """CPU seconds the server's processes used since ``before`` (a process that started since
    counts from zero; one that ended since is missed)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in postgres_cpu().items())


def settle(limit: float = 60.0) -> None:
    """Wait until the OS has written the dirty pages back (``sync``), then a short pause."""
    started = time.perf_counter()
    os.sync()
    while time.perf_counter() - started < limit:
        try:
            meminfo = Path("/proc/meminfo").read_text()
        except OSError:
            break
        kib = {
            line.split(":")[0]: int(line.split()[1])
            for line in meminfo.splitlines()
            if line.startswith(("Dirty:", "Writeback:"))
        }
        if sum(kib.values()) < 16 * 1024:
            break
        time.sleep(0.5)
    time.sleep(1.0)


SYNC_WRITES = (
    "run",
    "mirror_class",
    "mirror_pupil",
    "mirror_responsable",
    "mirror_link",
    "run_line",
)
EDUCONNECT_WRITES = ("account", "account_source", "child", "attachment", "excluded_source")
ONDE_READS = ("school_class", "pupil", "responsable", "pupil_responsable")

Rows = dict[str, tuple[list[str], list[tuple[object, ...]]]]


def _with_parents(con: sqlite3.Connection, tables: tuple[str, ...]) -> list[str]:
    """``tables`` and the tables their foreign keys point to, parents first."""
    ordered: list[str] = []

    def visit(table: str) -> None:
        if table in ordered:
            return
        for row in con.execute(f"PRAGMA foreign_key_list({table})"):
            if row[2] != table:
                visit(row[2])
        ordered.append(table)

    for table in tables:
        visit(table)
    return ordered


def _rows_and_schema(db: Path, tables: tuple[str, ...]) -> tuple[list[str], list[str], Rows]:
    """(tables in write order, their DDL with indexes, their rows) of a service's file."""
    con = sqlite3.connect(db)
    order = _with_parents(con, tables)
    marks = ", ".join("?" for _ in order)
    ddl = [
        sql
        for (sql,) in con.execute(
            f"SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name IN ({marks}) "
            "ORDER BY type DESC",
            order,
        )
    ]
    rows: Rows = {}
    for table in order:
        columns = [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
        rows[table] = (columns, con.execute(f"SELECT * FROM {table} ORDER BY id").fetchall())
    con.close()
    return order, ddl, rows


def same_rows_copy(workdir: Path, target: Path) -> tuple[int, int, float]:
    """The same-rows baseline: (rows read, rows written, seconds); see the module's docstring."""
    target.mkdir(exist_ok=True)
    plans = []
    for name, tables in (("sync", SYNC_WRITES), ("educonnect", EDUCONNECT_WRITES)):
        order, ddl, rows = _rows_and_schema(workdir / f"{name}.db", tables)
        path = target / f"{name}.db"
        path.unlink(missing_ok=True)
        con = sqlite3.connect(path)
        con.execute("PRAGMA journal_mode=WAL")
        for sql in ddl:
            con.execute(sql)
        con.commit()
        con.close()
        plans.append((path, order, rows))
    settle()
    started = time.perf_counter()
    read = 0
    source = sqlite3.connect(workdir / "onde.db")
    for table in ONDE_READS:
        cursor = source.execute(f"SELECT * FROM {table} ORDER BY id")
        while batch := cursor.fetchmany(20000):
            read += len(batch)
    source.close()
    written = 0
    for path, order, rows in plans:
        sink = sqlite3.connect(path, isolation_level=None)
        sink.execute("PRAGMA journal_mode=WAL")
        sink.execute("PRAGMA synchronous=NORMAL")
        sink.execute("PRAGMA foreign_keys=ON")
        for table in order:
            columns, values = rows[table]
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            sink.execute("BEGIN IMMEDIATE")
            for start in range(0, len(values), 20000):
                sink.executemany(sql, values[start : start + 20000])
            sink.execute("COMMIT")
            written += len(values)
        sink.close()
    return read, written, time.perf_counter() - started


PG_DATABASES = {
    "onde": "syncbench_onde",
    "educonnect": "syncbench_educonnect",
    "sync": "syncbench_sync",
}


def postgres_databases(server: str) -> dict[str, str]:
    """Fresh benchmark databases on ``server``: each service's SQLAlchemy URL."""
    url = make_url(server)
    with psycopg.connect(_conninfo(server), autocommit=True) as admin:
        for name in PG_DATABASES.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    return {
        service: url.set(database=name).render_as_string(hide_password=False)
        for service, name in PG_DATABASES.items()
    }


def _conninfo(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def analyze_postgres(urls: dict[str, str]) -> bool:
    """``ANALYZE`` each service's database when the server's autovacuum is off (it would have,
    by the time a night runs); whether it was needed."""
    with psycopg.connect(_conninfo(urls["onde"]), autocommit=True) as probe:
        row = probe.execute("SHOW autovacuum").fetchone()
    if row is None or row[0] != "off":
        return False
    for service, url in urls.items():
        started = time.perf_counter()
        with psycopg.connect(_conninfo(url), autocommit=True) as connection:
            connection.execute("ANALYZE")
        log(f"autovacuum is off on this server: {service}'s database analysed in "
            f"{time.perf_counter() - started:.1f} s (untimed)")  # fmt: skip
    return True


def seed_onde(url: str, pupils: int, seed: int) -> tuple[int, int, int, float]:
    """Seed ONDE's database at ``url``: (pupils, responsables, links, seconds)."""
    engine = make_engine(url)
    OndeModel.metadata.create_all(engine)
    report = seed_database(engine, schools=max(1, pupils // 400), pupils=pupils, seed=seed, now=NOW)
    engine.dispose()
    return report.pupils, report.responsables, report.links, report.seconds


def copy_night_to_sqlite(postgres_url: str, onde_db: Path, first: int, last: int) -> None:
    """Copy ONDE's change-log rows ``first < seq <= last`` from PostgreSQL into ``onde_db``."""
    engine = make_engine(postgres_url)
    with engine.connect() as source:
        result = source.execute(
            text("SELECT * FROM change_log WHERE seq > :first AND seq <= :last ORDER BY seq"),
            {"first": first, "last": last},
        )
        columns = list(result.keys())
        rows = [tuple(str(v) if isinstance(v, datetime) else v for v in r) for r in result]
    engine.dispose()
    sink = sqlite3.connect(onde_db)
    sink.executemany(
        f"INSERT OR REPLACE INTO change_log ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})",
        rows,
    )
    sink.commit()
    sink.close()


def make_changes(
    client: httpx.Client, onde: str, count: int, pupils: int, responsables: int, rng: random.Random
) -> int:
    """``count`` changes through ONDE's API: half new emails, half strike-offs."""
    headers = {"Authorization": f"Bearer {ONDE_TOKEN}"}
    done = 0
    for index in range(count):
        if index % 2 == 0:
            rid = rng.randint(1, responsables)
            response = client.patch(
                f"{onde}/api/v1/responsables/{rid}",
                json={"email": f"bench{index}@example.org"},
                headers=headers,
            )
        else:
            pid = rng.randint(1, pupils)
            response = client.post(
                f"{onde}/api/v1/pupils/{pid}/state", json={"state": "radie"}, headers=headers
            )
        done += response.status_code == 200
    return done


def main(argv: list[str] | None = None) -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--changes-percent", type=float, default=1.0)
    parser.add_argument("--fixed-changes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=None,
        help="run the services on this PostgreSQL server (databases syncbench_*, recreated)",
    )
    args = parser.parse_args(argv)
    # A kill (SIGTERM) unwinds like Ctrl-C, so the services this script started are stopped too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sync-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    onde_db = workdir / "onde.db"
    figures: list[Figure] = []

    log(f"seeding {args.pupils:,} pupils into {onde_db} …")
    seeded = seed_onde(f"sqlite:///{onde_db}", args.pupils, args.seed)
    pupils, responsables, links, seed_seconds = seeded
    log(f"seeded in {seed_seconds:.1f} s")
    urls = {
        "onde": f"sqlite:///{onde_db}",
        "educonnect": f"sqlite:///{workdir / 'educonnect.db'}",
        "sync": f"sqlite:///{workdir / 'sync.db'}",
    }
    if args.postgres:
        urls = postgres_databases(args.postgres)
        log(f"seeding {args.pupils:,} pupils into PostgreSQL ({PG_DATABASES['onde']}) …")
        on_postgres = seed_onde(urls["onde"], args.pupils, args.seed)
        if on_postgres[:3] != seeded[:3]:
            sys.exit(f"the two seeds differ: SQLite {seeded[:3]}, PostgreSQL {on_postgres[:3]}")
        log(f"seeded in {on_postgres[3]:.1f} s")

    ports = {name: free_port() for name in ("onde", "educonnect", "sync")}
    os.environ.update(
        {
            "ONDE_DATABASE_URL": urls["onde"],
            "ONDE_SERVICE_TOKEN": ONDE_TOKEN,
            "EDUCONNECT_DATABASE_URL": urls["educonnect"],
            "EDUCONNECT_SERVICE_TOKEN": EC_TOKEN,
            "SYNC_DATABASE_URL": urls["sync"],
            "SYNC_SERVICE_TOKEN": SYNC_TOKEN,
            "SYNC_ONDE_URL": f"http://127.0.0.1:{ports['onde']}",
            "SYNC_ONDE_TOKEN": ONDE_TOKEN,
            "SYNC_EDUCONNECT_URL": f"http://127.0.0.1:{ports['educonnect']}",
            "SYNC_EDUCONNECT_TOKEN": EC_TOKEN,
            "SYNC_SCHEDULER_ENABLED": "false",
            "SYNC_HTTP_TIMEOUT_SECONDS": "600",
            "SYNC_DEACTIVATION_MAX_COUNT": str(10**9),
            "SYNC_DEACTIVATION_MAX_PERCENT": "100",
            # A first sync at scale, as docs/sync.md advises: EduConnect's biggest batches.
            "SYNC_BATCH_SIZE": "50000",
        }
    )
    supervisor = Supervisor(
        "127.0.0.1",
        [
            ServiceSpec("onde", "fake_onde.main:create_app", ports["onde"]),
            ServiceSpec("educonnect", "fake_educonnect.main:create_app", ports["educonnect"]),
            ServiceSpec("sync", "sync_service.main:create_app", ports["sync"]),
        ],
    )
    supervisor.start(timeout=120)
    sync = f"http://127.0.0.1:{ports['sync']}"
    admin = {"Authorization": f"Bearer {SYNC_TOKEN}"}
    try:
        with httpx.Client(timeout=None) as client:
            log("full first sync …")
            cpu_before = cpu_of(supervisor)
            server_before = postgres_cpu() if args.postgres else {}
            started = time.perf_counter()
            run = client.post(f"{sync}/api/v1/runs", json={"full": True}, headers=admin).json()
            seconds = time.perf_counter() - started
            cpu_after = cpu_of(supervisor)
            cpu = ", ".join(
                f"{name} {after - before:.1f} s"
                for name, before in cpu_before.items()
                if before is not None and (after := cpu_after[name]) is not None
            )
            if server_before:  # a server on this machine (its processes seen in /proc)
                cpu += f", PostgreSQL server {postgres_cpu_since(server_before):.1f} s"
            records = run["counts"]["changes_read"]
            log(f"full sync: {run['status']} in {seconds:.1f} s, counts {run['counts']}")
            log("raw baselines (after the write-back settles) …")
            raw_records, raw_seconds = raw_copy(onde_db, workdir / "raw-copy.db", FULL_COPY)
            if args.postgres:
                fair_seconds = None
                same_rows = "same-rows raw not measured (the services' rows are in PostgreSQL)"
                log(f"raw: minimal {raw_seconds:.2f} s")
            else:
                read, written, fair_seconds = same_rows_copy(workdir, workdir / "same-rows")
                same_rows = f"same-rows raw = read {read:,} + write {written:,} rows (same indexes)"
                log(f"raw: minimal {raw_seconds:.2f} s, same rows {fair_seconds:.2f} s")
            figures.append(
                Figure(
                    "full first sync (export → EduConnect)",
                    records,
                    round(seconds, 2),
                    round(records / seconds),
                    round(raw_seconds, 2),
                    round(seconds / raw_seconds, 1),
                    round(fair_seconds, 2) if fair_seconds else None,
                    round(seconds / fair_seconds, 1) if fair_seconds else None,
                    f"{run['counts']['responsables_sent']:,} responsables sent; "
                    f"minimal raw = read {raw_records:,} rows + write them (primary key only); "
                    + same_rows
                    + (f"; CPU used: {cpu}" if cpu else ""),
                )
            )
            if args.postgres:
                analyze_postgres(urls)
            rng = random.Random(args.seed)
            onde = f"http://127.0.0.1:{ports['onde']}"
            for label, count in (
                (f"daily delta ({args.changes_percent:g} % of pupils)",
                 int(args.pupils * args.changes_percent / 100)),
                (f"daily delta ({args.fixed_changes:,} changes)", args.fixed_changes),
            ):  # fmt: skip
                log(f"{label}: making {count:,} changes through ONDE's API …")
                made = make_changes(client, onde, count, pupils, responsables, rng)
                settle()  # not while the OS still writes back the raw copies' gigabytes
                moved = client.post(f"{sync}/api/v1/clock/next-day", headers=admin).json()
                night = moved["runs"][-1]
                log(f"{label}: {night['status']} in {night['wall_seconds']} s, {night['counts']}")
                if args.postgres:
                    copy_night_to_sqlite(
                        urls["onde"], onde_db, night["from_cursor"], night["to_cursor"]
                    )
                night_rows = ("seq > ? AND seq <= ?", (night["from_cursor"], night["to_cursor"]))
                copied, raw_seconds = raw_copy(
                    onde_db, workdir / "raw-delta.db", [("change_log", "seq", *night_rows)]
                )
                seconds = night["wall_seconds"]
                figures.append(
                    Figure(
                        label,
                        night["counts"]["changes_read"],
                        seconds,
                        round(night["counts"]["changes_read"] / max(seconds, 1e-6)),
                        round(raw_seconds, 3),
                        round(seconds / raw_seconds, 1),
                        note=f"{made:,} API writes; "
                        f"{night['counts']['responsables_sent']:,} responsables sent; "
                        f"minimal raw = read the night's {copied:,} change-log rows + write them",
                    )
                )
    finally:
        supervisor.stop()
    if args.json:
        print(json.dumps([asdict(f) for f in figures], indent=2))
        return
    where = " on PostgreSQL" if args.postgres else ""
    print(f"sync benchmark{where}, {args.pupils:,} pupils ({responsables:,} responsables, "
          f"{links:,} links)")  # fmt: skip
    header = (
        f"{'measure':44} {'records':>10} {'seconds':>9} {'rate/s':>9} "
        f"{'min raw s':>9} {'x min':>6} {'same-rows s':>11} {'x same':>6}"
    )
    print(header)
    print("-" * len(header))
    for f in figures:
        raw = f"{f.baseline_seconds:9.3f}" if f.baseline_seconds is not None else " " * 9
        ratio = f"{f.ratio:6.1f}" if f.ratio is not None else " " * 6
        fair = f"{f.fair_seconds:11.2f}" if f.fair_seconds is not None else " " * 11
        fair_ratio = f"{f.fair_ratio:6.1f}" if f.fair_ratio is not None else " " * 6
        print(
            f"{f.name:44} {f.records:>10,} {f.seconds:>9.2f} {f.rate:>9,} "
            f"{raw} {ratio} {fair} {fair_ratio}".rstrip()
        )
        if f.note:
            print(f"    {f.note}")


if __name__ == "__main__":
    main()
