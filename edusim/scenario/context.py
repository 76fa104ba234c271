"""What a running scenario knows: its school, its named pupils and parents, the step's runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel

from edusim.scenario.api import Api


class StepFailed(Exception):
    """The step's action could not be done; the message says why, in plain words."""


@dataclass
class School:
    """The scenario's school and its director's tokens."""

    uai: str
    name: str
    onde_token: str = ""
    console_token: str = ""


@dataclass
class PupilVar:
    """A pupil admitted in ONDE by the scenario."""

    name: str
    id: int
    ine: str
    nom: str
    prenoms: str
    birth_date: date

    @property
    def label(self) -> str:
        """How the output names them."""
        return f"{self.prenoms} {self.nom}"


@dataclass
class ChildVar:
    """A secondary-school child of a SIECLE parent."""

    name: str
    ine: str
    nom: str
    prenoms: str
    birth_date: date

    @property
    def label(self) -> str:
        """How the output names them."""
        return f"{self.prenoms} {self.nom}"


@dataclass
class ParentVar:
    """A parent: an ONDE responsable, or a SIECLE parent who already has an account."""

    name: str
    source: str
    source_id: str
    nom: str
    prenom: str
    civility: str | None = None
    mobile: str | None = None
    email: str | None = None
    password: str | None = None
    temporary_password: str | None = None
    session: str | None = None
    fc_sub: str | None = None

    @property
    def label(self) -> str:
        """How the output names them."""
        return f"{self.prenom} {self.nom}"


_TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_]+)\}")


@dataclass
class Context:
    """The scenario's state while it runs."""

    api: Api
    school: School
    pupils: dict[str, PupilVar] = field(default_factory=dict)
    children: dict[str, ChildVar] = field(default_factory=dict)
    parents: dict[str, ParentVar] = field(default_factory=dict)
    outbox_mark: int = 0
    step_runs: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    # -- names ---------------------------------------------------------------------------------

    def parent(self, name: str) -> ParentVar:
        """A parent by name."""
        return self.parents[name]

    def child(self, name: str) -> PupilVar | ChildVar:
        """A child (1D pupil or 2D child) by name."""
        return self.pupils[name] if name in self.pupils else self.children[name]

    def label(self, name: str) -> str:
        """How the output names a variable."""
        for table in (self.pupils, self.children, self.parents):
            if name in table:
                return str(table[name].label)
        return name

    # -- EduConnect ----------------------------------------------------------------------------

    def account(self, parent: ParentVar) -> dict[str, Any] | None:
        """The parent's EduConnect account, in full, if the sync has made it."""
        return self.api.account_of(parent.source, parent.source_id)

    def require_account(self, parent: ParentVar) -> dict[str, Any]:
        """The parent's account, or a failure saying that the sync has not made it yet."""
        account = self.account(parent)
        if account is None:
            raise StepFailed(
                f"{parent.label} n'a pas (encore) de compte EduConnect: un changement fait dans "
                "ONDE le jour J n'arrive dans EduConnect qu'avec la synchronisation de la nuit "
                "(J+1)"
            )
        return account

    def attachment(self, parent: ParentVar, child_name: str) -> dict[str, Any] | None:
        """The attachment of a child to the parent's account, if any."""
        account = self.account(parent)
        child = self.child(child_name)
        for attachment in (account or {}).get("attachments", []):
            if attachment["child"]["ine"] == child.ine:
                found: dict[str, Any] = attachment
                return found
        return None

    def session_token(self, parent: ParentVar) -> str:
        """The parent's current session token."""
        if parent.session is None:
            raise StepFailed(
                f"{parent.label} n'est pas connecté(e): ajoutez d'abord une étape login"
            )
        return parent.session

    # -- ${name.field} ---------------------------------------------------------------------------

    def value(self, name: str, attribute: str) -> str:
        """The value of ``${name.attribute}``."""
        if name == "school" and attribute in ("uai", "name"):
            return str(getattr(self.school, attribute))
        target: Any = None
        for table in (self.pupils, self.children, self.parents):
            if name in table:
                target = table[name]
        if target is None:
            raise StepFailed(f"${{{name}.{attribute}}}: {name!r} n'est pas (encore) défini")
        if isinstance(target, ParentVar) and attribute in ("identifiant", "account_id", "state"):
            account = self.require_account(target)
            return str(account["id"] if attribute == "account_id" else account[attribute])
        if attribute.startswith("_") or not hasattr(target, attribute):
            raise StepFailed(f"${{{name}.{attribute}}}: {name!r} n'a pas de champ {attribute!r}")
        return str(getattr(target, attribute))

    def interpolate(self, text: str) -> str:
        """``text`` with each ``${name.field}`` replaced."""
        return _TEMPLATE.sub(lambda m: self.value(m.group(1), m.group(2)), text)

    def resolve(self, model: Any) -> Any:
        """A copy of ``model`` (a pydantic model, list or str) with every template replaced."""
        if isinstance(model, str):
            return self.interpolate(model) if "${" in model else model
        if isinstance(model, list):
            return [self.resolve(item) for item in model]
        if isinstance(model, BaseModel):
            changes = {}
            for key in type(model).model_fields:
                value = getattr(model, key)
                if isinstance(value, str | list | BaseModel):
                    resolved = self.resolve(value)
                    if resolved != value:  # only what changed: fields_set stays as written
                        changes[key] = resolved
            return model.model_copy(update=changes) if changes else model
        return model
