"""The parameters of each expectation (one key per item of a step's ``expect``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edusim.scenario.fields import AccountState, ChildStatus, Origin, Strict, Text, Texts, VarName


class AccountExpect(Strict):
    """The EduConnect account of a parent: exists or not, its state, origin, identifiant."""

    of: VarName
    exists: bool = True
    state: AccountState | None = None
    origin: Origin | None = None
    identifiant_starts: Text | None = None


class Appears(Strict):
    """J+1: no account for this parent before the step, one after it."""

    of: VarName
    state: AccountState = "non_active"


class ChildExpect(Strict):
    """The attachment of a child to a parent's account."""

    parent: VarName
    child: VarName
    status: ChildStatus


class ExplainExpect(Strict):
    """EduConnect's explanation of where a parent stands."""

    of: VarName
    contains: Texts = Field(default_factory=list)
    not_contains: Texts = Field(default_factory=list)
    code: Texts = Field(default_factory=list, description="Statement codes that must appear.")
    not_code: Texts = Field(default_factory=list, description="Codes that must not appear.")


class OutboxExpect(Strict):
    """Messages of the outbox since the scenario began."""

    to: VarName | None = Field(default=None, description="A parent: their mobile or email.")
    recipient: Text | None = None
    channel: Literal["sms", "email", "letter", "school"] | None = None
    contains: Texts = Field(default_factory=list)
    count: int | None = Field(default=None, ge=0)


class RunExpect(Strict):
    """The runs this step made (the last one, for its counts), or the latest run."""

    runs: int | None = Field(default=None, ge=0, description="How many runs the step made.")
    kind: Literal["nightly", "manual", "full"] | None = None
    status: Literal["succeeded", "failed", "awaiting_approval"] | None = None
    changes_read: int | None = None
    responsables_sent: int | None = None
    created: int | None = None
    matched: int | None = None
    updated: int | None = None
    unchanged: int | None = None
    excluded: int | None = None
    failed: int | None = None
    proposals_added: int | None = None
    links_removed: int | None = None
    deactivated: int | None = None
    deactivation_pending: int | None = None
    restored: int | None = None
    no_mobile: int | None = None


class ReportLine(Strict):
    """The line of a parent in the report of the step's last run."""

    of: VarName
    outcome: Literal["created", "matched", "updated", "unchanged", "excluded", "failed"] | None = (
        None
    )
    reason_contains: Texts = Field(default_factory=list)


class Proposed(Strict):
    """Exactly these children are proposed to the parent at their current login."""

    parent: VarName
    children: list[VarName] = Field(max_length=20)


class ConsoleExpect(Strict):
    """What the director sees of a parent in the console."""

    of: VarName
    state: AccountState | None = None
    origin: Origin | None = None
    activated: bool | None = None
    last_login: bool | None = Field(default=None, description="A last login is shown (or not).")


class ResultExpect(Strict):
    """The answer of the step's action."""

    contains: Texts = Field(default_factory=list)
    step: str | None = Field(default=None, description="Session step: attachment, none…")
    decision: Literal["attached", "wrong_date", "blocked", "refused"] | None = None
    status: str | None = None
