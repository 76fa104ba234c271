"""``edusim``: start the whole simulator, generate data, reset the databases."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, MetaData
from sqlalchemy.engine import make_url

from edusim import snapshot_cli
from edusim.cli_options import DataDir
from edusim.scenario import cli as scenario_cli
from edusim.services import ServiceError, ServiceSpec, Supervisor
from edusim_common.clock import SimClock
from edusim_common.clock_api import clock_table, load_clock, upgrade_clock_table
from edusim_common.db import SchemaMismatch, check_schema, make_engine
from fake_onde.auth import director_token
from fake_onde.config import OndeSettings
from fake_onde.models import OndeModel

if TYPE_CHECKING:
    from fake_onde.seed import SeedReport

app = typer.Typer(
    help="A runnable simulation of the ONDE → EduConnect synchronisation.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


def _masked(url: str) -> str:
    """A database URL fit to print: its password replaced by ``***``."""
    return make_url(url).render_as_string(hide_password=True)


#: Where `edusim up` listens by default, and where the other commands look for it.
DEFAULT_URLS = ("http://127.0.0.1:8001", "http://127.0.0.1:8002", "http://127.0.0.1:8003")


def _use_data_dir(data_dir: Path) -> set[str]:
    """Point each service at its SQLite file under ``data_dir`` unless its URL is already set;
    the prefixes of the services pointed there (``data_dir`` exists: see ``DataDir``)."""
    defaulted = set()
    for prefix, name in (("ONDE", "onde"), ("EDUCONNECT", "educonnect"), ("SYNC", "sync")):
        if f"{prefix}_DATABASE_URL" not in os.environ:
            os.environ[f"{prefix}_DATABASE_URL"] = f"sqlite:///{data_dir / name}.db"
            defaulted.add(prefix)
    return defaulted


def _educonnect_at_hand(defaulted: set[str]) -> bool:
    """Whether EduConnect's database is this simulator's: configured, or beside ONDE's.

    Not when only ONDE's is configured (a container seeding ONDE alone): the default file would
    be a stray one that no EduConnect reads.
    """
    return "EDUCONNECT" not in defaulted or "ONDE" in defaulted


def _open_onde(settings: OndeSettings) -> tuple[Engine, SimClock]:
    """ONDE's database with its tables (the clock's included) and its saved clock."""
    engine = make_engine(settings.database_url)
    table = clock_table(OndeModel.metadata)
    OndeModel.metadata.create_all(engine)
    upgrade_clock_table(engine, table)
    try:
        check_schema(engine, OndeModel.metadata, "onde")
    except SchemaMismatch as exc:
        engine.dispose()
        console.print(f"[red]{exc}[/red]", soft_wrap=True)  # one line: easy to copy or grep
        raise typer.Exit(1) from exc
    return engine, load_clock(engine, table, settings.clock_start, settings.clock_mode)


def _seed_demo(settings: OndeSettings, defaulted: set[str]) -> tuple[SeedReport, int]:
    """The demo school in ONDE (unless there) and its FranceConnect test identities in
    EduConnect (unless there, or EduConnect's database is elsewhere): what ONDE got, identities
    added."""
    from edusim.demo_franceconnect import seed_demo_franceconnect
    from fake_educonnect.config import EduConnectSettings
    from fake_educonnect.main import EDUCONNECT_LOCK_KEY
    from fake_onde.seed import seed_demo_school

    engine, clock = _open_onde(settings)
    try:
        report = seed_demo_school(engine, clock.now())
        identities = 0
        if _educonnect_at_hand(defaulted):
            url = EduConnectSettings().database_url
            educonnect = make_engine(url, lock_key=EDUCONNECT_LOCK_KEY)
            try:
                identities = seed_demo_franceconnect(engine, educonnect, clock.now())
            finally:
                educonnect.dispose()
    finally:
        engine.dispose()
    return report, identities


def _demo_seeded(report: SeedReport) -> str:
    """What seeding the demo added, saying which schools the counts cover."""
    from fake_onde.seed import COMPANION_UAI, DEMO_UAI

    counts = f"{report.pupils} pupils added and {report.responsables} responsables"
    if report.schools > 1:
        return (
            f"Demo school {DEMO_UAI} and its neighbour maternelle {COMPANION_UAI}: {counts}, "
            f"the {report.schools} schools together."
        )
    return f"Demo school {DEMO_UAI}: {counts}."


def _identities_added(count: int) -> None:
    if count:
        console.print(
            f"Added {count} FranceConnect test identities for the demo parents (after the first "
            "night, pick one on EduConnect's /franceconnect page)."
        )


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    onde_port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the fake ONDE.")] = 8001,
    educonnect_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the fake EduConnect.")
    ] = 8002,
    sync_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the sync service.")
    ] = 8003,
    data_dir: DataDir = Path("data"),
    demo: Annotated[bool, typer.Option(help="Seed the demo school on first start.")] = True,
) -> None:
    """Start every service, seed the demo school on first start, and stop cleanly on Ctrl-C."""
    from fake_onde.seed import DEMO_UAI

    defaulted = _use_data_dir(data_dir)
    os.environ.setdefault("EDUSIM_SNAPSHOT_DIR", str(data_dir / "snapshots"))
    settings = OndeSettings()
    if demo:
        report, identities = _seed_demo(settings, defaulted)
        if report.pupils:
            console.print(_demo_seeded(report))
        _identities_added(identities)
    specs = [
        ServiceSpec("onde", "fake_onde.main:create_app", onde_port),
        ServiceSpec("educonnect", "fake_educonnect.main:create_app", educonnect_port),
        ServiceSpec("sync", "sync_service.main:create_app", sync_port),
    ]
    supervisor = Supervisor(host, specs)
    for spec in specs:  # every page links to the others' pages
        os.environ[f"EDUSIM_{spec.name.upper()}_URL"] = supervisor.url(spec)
    # the sync reaches the fakes where they listen (unless told otherwise)
    os.environ.setdefault("SYNC_ONDE_URL", supervisor.url(specs[0]))
    os.environ.setdefault("SYNC_EDUCONNECT_URL", supervisor.url(specs[1]))
    try:
        supervisor.start()
    except ServiceError as exc:
        supervisor.stop()
        console.print(f"[red]Could not start the simulator:[/red] {exc}")
        raise typer.Exit(1) from exc
    table = Table(title="EduSim is running", show_lines=False)
    table.add_column("service")
    table.add_column("URL")
    table.add_column("API docs")
    for spec in specs:
        base = supervisor.url(spec)
        table.add_row(spec.name, base, base + "/docs")
    console.print(table)
    home = supervisor.url(specs[-1]) + "/"
    console.print(f"Open the simulation in a browser: [bold]{home}[/bold]")
    console.print(f"ONDE service token:        [bold]{settings.service_token}[/bold]")
    if demo:
        token = director_token(settings.secret_key, DEMO_UAI)
        console.print(f"Demo director ({DEMO_UAI}): [bold]{token}[/bold]")
    urls = {f"EDUSIM_{spec.name.upper()}_URL": supervisor.url(spec) for spec in specs}
    if list(urls.values()) != list(DEFAULT_URLS):
        exports = " ".join(f"{name}={url}" for name, url in urls.items())
        console.print(
            "Not on the default ports: in another terminal, first [bold]export "
            f"{exports}[/bold] (edusim snapshot, scenario and reset --demo talk to those)."
        )
    console.print("Press Ctrl-C to stop.")
    code = supervisor.wait()
    console.print("Stopping…")
    supervisor.stop()
    console.print("Stopped.")
    raise typer.Exit(code)


@app.command()
def seed(
    schools: Annotated[int, typer.Option(min=1, max=100_000, help="Schools to add.")] = 10,
    pupils: Annotated[int, typer.Option(min=1, max=20_000_000, help="Pupils to add.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 42,
    demo: Annotated[
        bool, typer.Option("--demo", help="Only seed the demo school (if absent), then stop.")
    ] = False,
    data_dir: DataDir = Path("data"),
) -> None:
    """Generate realistic schools, pupils, responsables and links into the fake ONDE database."""
    from fake_onde.seed import DEMO_UAI, seed_database

    defaulted = _use_data_dir(data_dir)
    settings = OndeSettings()
    if demo:
        report, identities = _seed_demo(settings, defaulted)
        if report.pupils:
            console.print(_demo_seeded(report))
        else:
            console.print(f"Demo school {DEMO_UAI}: already there.")
        _identities_added(identities)
        return
    engine, clock = _open_onde(settings)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("pupils", total=pupils)
        report = seed_database(
            engine,
            schools=schools,
            pupils=pupils,
            seed=seed,
            now=clock.now(),
            progress=lambda n: progress.advance(task, n),
        )
    engine.dispose()
    rows = report.pupils + report.responsables + report.links + report.changes
    console.print(
        f"Added {report.schools} schools, {report.classes} classes, {report.pupils} pupils, "
        f"{report.responsables} responsables, {report.links} links and {report.changes} "
        f"change-log rows in {report.seconds:.1f} s "
        f"({rows / max(report.seconds, 1e-9):,.0f} rows/s)."
    )


def _service_metadata() -> dict[str, MetaData]:
    from fake_educonnect.main import METADATA as EDUCONNECT_METADATA
    from sync_service.main import METADATA as SYNC_METADATA

    return {
        "ONDE": OndeModel.metadata,
        "EDUCONNECT": EDUCONNECT_METADATA,
        "SYNC": SYNC_METADATA,
    }


@app.command()
def reset(
    data_dir: DataDir = Path("data"),
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Back to the demo seed: the demo school, clocks at their start. A simulator "
            "running at --sync is rewound in place.",
        ),
    ] = False,
    sync: snapshot_cli.SyncUrl = snapshot_cli.DEFAULT_SYNC_URL,
    sync_token: snapshot_cli.SyncToken = None,
) -> None:
    """Erase every service's data (and the clock): the next `edusim up` starts afresh."""
    if demo and snapshot_cli.sync_answers(sync):
        if not yes:
            typer.confirm("Rewind the running simulation to the demo seed?", abort=True)
        snapshot_cli.reset_running_to_demo(sync, sync_token)
        return
    defaulted = _use_data_dir(data_dir)
    sync_engine = make_engine(os.environ["SYNC_DATABASE_URL"])
    try:
        running = snapshot_cli.sync_running(sync_engine)
    finally:
        sync_engine.dispose()
    if running:
        console.print(
            "[red]✘ the simulator is running on these databases: stop it first (Ctrl-C where "
            "`edusim up` runs), or rewind it in place with `edusim reset --demo --sync URL`. "
            "Nothing was erased.[/red]"
        )
        raise typer.Exit(1)
    if not yes:
        typer.confirm("Erase all the simulator's data?", abort=True)
    for prefix, metadata in _service_metadata().items():
        url = os.environ[f"{prefix}_DATABASE_URL"]
        engine = make_engine(url)
        clock_table(metadata)  # the clock too: reset means the clock starts afresh
        metadata.drop_all(engine)
        engine.dispose()
        console.print(f"{prefix.lower()}: erased ({_masked(url)})")
    if demo:
        report, identities = _seed_demo(OndeSettings(), defaulted)
        console.print(_demo_seeded(report))
        _identities_added(identities)


@app.command()
def token(
    uai: Annotated[str, typer.Argument(help="The school's UAI, e.g. 0021593W.")],
) -> None:
    """Print the bearer token of a school's director (derived from ONDE_SECRET_KEY)."""
    from fake_onde.identifiers import normalize_uai

    try:
        checked = normalize_uai(uai)
    except ValueError as exc:
        console.print(f"[red]Invalid UAI:[/red] {exc}")
        raise typer.Exit(2) from exc
    print(director_token(OndeSettings().secret_key, checked))


app.add_typer(snapshot_cli.app, name="snapshot")
app.add_typer(scenario_cli.app, name="scenario")

if __name__ == "__main__":
    app()
