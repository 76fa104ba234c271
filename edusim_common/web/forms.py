"""Forms of the pages: read them, validate them with pydantic, say what is wrong in French."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from edusim_common.problems import Problem

M = TypeVar("M", bound=BaseModel)

FLASH_COOKIE = "edusim_flash"
"""The one-time message of the next page, as ``<level>|<message>`` (URL-quoted)."""
CONFIRM_FIELD = "confirm"
"""Set (to ``1``) by the form of a confirmation page: the destructive action may go ahead."""

FRENCH_BY_TYPE = {
    "missing": "Ce champ est obligatoire.",
    "string_too_short": "Ce champ est obligatoire.",
    "string_too_long": "Ce texte est trop long.",
    "date_from_datetime_parsing": "Date invalide : utilisez le format JJ/MM/AAAA.",
    "date_parsing": "Date invalide : utilisez le format JJ/MM/AAAA.",
    "date_from_datetime_inexact": "Date invalide.",
    "int_parsing": "Un nombre est attendu.",
    "literal_error": "Choix invalide.",
    "enum": "Choix invalide.",
    "bool_parsing": "Choix invalide.",
    "value_error": "Valeur invalide.",
    "string_pattern_mismatch": "Format invalide.",
}


class FormErrors(dict[str, str]):
    """Field name → French message, shown next to the field."""

    def add(self, field: str, message: str) -> None:
        """Keep the first message of each field."""
        self.setdefault(field, message)


async def read_form(request: Request) -> dict[str, str]:
    """The posted form as plain strings (files and repeated keys ignored), trimmed."""
    form = await request.form()
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


def _leaf(loc: tuple[int | str, ...] | list[Any] | str) -> str:
    if isinstance(loc, str):
        return loc.rsplit(".", 1)[-1]
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return parts[-1] if parts else ""


def _french(reason: str, translations: Mapping[str, str]) -> str:
    for english, french in translations.items():
        if english.lower() in reason.lower():
            return french
    return f"Valeur refusée ({reason})."


def validate(
    model: type[M], data: Mapping[str, Any], translations: Mapping[str, str] | None = None
) -> tuple[M | None, FormErrors]:
    """``model`` from ``data``, or the French errors by field.

    Only the model's fields are read: a page's form also posts its buttons and its CSRF token,
    which the API's models (strict: an unknown field is refused) do not know.
    """
    fields = model.model_fields
    known = set(fields) | {f.alias for f in fields.values() if f.alias}
    try:
        return model.model_validate({k: v for k, v in data.items() if k in known}), FormErrors()
    except ValidationError as exc:
        errors = FormErrors()
        for err in exc.errors():
            reason = str(err.get("msg", "")).removeprefix("Value error, ")
            kind = str(err.get("type", ""))
            if kind == "value_error" and translations is not None:
                message = _french(reason, translations)
            else:
                message = FRENCH_BY_TYPE.get(kind) or _french(reason, translations or {})
            errors.add(_leaf(err.get("loc", ())), message)
        return None, errors


def problem_errors(problem: Problem, translations: Mapping[str, str]) -> FormErrors:
    """The field errors of a refused service call, in French (``_form`` for the whole form)."""
    errors = FormErrors()
    for item in problem.errors:
        errors.add(_leaf(item.field), _french(item.reason, translations))
    if not errors:
        errors.add("_form", _french(problem.detail, translations))
    return errors


class FlashLevel(StrEnum):
    """How a one-time message reads: green (done), orange (take care) or red (refused, blocked)."""

    success = "success"
    warning = "warning"
    error = "error"


class Flash(NamedTuple):
    """A one-time message and its level."""

    message: str
    level: FlashLevel


def redirect(
    url: str, flash: str | None = None, level: FlashLevel = FlashLevel.success
) -> RedirectResponse:
    """Post/redirect/get, with a one-time message of ``level`` for the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        value = quote(f"{level.value}|{flash}")
        response.set_cookie(FLASH_COOKIE, value, max_age=60, httponly=True, samesite="lax")
    return response


def take_flash(request: Request) -> Flash | None:
    """The one-time message set by :func:`redirect`, if any (a cookie without level: success)."""
    value = request.cookies.get(FLASH_COOKIE)
    if not value:
        return None
    text = unquote(value)
    prefix, sep, message = text.partition("|")
    if sep and prefix in FlashLevel.__members__:
        return Flash(message[:500], FlashLevel(prefix))
    return Flash(text[:500], FlashLevel.success)


def confirmed(values: Mapping[str, str]) -> bool:
    """Whether the form comes from a confirmation page (``confirm=1``)."""
    return values.get(CONFIRM_FIELD) == "1"
