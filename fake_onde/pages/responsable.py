"""Responsables: add one to a pupil (new, or already known in the school), edit contact, unlink."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from edusim_common.deps import DbSession, Now
from edusim_common.problems import NotFound, Problem
from edusim_common.text import fold_search
from edusim_common.web.forms import FormErrors, confirmed, read_form, redirect
from edusim_common.web.render import page
from edusim_common.web.words_fr import accord, de
from fake_onde.models import LinkCreate, Pupil, Responsable, School
from fake_onde.pages.common import (
    CIVILITY_FR,
    DirectorSchool,
    ascii_number,
    lien_options,
    pages,
    phone_fr,
    pupil_of,
    responsable_of,
    router,
    with_bar,
)
from fake_onde.pages.forms import (
    contact_from,
    foster_authority_check,
    link_from,
    responsable_from,
    service_errors,
    shown_on,
)
from fake_onde.pages.wording import (
    contact_saved,
    full_name,
    linked,
    unlink_effect,
    unlinked,
)
from fake_onde.service import responsables as responsable_service
from fake_onde.service.overview import pupils_of_responsable
from fake_onde.service.responsables import ResponsableFilter, list_responsables

MAX_CHOICES = 500
NEW_FIELDS = {
    "civility", "nom", "prenom", "mobile", "email", "lien", "autorite", "home_phone", "existant",
}  # fmt: skip
CONTACT_FIELDS = {"mobile", "home_phone", "work_phone", "email"}


def _candidates(session: DbSession, school: School, pupil: Pupil) -> list[Responsable]:
    """Responsables of the school not yet linked to this pupil (e.g. a sibling's parent)."""
    linked = {
        link.responsable_id for link in responsable_service.links_of_pupil(session, pupil.id or 0)
    }
    known = list_responsables(session, ResponsableFilter(school_uai=school.uai), 0, MAX_CHOICES)
    # In alphabetical order, as a director looks a name up (they came in the order recorded)
    return sorted(
        (r for r in known if r.id not in linked),
        key=lambda r: (fold_search(r.nom), fold_search(r.prenom), r.id or 0),
    )


def _chosen(session: DbSession, school: School, raw: str) -> Responsable | None:
    try:
        return responsable_of(session, school, raw)
    except Problem:
        return None


def _add_page(
    request: Request,
    session: DbSession,
    school: School,
    pupil: Pupil,
    values: dict[str, str],
    errors: FormErrors,
    status: int,
) -> HTMLResponse:
    candidates = _candidates(session, school, pupil)
    if not candidates:  # no list to choose from: say it at the top of the form
        errors = shown_on(errors, NEW_FIELDS - {"existant"})
    context = {
        "school": school,
        "pupil": pupil,
        "values": values,
        "errors": errors,
        "candidates": candidates,
        "candidate_options": [
            (r.id, f"{CIVILITY_FR.get(r.civility, r.civility)} {r.prenom} {r.nom}")
            for r in candidates
        ],
        "lien_options": lien_options(),
    }
    return page(pages.templates, request, "responsable_add.html", context, status_code=status)


@router.get(
    "/eleves/{pupil_id}/responsables/ajouter", response_class=HTMLResponse, dependencies=with_bar
)
def add_form(
    pupil_id: str, request: Request, session: DbSession, school: DirectorSchool
) -> HTMLResponse:
    """Add a responsable to a pupil: a new person, or one already recorded in the school."""
    pupil = pupil_of(session, school, pupil_id)
    values = {"autorite": "on", "accepts_sms": "on"}
    return _add_page(request, session, school, pupil, values, FormErrors(), 200)


@router.post(
    "/eleves/{pupil_id}/responsables/ajouter", response_class=HTMLResponse, dependencies=with_bar
)
async def add(
    pupil_id: str, request: Request, session: DbSession, school: DirectorSchool, now: Now
) -> Response:
    """Record the responsable (if new) and link them, all or nothing."""
    pupil = pupil_of(session, school, pupil_id)
    values = await read_form(request)
    existing = values.get("existant", "")
    chosen = _chosen(session, school, existing) if existing else None
    if existing and chosen is None:
        errors = FormErrors({"existant": "Responsable inconnu dans votre école."})
        return _add_page(request, session, school, pupil, values, errors, 422)
    try:
        if chosen is not None:
            link, errors = link_from(values)
            errors.update(foster_authority_check(values))
            if link is None or errors:
                return _add_page(request, session, school, pupil, values, errors, 422)
            person = chosen
        else:
            block, errors = responsable_from(values, "")
            errors.update(foster_authority_check(values))
            if block is None or errors:
                errors = shown_on(errors, NEW_FIELDS)
                return _add_page(request, session, school, pupil, values, errors, 422)
            person = responsable_service.create_responsable(
                session, now, school.uai, block.responsable
            )
            link = block.link
        body = LinkCreate(responsable_id=person.id or 0, **link.model_dump())
        responsable_service.add_link(session, now, pupil, body)
    except Problem as problem:
        session.rollback()
        pupil = pupil_of(session, school, pupil_id)
        errors = shown_on(service_errors(problem), NEW_FIELDS)
        return _add_page(request, session, school, pupil, values, errors, 409)
    name = f"{person.prenom} {person.nom}"
    flash = linked(link.lien.value, link.autorite_parentale, pupil, name, now)
    return redirect(f"/eleves/{pupil.id}", flash.message, flash.level)


def _back(values: dict[str, str], session: DbSession, school: School) -> str:
    """Back to the pupil the director came from, if it is theirs; else the dashboard."""
    raw = values.get("eleve", "")
    if ascii_number(raw) is not None:
        try:
            return f"/eleves/{pupil_of(session, school, raw).id}"
        except Problem:
            return "/"
    return "/"


def _edit_page(
    request: Request,
    session: DbSession,
    school: School,
    person: Responsable,
    values: dict[str, str],
    errors: FormErrors,
    status: int,
) -> HTMLResponse:
    context = {
        "school": school,
        "person": person,
        "values": values,
        "errors": errors,
        "children": pupils_of_responsable(session, person.id or 0),
    }
    return page(pages.templates, request, "responsable_edit.html", context, status_code=status)


@router.get(
    "/responsables/{responsable_id}/modifier", response_class=HTMLResponse, dependencies=with_bar
)
def edit_form(
    responsable_id: str, request: Request, session: DbSession, school: DirectorSchool
) -> HTMLResponse:
    """A responsable's phones and email, as ONDE holds them."""
    person = responsable_of(session, school, responsable_id)
    values = {
        "mobile": phone_fr(person.mobile) if person.mobile else "",
        "accepts_sms": "on" if person.accepts_sms else "",
        "home_phone": phone_fr(person.home_phone) if person.home_phone else "",
        "work_phone": phone_fr(person.work_phone) if person.work_phone else "",
        "email": person.email or "",
        "eleve": request.query_params.get("eleve", "")[:12],
    }
    return _edit_page(request, session, school, person, values, FormErrors(), 200)


@router.post(
    "/responsables/{responsable_id}/modifier", response_class=HTMLResponse, dependencies=with_bar
)
async def edit(
    responsable_id: str, request: Request, session: DbSession, school: DirectorSchool, now: Now
) -> Response:
    """Save the contact data (phones normalised); an emptied field is cleared."""
    person = responsable_of(session, school, responsable_id)
    values = await read_form(request)
    data, errors = contact_from(values)
    if data is None:
        errors = shown_on(errors, CONTACT_FIELDS)
        return _edit_page(request, session, school, person, values, errors, 422)
    try:
        responsable_service.update_responsable(session, now, person, data)
    except Problem as problem:
        session.rollback()
        person = responsable_of(session, school, responsable_id)
        errors = shown_on(service_errors(problem), CONTACT_FIELDS)
        return _edit_page(request, session, school, person, values, errors, 409)
    flash = contact_saved(person, pupils_of_responsable(session, person.id or 0), now)
    return redirect(_back(values, session, school), flash.message, flash.level)


@router.post(
    "/eleves/{pupil_id}/responsables/{responsable_id}/retirer",
    response_class=HTMLResponse,
    dependencies=with_bar,
)
async def unlink(
    pupil_id: str,
    responsable_id: str,
    request: Request,
    session: DbSession,
    school: DirectorSchool,
    now: Now,
) -> Response:
    """Remove the link between the pupil and a responsable (the responsable stays recorded),
    once confirmed: the button leads to a confirmation page whose own form removes it."""
    pupil = pupil_of(session, school, pupil_id)
    person = responsable_of(session, school, responsable_id)
    name = f"{person.prenom} {person.nom}"
    try:
        link = responsable_service.get_link(session, pupil, person.id or 0)
    except NotFound:
        raise NotFound(f"{name} n'est pas (ou plus) responsable de cet élève.") from None
    if not confirmed(await read_form(request)):
        context = {
            "school": school,
            "pupil": pupil,
            "title": f"Retirer {name} des responsables {de(full_name(pupil))} ?",
            "lines": [
                f"{name} reste {accord(person, 'enregistré', 'enregistrée')} dans ONDE ; seul "
                f"son lien avec {pupil.prenoms} est supprimé.",
                unlink_effect(link, pupil, name),
            ],
            "action": f"/eleves/{pupil.id}/responsables/{person.id}/retirer",
            "fields": {},
            "button": f"Retirer {name}",
            "back": f"/eleves/{pupil.id}",
        }
        return page(pages.templates, request, "confirm.html", context)
    flash = unlinked(link, pupil, name, now)
    responsable_service.remove_link(session, now, link)
    return redirect(f"/eleves/{pupil.id}", flash)
