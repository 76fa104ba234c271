"""Replay a scenario against the running services, saying step by step what it did and checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape

from edusim.scenario.actions import ACTIONS
from edusim.scenario.api import Api, CallFailed, Endpoints
from edusim.scenario.context import Context, School, StepFailed
from edusim.scenario.expectations import BEFORE, CHECKS, Verdict
from edusim.scenario.model import Scenario, Step
from edusim.scenario.render import clock_text, run_text
from edusim_common.web.plural import plural_fr


@dataclass
class StepReport:
    """What one step did."""

    index: int
    name: str
    failures: list[str] = field(default_factory=list)
    checks: int = 0

    @property
    def ok(self) -> bool:
        """No failure."""
        return not self.failures


@dataclass
class Report:
    """What the scenario did."""

    title: str
    steps: list[StepReport] = field(default_factory=list)
    skipped: int = 0

    @property
    def ok(self) -> bool:
        """Every step played, every check as expected."""
        return self.skipped == 0 and all(step.ok for step in self.steps)

    @property
    def failed(self) -> list[StepReport]:
        """The steps that failed."""
        return [step for step in self.steps if not step.ok]


class Runner:
    """Plays one scenario."""

    def __init__(self, endpoints: Endpoints, console: Console, keep_going: bool = False) -> None:
        self.endpoints = endpoints
        self.console = console
        self.keep_going = keep_going

    def say(self, mark: str, text: str, style: str = "") -> None:
        """One line of the step's account."""
        body = escape(text).replace("\n", "\n     ")
        self.console.print(f"   {mark} [{style}]{body}[/{style}]" if style else f"   {mark} {body}")

    def run(self, scenario: Scenario) -> Report:
        """Play every step (stopping at the first failure unless ``keep_going``)."""
        api = Api(self.endpoints)
        report = Report(scenario.title)
        try:
            api.check()
            try:
                ctx = self._setup(api, scenario)
            except CallFailed as exc:
                self.console.print(
                    f"[bold red]✘ Mise en place impossible: {escape(str(exc))}[/bold red]"
                )
                report.skipped = len(scenario.steps)
                return report
            for index, step in enumerate(scenario.steps, 1):
                done = self._step(ctx, index, step)
                report.steps.append(done)
                if not done.ok and not self.keep_going:
                    report.skipped = len(scenario.steps) - index
                    break
            self._summary(report)
            return report
        finally:
            api.close()

    def _setup(self, api: Api, scenario: Scenario) -> Context:
        spec = scenario.school
        self.console.print(f"[bold]{escape(scenario.title)}[/bold]")
        self.console.print(f"[dim]{escape(scenario.description.strip())}[/dim]")
        try:
            school = api.onde("GET", f"/schools/{spec.uai}/director-token")
            created = False
        except CallFailed as exc:
            if exc.status != 404:
                raise
            school = api.onde("POST", "/schools", json=spec.model_dump())
            created = True
        console_token = api.ec("GET", f"/schools/{spec.uai}/director-token")["director_token"]
        ctx = Context(
            api=api,
            school=School(spec.uai, school["name"], school["director_token"], console_token),
        )
        messages = api.outbox()
        ctx.outbox_mark = max((msg["id"] for msg in messages), default=0)
        clock = api.sync("GET", "/clock")
        state = "créée" if created else "déjà présente"
        self.console.print(
            f"École {spec.uai} « {escape(school['name'])} » ({state}); horloge: "
            f"{clock_text(clock['now'])}"
        )
        if scenario.sync_pending:
            run: dict[str, Any] = api.sync("POST", "/runs", json={})
            self.console.print(
                f"[dim]Mise en place — changements en attente appliqués: {escape(run_text(run))}"
                "[/dim]"
            )
        return ctx

    def _step(self, ctx: Context, index: int, step: Step) -> StepReport:
        report = StepReport(index, step.name)
        action = step.action
        self.console.print(f"\n[bold cyan]{index}. {escape(step.name)}[/bold cyan]")
        if step.note:
            self.say("ℹ", step.note.strip(), "dim")
        ctx.step_runs = []
        ctx.result = {}
        before: dict[int, Verdict] = {}
        for position, expectation in enumerate(step.expect):
            if expectation.kind in BEFORE:
                before[position] = self._check(ctx, BEFORE[expectation.kind], expectation.body)
        if action is not None:
            error = None
            try:
                for line in ACTIONS[action](ctx, ctx.resolve(getattr(step, action))):
                    self.say("→", line)
            except (StepFailed, CallFailed) as exc:
                error = str(exc)
            failure = self._judge_action(step, error)
            if failure is not None:
                report.failures.append(failure)
                self.say("✘", failure, "bold red")
                return report
        for position, expectation in enumerate(step.expect):
            verdict = self._check(ctx, CHECKS[expectation.kind], expectation.body)
            earlier = before.get(position)
            if earlier is not None:
                verdict = Verdict(
                    earlier.ok and verdict.ok, f"avant: {earlier.text}; après: {verdict.text}"
                )
            report.checks += 1
            if verdict.ok:
                self.say("✔", verdict.text, "green")
            else:
                report.failures.append(f"{expectation.kind}: {verdict.text}")
                self.say("✘", f"{expectation.kind}: {verdict.text}", "bold red")
        return report

    def _judge_action(self, step: Step, error: str | None) -> str | None:
        """The action's failure, or None when it went as the step says it should."""
        if step.fails is None or step.fails is False:
            return None if error is None else f"l'action a échoué: {error}"
        if error is None:
            return "l'action devait échouer, elle a réussi"
        if isinstance(step.fails, str) and step.fails.casefold() not in error.casefold():
            return f"l'action a échoué sans dire « {step.fails} »: {error}"
        self.say("✔", f"échec attendu: {error}", "green")
        return None

    def _check(self, ctx: Context, check: Any, body: Any) -> Verdict:
        try:
            verdict: Verdict = check(ctx, ctx.resolve(body))
        except (StepFailed, CallFailed) as exc:
            return Verdict(False, f"vérification impossible: {exc}")
        return verdict

    def _summary(self, report: Report) -> None:
        checks = sum(step.checks for step in report.steps)
        self.console.print()
        if report.ok:
            self.console.print(
                f"[bold green]✔ Scénario réussi[/bold green]: {len(report.steps)} étapes, "
                f"{checks} vérifications."
            )
            return
        for step in report.failed:
            self.console.print(
                f"[bold red]✘ Étape {step.index} « {escape(step.name)} »[/bold red]: "
                f"{plural_fr(len(step.failures), 'échec', 'échecs')}"
            )
            for failure in step.failures:
                self.console.print(f"   - {escape(failure)}")
        if report.skipped:
            skipped = plural_fr(
                report.skipped, "étape suivante non jouée", "étapes suivantes non jouées"
            )
            self.console.print(f"{skipped}.")
        self.console.print("[bold red]✘ Scénario en échec[/bold red]")
