"""Builders of import items, as the sync would send them."""

from __future__ import annotations

from typing import Any

SCHOOL = "0021593W"
OTHER_SCHOOL = "0590001F"


def child(
    source_id: str = "1",
    *,
    nom: str = "Martin",
    prenoms: str = "Léa",
    birth_date: str = "2019-02-03",
    school_uai: str = SCHOOL,
    lien: str = "mere",
    autorite_parentale: bool = True,
    enrolled: bool = True,
    level: str = "CP",
    class_label: str | None = None,
) -> dict[str, Any]:
    """A child link of an import item."""
    return {
        "class_label": class_label,
        "source_id": source_id,
        "ine": f"{int(source_id):010d}A",
        "nom": nom,
        "prenoms": prenoms,
        "birth_date": birth_date,
        "school_uai": school_uai,
        "level": level,
        "lien": lien,
        "autorite_parentale": autorite_parentale,
        "enrolled": enrolled,
    }


def responsable(
    source_id: str = "101",
    *,
    nom: str = "Martin",
    prenom: str = "Sophie",
    mobile: str | None = "+33612345678",
    email: str | None = None,
    school_uai: str = SCHOOL,
    children: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An import item: a responsable in full, with their children."""
    item: dict[str, Any] = {
        "source_id": source_id,
        "school_uai": school_uai,
        "civility": "MME",
        "nom": nom,
        "prenom": prenom,
        "mobile": mobile,
        "email": email,
        "children": [child()] if children is None else children,
    }
    item.update(extra)
    return item
