"""One shape per entity, shared by the API, the change log and the export."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from edusim_common.clock import as_utc
from fake_onde.models import (
    ENROLLED_STATES,
    Pupil,
    PupilResponsable,
    Responsable,
    School,
    SchoolClass,
)


def _iso(value: datetime | date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return _iso_datetime(value)
    return value.isoformat()


@lru_cache(maxsize=4096)
def _iso_datetime(value: datetime) -> str:
    # Exports repeat the same few timestamps (a seed's, a day's imports): format each once.
    return as_utc(value).isoformat().replace("+00:00", "Z")


def school_dict(row: School | Mapping[str, Any]) -> dict[str, Any]:
    """Public shape of a school."""
    get = _getter(row)
    return {
        "uai": get("uai"),
        "name": get("name"),
        "commune": get("commune"),
        "academie": get("academie"),
        "created_at": _iso(get("created_at")),
    }


def class_dict(row: SchoolClass | Mapping[str, Any]) -> dict[str, Any]:
    """Public shape of a class."""
    get = _getter(row)
    levels = get("levels")
    return {
        "id": get("id"),
        "school_uai": get("school_uai"),
        "label": get("label"),
        "levels": levels.split(",") if levels else [],
    }


def pupil_dict(row: Pupil | Mapping[str, Any]) -> dict[str, Any]:
    """Public shape of a pupil."""
    get = _getter(row)
    return {
        "id": get("id"),
        "ine": get("ine"),
        "nom": get("nom"),
        "prenoms": get("prenoms"),
        "sex": get("sex"),
        "birth_date": _iso(get("birth_date")),
        "birth_place": get("birth_place"),
        "school_uai": get("school_uai"),
        "class_id": get("class_id"),
        "level": get("level"),
        "state": get("state"),
        "enrolled": get("state") in ENROLLED_STATES,
        "created_at": _iso(get("created_at")),
        "updated_at": _iso(get("updated_at")),
    }


def responsable_dict(row: Responsable | Mapping[str, Any]) -> dict[str, Any]:
    """Public shape of a responsable."""
    get = _getter(row)
    address = None
    if get("address_line1") is not None:
        address = {
            "line1": get("address_line1"),
            "line2": get("address_line2"),
            "postal_code": get("postal_code"),
            "city": get("city"),
            "country": get("country"),
        }
    return {
        "id": get("id"),
        "school_uai": get("school_uai"),
        "civility": get("civility"),
        "nom": get("nom"),
        "prenom": get("prenom"),
        "mobile": get("mobile"),
        "accepts_sms": bool(get("accepts_sms")),
        "home_phone": get("home_phone"),
        "work_phone": get("work_phone"),
        "email": get("email"),
        "address": address,
        "created_at": _iso(get("created_at")),
        "updated_at": _iso(get("updated_at")),
    }


def link_dict(row: PupilResponsable | Mapping[str, Any]) -> dict[str, Any]:
    """Public shape of a pupil-responsable link."""
    get = _getter(row)
    return {
        "id": get("id"),
        "pupil_id": get("pupil_id"),
        "responsable_id": get("responsable_id"),
        "school_uai": get("school_uai"),
        "lien": get("lien"),
        "autorite_parentale": bool(get("autorite_parentale")),
    }


def _getter(row: object) -> Any:
    # Rows and dicts are read by key, table models by attribute. ``isinstance(row, Mapping)``
    # was a costly ABC check on every exported row; models have no ``__getitem__``.
    getitem = getattr(row, "__getitem__", None)
    if getitem is not None:
        return getitem
    return lambda name: getattr(row, name)
