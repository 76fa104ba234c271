"""``edusim snapshot save|list|restore|delete`` and ``edusim reset --demo``.

With the simulator running (the sync service answers at ``--sync``), everything goes through the
sync's snapshot API: it holds the run lock and pushes the restored clock to the running services.
Otherwise the databases (``--data-dir``, or the ``*_DATABASE_URL`` variables) are read and
written directly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, MetaData

from edusim.cli_options import DataDir
from edusim.snapshot import save
from edusim.snapshot_format import DEMO_SNAPSHOT, SERVICES, SnapshotError, SnapshotInfo
from edusim.snapshot_store import (
    SnapshotStore,
    default_directory,
    restore_from_store,
    save_to_store,
)
from edusim_common.app import ServiceSettings
from edusim_common.clock import PARIS, as_utc
from edusim_common.db import make_engine
from sync_service.locks import LEADER_LOCK_KEY, DeploymentLock

console = Console()
app = typer.Typer(
    help="Save the whole simulation (three databases and the clock) and rewind to it.",
    no_args_is_help=True,
)
DEFAULT_SYNC_URL = "http://127.0.0.1:8003"
FILES = {"onde": "onde.db", "educonnect": "educonnect.db", "sync": "sync.db"}

SyncUrl = Annotated[
    str,
    typer.Option(
        "--sync",
        envvar="EDUSIM_SYNC_URL",
        help="The sync service: when it answers, the snapshot goes through its API.",
    ),
]
SyncToken = Annotated[
    str | None,
    typer.Option(
        "--sync-token",
        envvar="SYNC_SERVICE_TOKEN",
        help="The sync's service token.",
        show_default=False,
    ),
]
Offline = Annotated[
    bool,
    typer.Option("--offline", help="Work on the databases directly, even if the sync answers."),
]
Name = Annotated[str, typer.Argument(help="The snapshot's name, e.g. debut-demo.")]


def database_urls(data_dir: Path) -> dict[str, str]:
    """Each service's database: its ``*_DATABASE_URL``, else its SQLite file under ``data_dir``."""
    return {
        svc: os.environ.get(f"{svc.upper()}_DATABASE_URL") or f"sqlite:///{data_dir / filename}"
        for svc, filename in FILES.items()
    }


def _token(given: str | None) -> str:
    if given:
        return given
    from sync_service.config import SyncSettings

    return SyncSettings().service_token


def sync_answers(url: str) -> bool:
    """Whether a sync service answers its health check at ``url``."""
    try:
        response = httpx.get(url.rstrip("/") + "/health", timeout=2)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json().get("service") == "sync"


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]✘ {message}[/red]")
    return typer.Exit(code)


@contextmanager
def _api(url: str, token: str | None) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {_token(token)}"}
    with httpx.Client(base_url=url.rstrip("/") + "/api/v1", headers=headers, timeout=600) as c:
        yield c


