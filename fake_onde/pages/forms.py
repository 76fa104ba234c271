"""The director's forms: from posted strings to the API's models, errors in French by field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from edusim_common.problems import Conflict, Problem
from edusim_common.web.forms import FormErrors, problem_errors, validate
from edusim_common.web.words_fr import accord, pupil_state_fr
from fake_onde.models import Lien, LinkFields, PupilCreate, ResponsableCreate, ResponsableUpdate
from fake_onde.pages.common import TRANSLATIONS

_FRENCH_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
"""ASCII digits only: ``\\d`` would read ``٠٣/٠٢/٢٠١٩`` (Arabic-Indic digits) as a date."""
RESPONSABLE_FIELDS = ("civility", "nom", "prenom", "mobile", "email", "lien")
FOSTER_ASKED = "autorite_vue"
"""Hidden field of a responsable block: the director has read the foster family warning."""
FOSTER_AUTHORITY = (
    "Famille d'accueil : la case a été décochée. Cochez-la de nouveau seulement si cette famille "
    "exerce vraiment l'autorité parentale (décision de justice) ; elle n'aura de toute façon pas "
    "de compte EduConnect."
)


def foster_authority_check(values: dict[str, str], prefix: str = "") -> FormErrors:
    """A foster family ticked as holding parental authority, not yet confirmed: asked once.

    Without JavaScript the box cannot untick itself when « Famille d'accueil » is chosen, so the
    server refuses a tick it did not see given on purpose: the form comes back with the box
    unticked, the reason next to it, and a hidden mark that a new tick is deliberate. ``values``
    is changed in place for that re-rendered form.
    """
    errors = FormErrors()
    foster = values.get(prefix + "lien") == Lien.famille_accueil.value
    if foster and values.get(prefix + "autorite") and not values.get(prefix + FOSTER_ASKED):
        errors.add(prefix + "autorite", FOSTER_AUTHORITY)
        values.pop(prefix + "autorite", None)
        values[prefix + FOSTER_ASKED] = "1"
    return errors


def iso_date(value: str) -> str:
    """``03/02/2019`` → ``2019-02-03``; anything else unchanged (the model judges it)."""
    found = _FRENCH_DATE.match(value.strip())
    if found is None:
        return value
    day, month, year = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _blank_to_none(value: str | None) -> str | None:
    return value if value else None


def _given(data: Mapping[str, object]) -> dict[str, object]:
    # A required field left empty is "missing" (« Ce champ est obligatoire. »), not "invalid".
    return {key: value for key, value in data.items() if value is not None}


def prefixed(errors: FormErrors, prefix: str) -> FormErrors:
    """The same errors, each field name prefixed (``r1_`` for the first responsable)."""
    out = FormErrors()
    for key, message in errors.items():
        out.add(key if key == "_form" else prefix + key, message)
    return out


def pupil_from(values: Mapping[str, str]) -> tuple[PupilCreate | None, FormErrors]:
    """The pupil of the admission form."""
    data = {
        "nom": values.get("nom", ""),
        "prenoms": values.get("prenoms", ""),
        "sex": values.get("sex") or None,
        "birth_date": iso_date(values.get("birth_date", "")) or None,
        "birth_place": values.get("birth_place", ""),
        "level": values.get("level") or None,
        "class_id": _blank_to_none(values.get("class_id")),
        "state": values.get("state") or "admis",
    }
    return validate(PupilCreate, _given(data), TRANSLATIONS)


@dataclass(frozen=True)
class ResponsableBlock:
    """A new responsable and their link, as typed in one block of a form."""

    responsable: ResponsableCreate
    link: LinkFields


def block_present(values: Mapping[str, str], prefix: str) -> bool:
    """Whether the director typed anything in this responsable block."""
    return any(values.get(prefix + name) for name in ("nom", "prenom", "mobile", "email"))


def responsable_from(
    values: Mapping[str, str], prefix: str
) -> tuple[ResponsableBlock | None, FormErrors]:
    """A new responsable and their link from the fields named ``prefix + …``."""

    def get(name: str) -> str:
        return values.get(prefix + name, "")

    person, errors = validate(
        ResponsableCreate,
        _given(
            {
                "civility": get("civility") or None,
                "nom": get("nom"),
                "prenom": get("prenom"),
                "mobile": _blank_to_none(get("mobile")),
                "accepts_sms": bool(get("accepts_sms")),
                "home_phone": _blank_to_none(get("home_phone")),
                "email": _blank_to_none(get("email")),
            }
        ),
        TRANSLATIONS,
    )
    link, link_errors = link_from(values, prefix)
    errors.update({k: v for k, v in link_errors.items() if k not in errors})
    if person is None or link is None:
        return None, prefixed(errors, prefix)
    return ResponsableBlock(person, link), FormErrors()


def link_from(values: Mapping[str, str], prefix: str = "") -> tuple[LinkFields | None, FormErrors]:
    """The kind of link and the parental authority."""
    return validate(
        LinkFields,
        _given(
            {
                "lien": values.get(prefix + "lien") or None,
                "autorite_parentale": bool(values.get(prefix + "autorite")),
            }
        ),
        TRANSLATIONS,
    )


def contact_from(values: Mapping[str, str]) -> tuple[ResponsableUpdate | None, FormErrors]:
    """The contact form: an emptied field clears the value."""
    return validate(
        ResponsableUpdate,
        {
            "mobile": _blank_to_none(values.get("mobile")),
            "accepts_sms": bool(values.get("accepts_sms")),
            "home_phone": _blank_to_none(values.get("home_phone")),
            "work_phone": _blank_to_none(values.get("work_phone")),
            "email": _blank_to_none(values.get("email")),
        },
        TRANSLATIONS,
    )


def duplicate_message(problem: Conflict, sex: str | None = None) -> str:
    """The duplicate-admission refusal, in French, naming the existing record.

    A duplicate has the same sex as the pupil typed (it is part of the identity): ``sex`` makes
    the sentence agree (« Une élève … admise »).
    """
    extra = problem.extra
    state = ""
    found = re.search(r"state (\w+)\)", problem.detail)
    if found is not None:
        state = f", {pupil_state_fr(found.group(1), sex or 'M')}"
    who = accord(sex, "Un élève", "Une élève")
    return (
        f"Admission refusée : doublon. {who} de même nom, prénoms, sexe, date et lieu de "
        f"naissance est déjà enregistré (élève n° {extra.get('existing_pupil_id')}, INE "
        f"{extra.get('existing_ine')}, école {extra.get('existing_school_uai')}{state}). "
        "Vérifiez qu'il ne s'agit pas du même enfant."
    )


def service_errors(problem: Problem, field_prefix: str = "", sex: str | None = None) -> FormErrors:
    """A refusal of the service layer as French form errors (``_form`` for the whole form);
    ``sex`` is the pupil's, for the agreement of a duplicate's message."""
    if isinstance(problem, Conflict) and "existing_pupil_id" in problem.extra:
        errors = FormErrors()
        errors.add("_form", duplicate_message(problem, sex))
        return errors
    return prefixed(problem_errors(problem, TRANSLATIONS), field_prefix)


def shown_on(errors: FormErrors, fields: set[str]) -> FormErrors:
    """Errors of fields the form does not show are said at the top of the form."""
    out = FormErrors()
    for key, message in errors.items():
        out.add(key if key in fields else "_form", message)
    return out
