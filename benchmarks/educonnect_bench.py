"""Figures for the fake EduConnect: the sync's import over HTTP against raw sqlite3, and logins.

Run: ``.venv/bin/python benchmarks/educonnect_bench.py --responsables 100000 --batch 2000``
(progress on stderr, the table on stdout, ``--json`` for machine-readable output). A script, not a
test: it prints, never fails. The app runs under uvicorn in a subprocess on a free loopback port,
with the default argon2 cost; only the per-client rate limit is lifted (one client sends it all).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from faker import Faker

from edusim.services import free_port
from edusim_common.db import make_engine
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.models import EduConnectModel
from fake_educonnect.security import Passwords

TOKEN = "bench-service-token"
SERVICE = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "Soleil2026"
UAI_KEYS = "ABCDEFGHJKLMNPRSTUVWXYZ"
LEVELS = ("PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2")
#: Tables the import writes, in foreign-key order.
IMPORT_TABLES = ("account", "child", "account_source", "attachment")


@dataclass(frozen=True)
class Figure:
    """One line of the table."""

    name: str
    records: int
    seconds: float
    rate: float
    unit: str
    baseline_rate: float | None = None
    ratio: float | None = None
    note: str = ""


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the table."""
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data


@dataclass
class Dataset:
    """The generated responsables, in batches, and what the login phase needs to know."""

    batches: list[list[dict[str, Any]]]
    responsables: int = 0
    children: int = 0
    without_mobile: int = 0
    homonyms: int = 0
    two_schools: int = 0


def _uai(number: int) -> str:
    return f"{number:07d}{UAI_KEYS[number % 23]}"


def _pools(seed: int) -> tuple[list[str], list[str], list[str]]:
    """Family names and first names drawn once from a seeded Faker ``fr_FR``."""
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    last = sorted({fake.last_name() for _ in range(6000)})
    women = sorted({fake.first_name_female() for _ in range(1500)})
    men = sorted({fake.first_name_male() for _ in range(1500)})
    return last, women, men


