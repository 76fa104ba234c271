"""Figures for the sync: the full first sync and a daily delta, each against raw sqlite3.

Run: ``.venv/bin/python benchmarks/sync_bench.py --pupils 100000 --changes-percent 1``
(progress on stderr, the table on stdout, ``--json`` for machine-readable output). The three
services run under uvicorn on free loopback ports, on SQLite files in a temporary folder.

- full first sync: the records read from ONDE's export (pupils, responsables, links) per second,
  through the whole pipeline (export → mirror → EduConnect import);
- raw baseline: the same rows read from ONDE's file and written into another with plain sqlite3;
- daily delta: ``--changes-percent`` of the pupils changed through ONDE's API (half contact
  changes, half strike-offs), then « next day »: the nightly run's duration; and the same with a
  fixed ``--fixed-changes`` count, to show that the delta's time follows the changes, not the size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from edusim.services import ServiceSpec, Supervisor
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
    note: str = ""


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raw_copy(onde_db: Path, target: Path) -> tuple[int, float]:
    """Read pupils, responsables and links from ONDE's file and write them into another."""
    started = time.perf_counter()
    source = sqlite3.connect(onde_db)
    sink = sqlite3.connect(target)
    sink.execute("PRAGMA journal_mode=WAL")
    sink.execute("PRAGMA synchronous=NORMAL")
    total = 0
    for table in ("pupil", "responsable", "pupil_responsable"):
        columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
        sink.execute(f"CREATE TABLE {table} ({', '.join(columns)}, PRIMARY KEY (id))")
        placeholders = ", ".join("?" for _ in columns)
        cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")
        while rows := cursor.fetchmany(20000):
            sink.executemany(f"INSERT INTO {table} VALUES ({placeholders})", rows)
            total += len(rows)
        sink.commit()
    source.close()
    sink.close()
    return total, time.perf_counter() - started


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
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sync-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    onde_db = workdir / "onde.db"
    figures: list[Figure] = []

    log(f"seeding {args.pupils:,} pupils into {onde_db} …")
    engine = make_engine(f"sqlite:///{onde_db}")
    OndeModel.metadata.create_all(engine)
    report = seed_database(
        engine, schools=max(1, args.pupils // 400), pupils=args.pupils, seed=args.seed, now=NOW
    )
    engine.dispose()
    log(f"seeded in {report.seconds:.1f} s")

    ports = {name: free_port() for name in ("onde", "educonnect", "sync")}
    os.environ.update(
        {
            "ONDE_DATABASE_URL": f"sqlite:///{onde_db}",
            "ONDE_SERVICE_TOKEN": ONDE_TOKEN,
            "EDUCONNECT_DATABASE_URL": f"sqlite:///{workdir / 'educonnect.db'}",
            "EDUCONNECT_SERVICE_TOKEN": EC_TOKEN,
            "SYNC_DATABASE_URL": f"sqlite:///{workdir / 'sync.db'}",
            "SYNC_SERVICE_TOKEN": SYNC_TOKEN,
            "SYNC_ONDE_URL": f"http://127.0.0.1:{ports['onde']}",
            "SYNC_ONDE_TOKEN": ONDE_TOKEN,
            "SYNC_EDUCONNECT_URL": f"http://127.0.0.1:{ports['educonnect']}",
            "SYNC_EDUCONNECT_TOKEN": EC_TOKEN,
            "SYNC_SCHEDULER_ENABLED": "false",
            "SYNC_HTTP_TIMEOUT_SECONDS": "600",
            "SYNC_DEACTIVATION_MAX_COUNT": str(10**9),
            "SYNC_DEACTIVATION_MAX_PERCENT": "100",
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
            started = time.perf_counter()
            run = client.post(f"{sync}/api/v1/runs", json={"full": True}, headers=admin).json()
            seconds = time.perf_counter() - started
            records = run["counts"]["changes_read"]
            log(f"full sync: {run['status']} in {seconds:.1f} s, counts {run['counts']}")
            raw_records, raw_seconds = raw_copy(onde_db, workdir / "raw-copy.db")
            figures.append(
                Figure(
                    "full first sync (export → EduConnect)",
                    records,
                    round(seconds, 2),
                    round(records / seconds),
                    round(raw_seconds, 2),
                    round(seconds / raw_seconds, 1),
                    f"{run['counts']['responsables_sent']:,} responsables sent; "
                    f"raw = read {raw_records:,} rows + write them, sqlite3",
                )
            )
            rng = random.Random(args.seed)
            onde = f"http://127.0.0.1:{ports['onde']}"
            for label, count in (
                (f"daily delta ({args.changes_percent:g} % of pupils)",
                 int(args.pupils * args.changes_percent / 100)),
                (f"daily delta ({args.fixed_changes:,} changes)", args.fixed_changes),
            ):  # fmt: skip
                log(f"{label}: making {count:,} changes through ONDE's API …")
                made = make_changes(client, onde, count, report.pupils, report.responsables, rng)
                moved = client.post(f"{sync}/api/v1/clock/next-day", headers=admin).json()
                night = moved["runs"][-1]
                log(f"{label}: {night['status']} in {night['wall_seconds']} s, {night['counts']}")
                figures.append(
                    Figure(
                        label,
                        night["counts"]["changes_read"],
                        night["wall_seconds"],
                        round(night["counts"]["changes_read"] / max(night["wall_seconds"], 1e-6)),
                        note=f"{made:,} API writes; "
                        f"{night['counts']['responsables_sent']:,} responsables sent",
                    )
                )
    finally:
        supervisor.stop()
    if args.json:
        print(json.dumps([asdict(f) for f in figures], indent=2))
        return
    print(f"sync benchmark, {args.pupils:,} pupils ({report.responsables:,} responsables, "
          f"{report.links:,} links)")  # fmt: skip
    header = (
        f"{'measure':44} {'records':>10} {'seconds':>9} {'rate/s':>9} {'raw s':>8} {'x raw':>6}"
    )
    print(header)
    print("-" * len(header))
    for f in figures:
        raw = f"{f.baseline_seconds:8.2f}" if f.baseline_seconds is not None else " " * 8
        ratio = f"{f.ratio:6.1f}" if f.ratio is not None else " " * 6
        print(f"{f.name:44} {f.records:>10,} {f.seconds:>9.2f} {f.rate:>9,} {raw} {ratio}")
        if f.note:
            print(f"    {f.note}")


if __name__ == "__main__":
    main()
