"""Read a scenario file: YAML, validated by the pydantic models, errors named by line and step."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from edusim.scenario.action_models import (
    Admit,
    ChildDecision,
    EditResponsable,
    ParentRef,
    PupilRef,
    SiecleAccount,
)
from edusim.scenario.model import Scenario, Step

Loc = tuple[str | int, ...]
PARENT_KINDS = ("responsable", "siecle_parent")
CHILD_KINDS = ("pupil", "siecle_child")
KIND_NAMES = {
    "pupil": "élève",
    "responsable": "responsable",
    "siecle_parent": "parent SIECLE",
    "siecle_child": "enfant SIECLE",
}


@dataclass(frozen=True)
class Problem:
    """One error of a scenario file, with where it is."""

    line: int | None
    step: str | None
    where: str
    message: str

    def __str__(self) -> str:
        place = f"ligne {self.line}" if self.line else "fichier"
        if self.step:
            place += f", {self.step}"
        return (
            f"{place} — {self.where}: {self.message}" if self.where else f"{place} — {self.message}"
        )


class ScenarioFileError(Exception):
    """The scenario file is not valid; ``problems`` says where and why."""

    def __init__(self, path: Path, problems: Sequence[Problem]) -> None:
        self.path = path
        self.problems = list(problems)
        super().__init__(f"{path}: " + "; ".join(str(p) for p in self.problems))


def _node_at(root: yaml.Node | None, loc: Loc) -> yaml.Node | None:
    """The deepest YAML node on the path ``loc``."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part] if 0 <= part < len(node.value) else None
        else:
            found = None
        if found is None:
            break
        node = found
    return node


def _where(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Locator:
    def __init__(self, root: yaml.Node | None, data: Any) -> None:
        self.root = root
        self.data = data

    def problem(self, loc: Loc, message: str) -> Problem:
        node = _node_at(self.root, loc)
        line = node.start_mark.line + 1 if node is not None else None
        step = None
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            steps = self.data.get("steps") if isinstance(self.data, dict) else None
            name = None
            if isinstance(steps, list) and 0 <= loc[1] < len(steps):
                entry = steps[loc[1]]
                name = entry.get("name") if isinstance(entry, dict) else None
            step = f"étape {loc[1] + 1}" + (f" « {name} »" if name else "")
        return Problem(line, step, _where(loc), message)


def parse(text: str, path: Path) -> Scenario:
    """Validate a scenario's text; :class:`ScenarioFileError` lists every problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ScenarioFileError(path, [Problem(line, None, "", f"YAML invalide: {exc}")]) from exc
    locator = _Locator(root, data)
    if not isinstance(data, dict):
        raise ScenarioFileError(path, [Problem(1, None, "", "a scenario is a YAML mapping")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [
            locator.problem(tuple(error["loc"]), error["msg"].removeprefix("Value error, "))
            for error in exc.errors()
        ]
        raise ScenarioFileError(path, problems) from exc
    problems = list(_check_names(scenario, locator))
    if problems:
        raise ScenarioFileError(path, problems)
    return scenario


def load(path: Path) -> Scenario:
    """Read and validate the scenario file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioFileError(path, [Problem(None, None, "", f"illisible: {exc}")]) from exc
    except UnicodeDecodeError as exc:  # a scenario is UTF-8 text: not a binary file
        reason = f"illisible: ce n'est pas du texte UTF-8 (octet {exc.start})"
        raise ScenarioFileError(path, [Problem(None, None, "", reason)]) from exc
    return parse(text, path)


# -- names: defined once, used after their definition, of the right kind ------------------------


def _definitions(step: Step) -> Iterator[tuple[Loc, str, str]]:
    if isinstance(step.admit, Admit):
        yield ("admit", "as"), step.admit.as_, "pupil"
        for i, resp in enumerate(step.admit.responsables):
            if resp.as_ is not None:
                yield ("admit", "responsables", i, "as"), resp.as_, "responsable"
    if isinstance(step.siecle_account, SiecleAccount):
        yield ("siecle_account", "as"), step.siecle_account.as_, "siecle_parent"
        for i, child in enumerate(step.siecle_account.children):
            yield ("siecle_account", "children", i, "as"), child.as_, "siecle_child"


def _references(step: Step) -> Iterator[tuple[Loc, str, tuple[str, ...]]]:
    action = step.action
    body = getattr(step, action) if action else None
    if isinstance(body, Admit):
        for i, resp in enumerate(body.responsables):
            if resp.ref is not None:
                yield ("admit", "responsables", i, "ref"), resp.ref, ("responsable",)
    if isinstance(body, EditResponsable):
        yield (action or "", "responsable"), body.responsable, ("responsable",)
    if isinstance(body, PupilRef):
        yield (action or "", "pupil"), body.pupil, ("pupil",)
    if isinstance(body, ParentRef):
        yield (action or "", "parent"), body.parent, PARENT_KINDS
    if isinstance(body, ChildDecision):
        yield (action or "", "child"), body.child, CHILD_KINDS


def _expectation_references(step: Step) -> Iterator[tuple[Loc, str, tuple[str, ...]]]:
    for i, expectation in enumerate(step.expect):
        check = expectation.body
        base: Loc = ("expect", i, expectation.kind)
        if isinstance(check, list):  # same_account
            for j, name in enumerate(check):
                yield (*base, j), name, PARENT_KINDS
            continue
        for field, kinds in (
            ("of", PARENT_KINDS),
            ("parent", PARENT_KINDS),
            ("to", PARENT_KINDS),
            ("child", CHILD_KINDS),
        ):
            name = getattr(check, field, None)
            if isinstance(name, str):
                yield (*base, field), name, kinds
        for j, name in enumerate(getattr(check, "children", None) or []):
            yield (*base, "children", j), name, CHILD_KINDS


def _check_names(scenario: Scenario, locator: _Locator) -> Iterator[Problem]:
    known: dict[str, str] = {}
    for index, step in enumerate(scenario.steps):
        yield from _unknown(known, index, _references(step), locator)
        for loc, name, kind in _definitions(step):
            if name in known:
                yield locator.problem(("steps", index, *loc), f"{name!r} est déjà défini")
            known[name] = kind
        yield from _unknown(known, index, _expectation_references(step), locator)


def _unknown(
    known: dict[str, str],
    index: int,
    references: Iterator[tuple[Loc, str, tuple[str, ...]]],
    locator: _Locator,
) -> Iterator[Problem]:
    for loc, name, kinds in references:
        kind = known.get(name)
        wanted = " ou ".join(KIND_NAMES[k] for k in kinds)
        if kind is None:
            so_far = ", ".join(sorted(known)) or "aucun"
            yield locator.problem(
                ("steps", index, *loc),
                f"{name!r} inconnu: il faut un {wanted} défini par une étape précédente "
                f"(définis jusqu'ici: {so_far})",
            )
        elif kind not in kinds:
            yield locator.problem(
                ("steps", index, *loc),
                f"{name!r} est un {KIND_NAMES[kind]}, il faut ici un {wanted}",
            )