def generate(count: int, batch_size: int, seed: int) -> Dataset:
    """``count`` responsables as the sync would send them: families of 1-3 children, 1-2 parents.

    About 5 % have no mobile, about 2 % are homonyms of an earlier parent (same names, another
    mobile: another account), and about 2 % are sent again from a second school (same names and
    mobile: matched to the same account).
    """
    rng = random.Random(seed)
    last, women, men = _pools(seed)
    schools = [_uai(590_000 + i * 7) for i in range(max(2, count // 400))]
    data = Dataset(batches=[])
    items: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    child_no = 0
    while len(items) < count:
        family = rng.choice(last)
        school = rng.choice(schools)
        kids = []
        for _ in range(rng.choices((1, 2, 3), (50, 35, 15))[0]):
            child_no += 1
            level = rng.choice(LEVELS)
            born = date(2023 - LEVELS.index(level), 1, 1) + timedelta(days=rng.randrange(365))
            kids.append(
                {
                    "source_id": str(child_no),
                    "ine": f"{child_no:010d}K",
                    "nom": family,
                    "prenoms": rng.choice(women if rng.random() < 0.5 else men),
                    "birth_date": born.isoformat(),
                    "school_uai": school,
                    "level": level,
                    "class_label": f"{level} {rng.choice('AB')}",
                    "lien": "mere",
                    "autorite_parentale": True,
                    "enrolled": True,
                }
            )
        for lien, civility, firsts in (("mere", "MME", women), ("pere", "M", men)):
            if len(items) >= count or (lien == "pere" and rng.random() < 0.3):
                continue
            person: dict[str, Any]
            if people and rng.random() < 0.02:
                twin = rng.choice(people)
                person = {**twin, "mobile": f"+337{len(items):08d}", "email": None}
                data.homonyms += 1
            else:
                person = {"nom": family, "prenom": rng.choice(firsts), "civility": civility}
                person["mobile"] = None if rng.random() < 0.05 else f"+336{len(items):08d}"
                if rng.random() < 0.3:
                    person["email"] = f"parent{len(items)}@example.org"
            people.append(person)
            data.without_mobile += person["mobile"] is None
            links = [{**k, "lien": lien} for k in kids]
            items.append(
                {
                    "source_id": str(len(items) + 1),
                    "school_uai": school,
                    **person,
                    "children": links,
                }
            )
            if len(items) < count and person["mobile"] and rng.random() < 0.02:
                # The same parent, known again from a pupil of another school.
                child_no += 1
                other = rng.choice(schools)
                elsewhere = {**kids[0], "source_id": str(child_no), "ine": f"{child_no:010d}K",
                             "school_uai": other, "lien": lien}  # fmt: skip
                items.append(
                    {"source_id": str(len(items) + 1), "school_uai": other, **person,
                     "children": [elsewhere]}
                )  # fmt: skip
                data.two_schools += 1
    data.responsables = len(items)
    data.children = child_no
    data.batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    return data


# ---------------------------------------------------------------- the app over HTTP


@contextmanager
def running_educonnect(path: Path) -> Iterator[str]:
    """The real app under uvicorn in a subprocess, default settings but the per-client limit."""
    port = free_port()
    env = {
        **os.environ,
        "EDUCONNECT_DATABASE_URL": f"sqlite:///{path}",
        "EDUCONNECT_SERVICE_TOKEN": TOKEN,
        "EDUCONNECT_REQUESTS_LIMIT_PER_CLIENT": str(10**9),
    }
    command = [sys.executable, "-m", "uvicorn", "fake_educonnect.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the fake EduConnect did not start")
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(30)


def send_batches(
    client: httpx.Client, bodies: list[bytes], label: str
) -> tuple[float, Counter[str], dict[str, str]]:
    """POST every batch; the seconds, the outcomes and each source_id's identifiant."""
    outcomes: Counter[str] = Counter()
    identifiants: dict[str, str] = {}
    started = time.perf_counter()
    last_print = started
    for number, body in enumerate(bodies, 1):
        response = client.post(
            "/api/v1/import/responsables",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        response.raise_for_status()
        for result in orjson.loads(response.content)["results"]:
            outcomes[result["outcome"]] += 1
            if result["identifiant"]:
                identifiants[result["source_id"]] = result["identifiant"]
        if time.perf_counter() - last_print > 5 or number == len(bodies):
            last_print = time.perf_counter()
            log(f"  {label}: batch {number}/{len(bodies)}, {dict(outcomes)}")
    return time.perf_counter() - started, outcomes, identifiants


# ---------------------------------------------------------------- raw sqlite3 baseline


def raw_insert(app_db: Path, raw_db: Path, transactions: int) -> tuple[float, int]:
    """Insert the rows the import wrote into a fresh file with plain sqlite3; the insert time.

    The rows are read back from the app's file (so they are exactly the same, ids included) and
    inserted in as many transactions as there were batches, with the app's pragmas (foreign keys
    on): accounts and children in equal slices, each source and attachment with the slice that
    holds what it points to.
    """
    engine = make_engine(f"sqlite:///{raw_db}")
    EduConnectModel.metadata.create_all(engine)
    engine.dispose()
    source = sqlite3.connect(app_db)
    statements: dict[str, str] = {}
    parts: dict[str, list[list[tuple[Any, ...]]]] = {}
    slice_of: dict[str, dict[int, int]] = {}
    rows = 0
    for table in IMPORT_TABLES:
        cursor = source.execute(f'SELECT * FROM "{table}" ORDER BY id')
        columns = [d[0] for d in cursor.description]
        statements[table] = (
            f'INSERT INTO "{table}" ({", ".join(columns)}) '
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        values = cursor.fetchall()
        rows += len(values)
        parts[table] = [[] for _ in range(transactions)]
        size = max(1, -(-len(values) // transactions))
        for number, row in enumerate(values):
            record = dict(zip(columns, row, strict=True))
            if table in ("account", "child"):
                part = number // size
                slice_of.setdefault(table, {})[record["id"]] = part
            else:
                part = slice_of["account"][record["account_id"]]
                if table == "attachment":
                    part = max(part, slice_of["child"][record["child_id"]])
            parts[table][part].append(row)
    source.close()
    conn = sqlite3.connect(raw_db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    started = time.perf_counter()
    for part in range(transactions):
        conn.execute("BEGIN IMMEDIATE")
        for table in IMPORT_TABLES:
            conn.executemany(statements[table], parts[table][part])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, rows


# ---------------------------------------------------------------- logins


def activate_directly(app_db: Path, identifiants: list[str], passwords: Passwords) -> None:
    """Make these accounts active with one password, hashed once by the app's hasher."""
    password_hash = passwords.hash(PASSWORD)
    conn = sqlite3.connect(app_db, timeout=60)
    with conn:
        conn.executemany(
            "UPDATE account SET state = 'active', origin = 'Responsable', password_hash = ?, "
            "activated_at = created_at WHERE identifiant = ?",
            [(password_hash, identifiant) for identifiant in identifiants],
        )
    conn.close()


def _child_key(identifiant: str, child: dict[str, Any]) -> str:
    """How the login phase finds a proposed child's birth date."""
    return f"{identifiant}|{child['prenoms']}|{child['school_uai']}|{child['level']}"


def login_sequence(client: httpx.Client, identifiant: str, birth_dates: dict[str, str]) -> int:
    """Log in, read the proposals, confirm each with its birth date; the requests sent."""
    opened = client.post("/api/v1/login", json={"identifiant": identifiant, "password": PASSWORD})
    opened.raise_for_status()
    headers = {"Authorization": f"Bearer {opened.json()['session_token']}"}
    proposals = client.get("/api/v1/me/proposals", headers=headers)
    proposals.raise_for_status()
    sent = 2
    for proposal in proposals.json():
        attachment = proposal["attachment_id"]
        decided = client.post(
            f"/api/v1/me/proposals/{attachment}/confirm",
            json={"birth_date": birth_dates[_child_key(identifiant, proposal)]},
            headers=headers,
        )
        decided.raise_for_status()
        sent += 1
    return sent


def bench_logins(
    base: str, identifiants: list[str], birth_dates: dict[str, str], workers: int
) -> tuple[float, int]:
    """Run one sequence per account with ``workers`` concurrent clients; seconds and requests."""
    chunks = [identifiants[i::workers] for i in range(workers)]

    def run(chunk: list[str]) -> int:
        with httpx.Client(base_url=base, timeout=120) as client:
            return sum(login_sequence(client, identifiant, birth_dates) for identifiant in chunk)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        requests = sum(pool.map(run, chunks))
    return time.perf_counter() - started, requests


# ---------------------------------------------------------------- the whole run


def run(args: argparse.Namespace, workdir: Path) -> tuple[list[Figure], dict[str, Any]]:
    """Every measure, in one run."""
    log(f"generating {args.responsables:,} responsables (seed {args.seed})")
    data = generate(args.responsables, args.batch, args.seed)
    bodies = [orjson.dumps({"items": batch}) for batch in data.batches]
    info: dict[str, Any] = {
        "responsables": data.responsables,
        "children": data.children,
        "without_mobile": data.without_mobile,
        "homonyms": data.homonyms,
        "same_parent_two_schools": data.two_schools,
        "batches": len(bodies),
        "batch_size": args.batch,
        "payload_mib": round(sum(len(b) for b in bodies) / 2**20, 1),
    }
    log(f"  {info}")
    app_db = workdir / "educonnect.db"
    defaults = EduConnectSettings.model_fields
    argon2_time = int(defaults["argon2_time_cost"].default)
    argon2_memory = int(defaults["argon2_memory_kib"].default)
    info["argon2"] = {"time_cost": argon2_time, "memory_kib": argon2_memory, "parallelism": 1}
    figures: list[Figure] = []
    with running_educonnect(app_db) as base:
        with httpx.Client(base_url=base, headers=SERVICE, timeout=600) as client:
            log(f"import over HTTP ({base}) into a fresh {app_db}")
            seconds, outcomes, identifiants = send_batches(client, bodies, "import")
            accounts = outcomes["created"]
            info["first_import"] = dict(outcomes)
            log("re-import of the same batches (idempotent)")
            again, outcomes_again, _ = send_batches(client, bodies, "re-import")
            info["re_import"] = dict(outcomes_again)
        log("raw sqlite3: the same rows, plain executemany")
        raw_seconds, raw_rows = raw_insert(app_db, workdir / "raw.db", len(bodies))
        info["raw_rows"] = raw_rows
        ratio = seconds / raw_seconds
        figures += [
            Figure("import: accounts created", accounts, seconds, accounts / seconds,
                   "accounts/s", accounts / raw_seconds, ratio,
                   f"{outcomes['matched']:,} responsables matched to an existing account"),
            Figure("import: responsables", data.responsables, seconds,
                   data.responsables / seconds, "resp./s", data.responsables / raw_seconds,
                   ratio, f"raw: {raw_rows:,} rows (accounts, sources, children, attachments)"),
            Figure("re-import (all unchanged)", data.responsables, again,
                   data.responsables / again, "resp./s",
                   note=f"outcomes: {dict(outcomes_again)}"),
        ]  # fmt: skip

        # Each login presents its proposals once: one fresh account per sequence.
        children_of: dict[str, str] = {}
        for batch in data.batches:
            for item in batch:
                identifiant = identifiants.get(item["source_id"])
                if identifiant and item["mobile"]:
                    for kid in item["children"]:
                        children_of[_child_key(identifiant, kid)] = kid["birth_date"]
        chosen = sorted({key.split("|")[0] for key in children_of})
        random.Random(args.seed).shuffle(chosen)
        chosen = chosen[: args.logins]
        log(f"activating {len(chosen):,} accounts in the database (argon2 {info['argon2']})")
        activate_directly(app_db, chosen, Passwords(argon2_time, argon2_memory))
        split = len(chosen) // 2
        for workers, accounts_used in ((1, chosen[:split]), (args.clients, chosen[split:])):
            log(
                f"{len(accounts_used):,} login → proposals → confirm sequences, {workers} client(s)"
            )
            seconds, requests = bench_logins(base, accounts_used, children_of, workers)
            figures.append(
                Figure(f"login+attach, {workers} client(s)", requests, seconds,
                       requests / seconds, "req./s",
                       note=f"{len(accounts_used):,} sequences, "
                       f"{len(accounts_used) / seconds:,.1f} sequences/s")
            )  # fmt: skip
    return figures, info


def render(figures: list[Figure], info: dict[str, Any]) -> str:
    """A plain-text table."""
    header = (
        f"{'measure':<34} {'records':>9} {'seconds':>8} {'rate':>9} {'unit':<11} "
        f"{'raw rate':>9} {'x raw':>6}"
    )
    lines = [header, "-" * len(header)]
    for f in figures:
        raw = f"{f.baseline_rate:>9,.0f}" if f.baseline_rate else f"{'':>9}"
        ratio = f"{f.ratio:>6.1f}" if f.ratio else f"{'':>6}"
        lines.append(
            f"{f.name:<34} {f.records:>9,} {f.seconds:>8.1f} {f.rate:>9,.0f} {f.unit:<11} "
            f"{raw} {ratio}"
        )
        if f.note:
            lines.append(f"{'':<4}{f.note}")
    lines.append("x raw = app time / raw sqlite3 executemany time for the same rows")
    argon2 = info["argon2"]
    lines.append(
        f"argon2id (app defaults): time_cost={argon2['time_cost']}, "
        f"memory={argon2['memory_kib']} KiB, parallelism=1"
    )
    lines.append(
        f"data: {info['responsables']:,} responsables, {info['children']:,} children, "
        f"{info['without_mobile']:,} without mobile, {info['homonyms']:,} homonyms, "
        f"{info['same_parent_two_schools']:,} same parent in two schools; "
        f"{info['batches']} batches of {info['batch_size']}, {info['payload_mib']} MiB of JSON"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run every measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--responsables", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000, help="responsables per request")
    parser.add_argument(
        "--logins", type=int, default=400, help="login sequences (one account each)"
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients, 2nd login run")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    # A kill (SIGTERM) unwinds like Ctrl-C, so the services this script started are stopped too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="educonnect-bench-") as temp:
        workdir: Path = args.workdir or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        for stale in workdir.glob("*.db*"):
            stale.unlink()
        figures, info = run(args, workdir)
    if args.json:
        print(json.dumps({"figures": [asdict(f) for f in figures], "info": info}, indent=2))
    else:
        print(render(figures, info))


if __name__ == "__main__":
    main()
