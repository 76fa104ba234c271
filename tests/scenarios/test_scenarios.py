"""Every shipped scenario replayed against one real stack (the demo school seeded, as `edusim up`
does); a failing expectation, a failing action and an invalid file are reported as such."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edusim.cli import app
from edusim.scenario.loader import load
from edusim.scenario.model import ACTIONS, Expectation
from edusim_common.clock_api import clock_table, load_clock
from edusim_common.db import make_engine
from fake_onde.config import OndeSettings
from fake_onde.models import OndeModel
from fake_onde.seed import seed_demo_school
from tests.e2e.stack import EC_TOKEN, ONDE_TOKEN, SYNC_TOKEN, Stack

pytestmark = pytest.mark.slow
SCENARIOS = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One stack for every scenario: each scenario has a school and people of its own."""
    workdir = tmp_path_factory.mktemp("scenarios")

    def url(name: str) -> str:
        return f"sqlite:///{workdir / name}.db"

    engine = make_engine(url("onde"))
    table = clock_table(OndeModel.metadata)
    OndeModel.metadata.create_all(engine)
    settings = OndeSettings()
    seed_demo_school(
        engine, load_clock(engine, table, settings.clock_start, settings.clock_mode).now()
    )
    engine.dispose()
    stack = Stack(url, workdir)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def _run(stack: Stack, *files: Path | str, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "scenario", "run", *map(str, files), *extra,
            "--onde", stack.onde.url, "--educonnect", stack.educonnect.url,
            "--sync", stack.sync.url, "--onde-token", ONDE_TOKEN,
            "--educonnect-token", EC_TOKEN, "--sync-token", SYNC_TOKEN,
        ],
    )  # fmt: skip
    return result.exit_code, result.output


def test_one_scenario_per_faq_question_in_french() -> None:
    scenarios = [load(path) for path in SCENARIOS]
    assert len(scenarios) >= 8
    assert {s.faq for s in scenarios} >= set(range(1, 9))
    for scenario in scenarios:
        assert "é" in scenario.title + scenario.description or "è" in scenario.description
    used_actions = {step.action for s in scenarios for step in s.steps}
    assert used_actions >= set(ACTIONS)
    used_checks = {e.kind for s in scenarios for step in s.steps for e in step.expect}
    assert used_checks >= set(Expectation.model_fields)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario(demo_stack: Stack, path: Path) -> None:
    code, output = _run(demo_stack, path)
    assert code == 0, output
    assert "✔ Scénario réussi" in output
    assert "✘" not in output


FAILING = """
title: Un scénario qui échoue
description: Une attente fausse à l'étape 2.
school: {uai: "0590411B"}
steps:
  - name: Jour J
    admit:
      as: eva
      nom: Pasquier
      prenoms: Eva
      sex: F
      birth_date: 2019-01-09
      responsables:
        - {as: lucie, civility: MME, nom: Pasquier, prenom: Lucie, mobile: "06 11 00 11 01"}
  - name: Le même jour, un compte déjà là ?
    expect:
      - account: {of: lucie, state: non_active}
      - explain: {of: lucie, code: not_synchronised}
  - name: Jour suivant
    next_day:
"""


