"""``edusim scenario run|check|list``: replay training scenarios against the running simulator.

Exit codes of ``run``: 0 every step as expected, 1 a step or a check failed, 2 an invalid
scenario file, 3 a service does not answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edusim.scenario.api import Endpoints, Unreachable
from edusim.scenario.loader import ScenarioFileError, load
from edusim.scenario.model import Scenario
from edusim.scenario.runner import Runner
from edusim_common.web.plural import plural_word
from fake_educonnect.config import DEV_SERVICE_TOKEN as EDUCONNECT_DEV_TOKEN
from fake_onde.config import DEV_SERVICE_TOKEN as ONDE_DEV_TOKEN
from sync_service.config import DEV_SERVICE_TOKEN as SYNC_DEV_TOKEN

app = typer.Typer(
    help="Training scenarios: days, actions and expectations, replayed against the simulator.",
    no_args_is_help=True,
)
Files = Annotated[
    list[Path], typer.Argument(help="Scenario files (YAML).", exists=True, dir_okay=False)
]


def _console() -> Console:
    return Console(soft_wrap=True, highlight=False)


def _read(files: list[Path], console: Console) -> list[tuple[Path, Scenario]] | None:
    loaded, broken = [], False
    for path in files:
        try:
            loaded.append((path, load(path)))
        except ScenarioFileError as exc:
            broken = True
            console.print(f"[bold red]✘ {escape(str(path))}: scénario invalide[/bold red]")
            for problem in exc.problems:
                console.print(f"   - {escape(str(problem))}")
    return None if broken else loaded


@app.command()
def run(
    files: Files,
    onde: Annotated[
        str, typer.Option(envvar="EDUSIM_ONDE_URL", help="The fake ONDE.")
    ] = "http://127.0.0.1:8001",
    educonnect: Annotated[
        str, typer.Option(envvar="EDUSIM_EDUCONNECT_URL", help="The fake EduConnect.")
    ] = "http://127.0.0.1:8002",
    sync: Annotated[
        str, typer.Option(envvar="EDUSIM_SYNC_URL", help="The sync service.")
    ] = "http://127.0.0.1:8003",
    onde_token: Annotated[
        str, typer.Option(envvar="ONDE_SERVICE_TOKEN", help="ONDE's service token.")
    ] = ONDE_DEV_TOKEN,
    educonnect_token: Annotated[
        str, typer.Option(envvar="EDUCONNECT_SERVICE_TOKEN", help="EduConnect's service token.")
    ] = EDUCONNECT_DEV_TOKEN,
    sync_token: Annotated[
        str, typer.Option(envvar="SYNC_SERVICE_TOKEN", help="The sync's service token.")
    ] = SYNC_DEV_TOKEN,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Go on after a failed check.")
    ] = False,
) -> None:
    """Replay scenarios step by step against the running services (edusim up)."""
    console = _console()
    scenarios = _read(files, console)
    if scenarios is None:
        raise typer.Exit(2)
    endpoints = Endpoints(onde, educonnect, sync, onde_token, educonnect_token, sync_token)
    failed = []
    for path, scenario in scenarios:
        console.rule(escape(str(path)))
        try:
            report = Runner(endpoints, console, keep_going).run(scenario)
        except Unreachable as exc:
            console.print(f"[bold red]✘ {escape(str(exc))}[/bold red]")
            raise typer.Exit(3) from exc
        if not report.ok:
            failed.append(path)
    if len(scenarios) > 1:
        console.rule()
        passed = len(scenarios) - len(failed)
        words = plural_word(passed, "scénario réussi", "scénarios réussis")
        console.print(f"{passed}/{len(scenarios)} {words}")
    if failed:
        raise typer.Exit(1)


@app.command()
def check(files: Files) -> None:
    """Validate scenario files without running them."""
    console = _console()
    scenarios = _read(files, console)
    if scenarios is None:
        raise typer.Exit(2)
    for path, scenario in scenarios:
        console.print(
            f"[green]✔ {escape(str(path))}[/green]: {escape(scenario.title)} "
            f"({len(scenario.steps)} étapes)"
        )


@app.command("list")
def list_scenarios(
    directory: Annotated[
        Path, typer.Argument(help="Where the scenarios are.", exists=True, file_okay=False)
    ] = Path("scenarios"),
) -> None:
    """The scenarios of a directory, with their FAQ question and title."""
    console = _console()
    table = Table(title=f"Scénarios de {directory}")
    for column in ("fichier", "FAQ", "titre", "étapes"):
        table.add_column(column)
    for path in sorted(directory.glob("*.y*ml")):
        try:
            scenario = load(path)
        except ScenarioFileError as exc:
            table.add_row(path.name, "", f"[red]invalide: {escape(str(exc.problems[0]))}[/red]", "")
            continue
        table.add_row(
            path.name, str(scenario.faq or ""), escape(scenario.title), str(len(scenario.steps))
        )
    console.print(table)
