"""The scenario file format: pydantic models of a YAML scenario (see docs/scenarios.md).

A scenario has a school, then steps; each step has a name, at most one action, and expectations
checked after it (``appears`` also checks before it). Names given with ``as`` (a pupil, a
responsable, a SIECLE parent or child) are the variables later steps refer to.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator
from pydantic import model_validator as model_check

from edusim.scenario.action_models import (
    ACTIONS,
    DEFAULTABLE,
    ActivateFranceConnect,
    ActivateLetter,
    ActivateSms,
    Admit,
    Advance,
    ChildDecision,
    ConfirmBirthDate,
    EditResponsable,
    Login,
    NextDay,
    ParentRef,
    PupilRef,
    ResetPassword,
    RunSync,
    SiecleAccount,
)
from edusim.scenario.check_models import (
    AccountExpect,
    Appears,
    ChildExpect,
    ConsoleExpect,
    ExplainExpect,
    OutboxExpect,
    Proposed,
    ReportLine,
    ResultExpect,
    RunExpect,
)
from edusim.scenario.fields import Strict, Text, VarName
from fake_onde.identifiers import normalize_uai

__all__ = ["ACTIONS", "Expectation", "Scenario", "SchoolSpec", "Step"]


class SchoolSpec(Strict):
    """The scenario's school, created in ONDE if it does not exist yet."""

    uai: str
    name: Text = "École du scénario"
    commune: Text = "Lille"
    academie: Text = "Lille"

    @field_validator("uai")
    @classmethod
    def _valid_uai(cls, value: str) -> str:
        return normalize_uai(value)


class Expectation(Strict):
    """One check: exactly one key."""

    account: AccountExpect | None = None
    appears: Appears | None = None
    child: ChildExpect | None = None
    explain: ExplainExpect | None = None
    outbox: OutboxExpect | None = None
    run: RunExpect | None = None
    report_line: ReportLine | None = None
    same_account: list[VarName] | None = Field(default=None, min_length=2)
    proposed: Proposed | None = None
    console: ConsoleExpect | None = None
    result: ResultExpect | None = None

    @model_check(mode="after")
    def _exactly_one(self) -> Expectation:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            known = ", ".join(type(self).model_fields)
            raise ValueError(f"give exactly one check per item (one of: {known}); got {given}")
        return self

    @property
    def kind(self) -> str:
        """The key given."""
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)

    @property
    def body(self) -> Any:
        """The check's parameters."""
        return getattr(self, self.kind)


# -- steps and scenarios -------------------------------------------------------------------------


class Step(Strict):
    """A named step: at most one action, then its expectations."""

    name: Text
    note: Text | None = Field(default=None, description="Shown to the trainer before the step.")
    admit: Admit | None = None
    edit_responsable: EditResponsable | None = None
    strike_off: PupilRef | None = None
    readmit: PupilRef | None = None
    next_day: NextDay | None = None
    advance: Advance | None = None
    sync: RunSync | None = None
    siecle_account: SiecleAccount | None = None
    activate_sms: ActivateSms | None = None
    activate_franceconnect: ActivateFranceConnect | None = None
    activate_letter: ActivateLetter | None = None
    login: Login | None = None
    confirm_birth_date: ConfirmBirthDate | None = None
    not_my_child: ChildDecision | None = None
    unblock: ChildDecision | None = None
    attach_by_hand: ChildDecision | None = None
    reset_password: ResetPassword | None = None
    console: ParentRef | None = None
    explain: ParentRef | None = None
    fails: bool | Text | None = Field(
        default=None, description="The action must fail (true), with this text in its message."
    )
    expect: list[Expectation] = Field(default_factory=list)

    @model_check(mode="before")
    @classmethod
    def _bare_actions(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in DEFAULTABLE:
                if key in data and data[key] is None:
                    data[key] = {}
            if isinstance(data.get("next_day"), int):
                data["next_day"] = {"days": data["next_day"]}
        return data

    @model_check(mode="after")
    def _one_action(self) -> Step:
        actions = [k for k in ACTIONS if getattr(self, k) is not None]
        if len(actions) > 1:
            raise ValueError(f"one action per step, got {len(actions)}: {', '.join(actions)}")
        if not actions and not self.expect:
            raise ValueError(f"a step needs an action (one of: {', '.join(ACTIONS)}) or expect")
        if self.fails is not None and not actions:
            raise ValueError("fails needs an action")
        return self

    @property
    def action(self) -> str | None:
        """The action's key, if any."""
        return next((k for k in ACTIONS if getattr(self, k) is not None), None)


class Scenario(Strict):
    """A scenario: who it is for, its school, and its steps."""

    title: Text
    description: Text
    faq: int | None = Field(default=None, ge=1, le=50, description="The FAQ question it shows.")
    school: SchoolSpec
    sync_pending: bool = Field(
        default=True,
        description="Run the sync once before the first step, so that changes recorded before "
        "the scenario do not show in its runs.",
    )
    steps: list[Step] = Field(min_length=1, max_length=500)