def _fields(response: httpx.Response) -> list[str]:
    """The fields a problem answer names."""
    try:
        return [error["field"] for error in response.json().get("errors", [])]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def _checked(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise _fail(f"the sync service answered {response.status_code}: {detail}")
    return response.json() if response.content else None


def sync_running(engine: Engine) -> bool:
    """Whether a sync service runs on this database (its scheduler's lock is held)."""
    leader = DeploymentLock(engine, LEADER_LOCK_KEY, "scheduler")
    running = not leader.acquire(blocking=False)
    leader.release()
    return running


def _guard_offline(urls: dict[str, str]) -> None:
    """Refuse to touch the databases under a running sync service that did not answer."""
    engine = make_engine(urls["sync"])
    try:
        running = sync_running(engine)
    finally:
        engine.dispose()
    if running:
        raise _fail(
            "a sync service is running on these databases but does not answer at --sync: give "
            "its URL (--sync http://HOST:PORT, or EDUSIM_SYNC_URL) so that the command goes "
            "through it"
        )


def paris_time(value: datetime) -> str:
    """A simulated time as the pages show it: ``2026-09-01 08:00 (Paris)``, not in UTC."""
    return f"{as_utc(value).astimezone(PARIS):%Y-%m-%d %H:%M} (Paris)"


def _describe(info: dict[str, Any] | SnapshotInfo) -> tuple[str, str, str, str, str]:
    if isinstance(info, SnapshotInfo):
        name, saved = info.name, info.saved_at
        simulated, size, rows = info.simulated_now, info.size, info.rows()
    else:
        name, saved = info["name"], datetime.fromisoformat(info["saved_at"])
        simulated = datetime.fromisoformat(info["simulated_now"]) if info["simulated_now"] else None
        size, rows = info["size"], info["rows"]
    return (
        name,
        saved.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
        paris_time(simulated) if simulated else "?",
        f"{(size or 0) / 1024:,.1f} KiB",
        ", ".join(f"{svc} {rows.get(svc, 0)}" for svc in SERVICES),
    )


@app.command("save")
def save_command(
    name: Name,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a snapshot.")] = False,
    data_dir: DataDir = Path("data"),
    sync: SyncUrl = DEFAULT_SYNC_URL,
    sync_token: SyncToken = None,
    offline: Offline = False,
) -> None:
    """Save the three databases and the clock under NAME (refused while a sync run is going)."""
    if not offline and sync_answers(sync):
        with _api(sync, sync_token) as api:
            answer = api.post("/snapshots", json={"name": name, "overwrite": overwrite})
        if answer.status_code == 409 and _fields(answer) == ["body.name"]:  # the name is taken
            raise _fail(f"snapshot {name} exists: add --overwrite to replace it")
        row = _describe(_checked(answer))
        console.print(f"[green]✔ Snapshot {row[0]} saved[/green] by the sync service at {sync}")
        console.print(f"  simulated time {row[2]}; rows: {row[4]}; {row[3]}")
        return
    urls = database_urls(data_dir)
    _guard_offline(urls)
    store = SnapshotStore(default_directory(urls["sync"], data_dir))
    try:
        info = save_to_store(store, name, urls, overwrite)
    except FileExistsError as exc:
        raise _fail(f"snapshot {name} exists: add --overwrite to replace it") from exc
    except SnapshotError as exc:
        raise _fail(str(exc)) from exc
    row = _describe(info)
    console.print(f"[green]✔ Snapshot {row[0]} saved[/green] in {store.path(name)}")
    console.print(f"  simulated time {row[2]}; rows: {row[4]}; {row[3]}")


@app.command("list")
def list_command(
    data_dir: DataDir = Path("data"),
    sync: SyncUrl = DEFAULT_SYNC_URL,
    sync_token: SyncToken = None,
    offline: Offline = False,
) -> None:
    """The saved snapshots, oldest first."""
    rows: list[tuple[str, str, str, str, str]]
    if not offline and sync_answers(sync):
        with _api(sync, sync_token) as api:
            rows = [_describe(item) for item in _checked(api.get("/snapshots"))]
    else:
        store = SnapshotStore(default_directory(database_urls(data_dir)["sync"], data_dir))
        rows = [_describe(info) for info in store.list()]
    if not rows:
        console.print("No snapshot yet: [bold]edusim snapshot save NAME[/bold] makes one.")
        return
    table = Table(title="Snapshots")
    table.add_column("name", no_wrap=True)
    for column in ("saved at", "simulated time", "size", "rows"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("restore")
def restore_command(
    name: Name,
    data_dir: DataDir = Path("data"),
    sync: SyncUrl = DEFAULT_SYNC_URL,
    sync_token: SyncToken = None,
    offline: Offline = False,
) -> None:
    """Rewind the whole simulation to snapshot NAME (its databases and its clock)."""
    if not offline and sync_answers(sync):
        with _api(sync, sync_token) as api:
            body = _checked(api.post(f"/snapshots/{name}/restore"))
        console.print(
            f"[green]✔ Simulation rewound to {name}[/green]: the clock reads "
            f"{paris_time(datetime.fromisoformat(body['clock']['now']))} "
            f"({body['clock']['mode']})"
        )
        return
    urls = database_urls(data_dir)
    _guard_offline(urls)
    store = SnapshotStore(default_directory(urls["sync"], data_dir))
    try:
        info = restore_from_store(store, name, urls, create=service_metadata())
    except FileNotFoundError as exc:
        raise _fail(f"no snapshot {name} in {store.directory}") from exc
    except SnapshotError as exc:
        raise _fail(f"snapshot {name} not restored: {exc}") from exc
    console.print(
        f"[green]✔ Databases rewound to {name}[/green] (simulated time "
        f"{_describe(info)[2]}); the services read it when they start."
    )


@app.command("delete")
def delete_command(
    name: Name,
    data_dir: DataDir = Path("data"),
    sync: SyncUrl = DEFAULT_SYNC_URL,
    sync_token: SyncToken = None,
    offline: Offline = False,
) -> None:
    """Delete snapshot NAME."""
    if not offline and sync_answers(sync):
        with _api(sync, sync_token) as api:
            _checked(api.delete(f"/snapshots/{name}"))
    else:
        try:
            SnapshotStore(default_directory(database_urls(data_dir)["sync"], data_dir)).delete(name)
        except FileNotFoundError as exc:
            raise _fail(f"no snapshot {name}") from exc
        except SnapshotError as exc:
            raise _fail(str(exc)) from exc
    console.print(f"Snapshot {name} deleted.")


# -- the demo seed -------------------------------------------------------------------------------


def service_metadata() -> dict[str, MetaData]:
    """Each service's tables, the clock's included."""
    from edusim_common.clock_api import clock_table
    from fake_educonnect.main import METADATA as EDUCONNECT_METADATA
    from fake_onde.models import OndeModel
    from sync_service.main import METADATA as SYNC_METADATA

    found = {"onde": OndeModel.metadata, "educonnect": EDUCONNECT_METADATA, "sync": SYNC_METADATA}
    for metadata in found.values():
        clock_table(metadata)
    return found


def build_demo_snapshot(out_path: Path) -> SnapshotInfo:
    """The state of a first ``edusim up``: the demo school in ONDE, its FranceConnect test
    identities in EduConnect, clocks at their start (as ``up``, ``seed --demo`` and an offline
    ``reset --demo`` leave them)."""
    from edusim.demo_franceconnect import seed_demo_franceconnect
    from edusim_common.clock_api import clock_table, load_clock
    from fake_educonnect.config import EduConnectSettings
    from fake_onde.config import OndeSettings
    from fake_onde.seed import seed_demo_school
    from sync_service.config import SyncSettings

    settings: dict[str, ServiceSettings] = {
        "onde": OndeSettings(),
        "educonnect": EduConnectSettings(),
        "sync": SyncSettings(),
    }
    with tempfile.TemporaryDirectory(prefix="edusim-demo-") as workdir:
        engines = {svc: make_engine(f"sqlite:///{Path(workdir) / f}") for svc, f in FILES.items()}
        try:
            clocks = {}
            for svc, metadata in service_metadata().items():
                metadata.create_all(engines[svc])
                clocks[svc] = load_clock(
                    engines[svc],
                    clock_table(metadata),
                    settings[svc].clock_start,
                    settings[svc].clock_mode,
                )
            seed_demo_school(engines["onde"], clocks["onde"].now())
            seed_demo_franceconnect(engines["onde"], engines["educonnect"], clocks["onde"].now())
            with out_path.open("wb") as out:
                return save(engines, out, DEMO_SNAPSHOT, datetime.now(UTC))
        finally:
            for engine in engines.values():
                engine.dispose()


def reset_running_to_demo(sync: str, sync_token: str | None) -> None:
    """Rewind a running simulator to the demo seed (kept as snapshot ``demo-seed``)."""
    with tempfile.TemporaryDirectory(prefix="edusim-demo-") as workdir:
        path = Path(workdir) / "demo.snapshot.jsonl.gz"
        build_demo_snapshot(path)
        with _api(sync, sync_token) as api:
            _checked(api.put(f"/snapshots/{DEMO_SNAPSHOT}", content=path.read_bytes()))
            body = _checked(api.post(f"/snapshots/{DEMO_SNAPSHOT}/restore"))
    console.print(
        f"[green]✔ The running simulation is back to the demo seed[/green] (clock "
        f"{paris_time(datetime.fromisoformat(body['clock']['now']))}); it is kept as snapshot "
        f"{DEMO_SNAPSHOT}."
    )