def test_a_failing_expectation_names_its_step_and_stops(demo_stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(FAILING)
    code, output = _run(demo_stack, path)
    assert code == 1
    assert "✘ Étape 2 « Le même jour, un compte déjà là ? »" in output
    assert "aucun compte EduConnect pour Lucie Pasquier" in output
    assert "1 étape suivante non jouée" in output
    assert "3. Jour suivant" not in output
    assert "✘ Scénario en échec" in output


def test_keep_going_plays_every_step(demo_stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(
        FAILING.replace("0590411B", "0590412C")
        .replace("Pasquier", "Perrin")
        .replace("11 01", "12 01")
    )
    code, output = _run(demo_stack, path, extra=("--keep-going",))
    assert code == 1
    assert "3. Jour suivant" in output
    assert "non jouée" not in output


def test_an_action_that_must_fail_and_does_not_is_a_failure(
    demo_stack: Stack, tmp_path: Path
) -> None:
    path = tmp_path / "fails.yaml"
    path.write_text(
        FAILING.replace("0590411B", "0590413D")
        .replace("Pasquier", "Roussel")
        .replace("11 01", "13 01")
        .replace("    next_day:\n", "    next_day:\n    fails: true\n")
    )
    code, output = _run(demo_stack, path, extra=("--keep-going",))
    assert code == 1
    assert "l'action devait échouer, elle a réussi" in output
    assert "✘ Étape 3 « Jour suivant »" in output


def test_an_action_refused_by_a_service_says_why(demo_stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "refused.yaml"
    path.write_text(
        FAILING.replace("0590411B", "0590414E")
        .replace("Pasquier", "Girard")
        .replace('"06 11 00 11 01"', '"03 20 00 00 00"')
    )
    code, output = _run(demo_stack, path)
    assert code == 1
    assert "✘ Étape 1 « Jour J »" in output
    assert "ONDE POST /schools/0590414E/responsables → 422" in output
    assert "mobile" in output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FAILING.replace("sex: F", "sex: X"), ["ligne 11", "étape 1 « Jour J »", "admit.sex"]),
        (FAILING.replace("of: lucie, state", "of: lucy, state"),
         ["ligne 17", "étape 2", "'lucy' inconnu", "eva, lucie"]),
        (FAILING.replace("    next_day:\n", "    next_day:\n    sync:\n"),
         ["étape 3 « Jour suivant »", "one action per step", "next_day, sync"]),
        (FAILING.replace("birth_date: 2019", "birth_dat: 2019"), ["ligne 12", "birth_dat"]),
        (FAILING.replace("school: {uai: \"0590411B\"}", "school: {uai: \"0590411C\"}"),
         ["ligne 4", "school.uai", "takes 'B'"]),
        ("title: [unclosed", ["ligne 1", "YAML"]),
        (FAILING.replace("{of: lucie, code", "{of: eva, code"),
         ["étape 2", "'eva' est un élève"]),
    ],
)  # fmt: skip
def test_schema_errors_name_the_line_and_step(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["scenario", "check", str(path)])
    assert result.exit_code == 2
    for fragment in expected:
        assert fragment in result.output, result.output


def test_every_shipped_scenario_is_valid() -> None:
    result = runner.invoke(app, ["scenario", "check", *map(str, SCENARIOS)])
    assert result.exit_code == 0, result.output
    assert result.output.count("✔") == len(SCENARIOS)
    listed = runner.invoke(app, ["scenario", "list", str(SCENARIOS[0].parent)])
    assert "J+1" in listed.output


def test_a_binary_file_or_a_missing_directory_is_said_without_a_traceback(tmp_path: Path) -> None:
    binary = tmp_path / "photo.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    for command in ("check", "run"):
        result = runner.invoke(app, ["scenario", command, str(binary)])
        assert result.exit_code == 2, result.output
        assert "ce n'est pas du texte UTF-8" in result.output
        assert not isinstance(result.exception, UnicodeDecodeError)
    listed = runner.invoke(app, ["scenario", "list", str(tmp_path / "absent")])
    assert listed.exit_code == 2
    assert "does not exist" in " ".join(listed.output.replace("│", " ").split())


def test_services_that_do_not_answer(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["scenario", "run", str(SCENARIOS[0]), "--onde", "http://127.0.0.1:9",
         "--educonnect", "http://127.0.0.1:9", "--sync", "http://127.0.0.1:9"],
    )  # fmt: skip
    assert result.exit_code == 3
    assert "edusim up" in result.output


def test_a_setup_refused_by_a_service_plays_no_step(demo_stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "setup.yaml"
    path.write_text(
        FAILING.replace(
            'school: {uai: "0590411B"}', f'school: {{uai: "0590415F", name: "{"É" * 200}"}}'
        )
    )
    code, output = _run(demo_stack, path)
    assert code == 1
    assert "✘ Mise en place impossible: ONDE POST /schools → 422" in output
    assert "1. Jour J" not in output
