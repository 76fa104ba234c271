"""Building blocks of the scenario models: strict models, names, texts, enumerations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

VarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=40)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Texts = Text | list[Text]
Lien = Literal[
    "mere", "pere", "tuteur", "ase", "autre_membre_famille", "famille_accueil", "autre"
]  # fmt: skip
AccountState = Literal["non_active", "active", "desactive"]
Origin = Literal["FranceConnect", "Responsable", "Etablissement"]
ChildStatus = Literal["proposed", "attached", "blocked", "refused", "removed", "none"]
COUNT_KEYS = (
    "changes_read", "responsables_sent", "created", "matched", "updated", "unchanged",
    "excluded", "failed", "proposals_added", "links_removed", "deactivated",
    "deactivation_pending", "restored", "no_mobile",
)  # fmt: skip


class Strict(BaseModel):
    """No unknown key: a typo is an error naming the key."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def as_list(value: str | list[str] | None) -> list[str]:
    """One text or several, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
