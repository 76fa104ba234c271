"""The simulated director login, and the school's dashboard (classes, pupils, filters)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edusim_common.deps import DbSession
from edusim_common.problems import NotFound
from edusim_common.web.forms import FormErrors, read_form, redirect
from edusim_common.web.render import page
from fake_onde.auth import director_token
from fake_onde.config import OndeSettings
from fake_onde.models import PupilState, School
from fake_onde.pages.common import (
    DIRECTOR_COOKIE,
    LIST_PAGE_SIZE,
    ascii_number,
    director_uai,
    pages,
    router,
    with_bar,
)
from fake_onde.service.overview import responsables_of_pupils, school_overview
from fake_onde.service.pupils import PupilFilter, list_pupils
from fake_onde.service.schools import get_school, list_classes, list_schools

MAX_SCHOOLS_LISTED = 1000


def _login_page(
    request: Request, session: DbSession, errors: FormErrors, values: dict[str, str], status: int
) -> HTMLResponse:
    schools = list_schools(session, None, MAX_SCHOOLS_LISTED)
    context = {"schools": schools, "errors": errors, "values": values}
    return page(pages.templates, request, "login.html", context, status_code=status)


@router.get("/", response_class=HTMLResponse, dependencies=with_bar)
def home(request: Request, session: DbSession) -> HTMLResponse:
    """The login (no director cookie) or the school's dashboard."""
    uai = director_uai(request)
    school = None
    if uai is not None:
        try:
            school = get_school(session, uai)
        except NotFound:
            school = None
    if school is None:
        return _login_page(request, session, FormErrors(), {}, 200)
    return _dashboard(request, session, school)


@router.post("/connexion", dependencies=with_bar)
async def login(request: Request, session: DbSession) -> Response:
    """Stands for the real ENT/ARENA authentication: the director picks their school."""
    form = await read_form(request)
    uai = form.get("uai", "").upper()[:16]
    errors = FormErrors()
    school = None
    if not uai:
        errors.add("uai", "Choisissez votre école.")
    else:
        try:
            school = get_school(session, uai)
        except NotFound:
            errors.add("uai", f"Aucune école d'UAI {uai} dans cette simulation.")
    if school is None:
        return _login_page(request, session, errors, form, 422)
    settings: OndeSettings = request.app.state.settings
    response = redirect(
        "/", f"Connecté comme directeur : {school.name} ({school.uai}) — simulation."
    )
    response.set_cookie(
        DIRECTOR_COOKIE,
        director_token(settings.secret_key, school.uai),
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/deconnexion")
def logout() -> RedirectResponse:
    """Forget the director."""
    response = redirect("/", "Vous êtes déconnecté.")
    response.delete_cookie(DIRECTOR_COOKIE, httponly=True, samesite="lax")
    return response


def _filters(request: Request, school: School, class_ids: set[int]) -> tuple[dict[str, Any], str]:
    """The list's filters from the query string; what cannot be read is dropped and said."""
    params = request.query_params
    ignored: list[str] = []
    chosen: dict[str, Any] = {"classe": None, "etat": None, "nom": "", "apres": 0}
    raw_class = params.get("classe", "")
    if raw_class:
        class_id = ascii_number(raw_class)
        if class_id is not None and class_id in class_ids:
            chosen["classe"] = class_id
        else:
            ignored.append("classe")
    raw_state = params.get("etat", "")
    if raw_state:
        if raw_state in PupilState.__members__:
            chosen["etat"] = PupilState(raw_state)
        else:
            ignored.append("état")
    name = params.get("nom", "").strip()
    if name:
        if len(name) <= 80 and "\x00" not in name:
            chosen["nom"] = name
        else:
            ignored.append("nom")
    after = ascii_number(params.get("apres", ""))
    if after is not None and after < 2**31:
        chosen["apres"] = after
    notice = f"Filtre ignoré (valeur invalide) : {', '.join(ignored)}." if ignored else ""
    return chosen, notice


def _dashboard(request: Request, session: DbSession, school: School) -> HTMLResponse:
    classes = list_classes(session, school.uai)
    chosen, notice = _filters(request, school, {c.id for c in classes if c.id is not None})
    found = list_pupils(
        session,
        PupilFilter(
            school_uai=school.uai,
            class_id=chosen["classe"],
            state=chosen["etat"],
            name=chosen["nom"] or None,
        ),
        chosen["apres"],
        LIST_PAGE_SIZE + 1,
    )
    more = len(found) > LIST_PAGE_SIZE
    shown = found[:LIST_PAGE_SIZE]
    kept = {
        k: (v.value if isinstance(v, PupilState) else v)
        for k, v in chosen.items()
        if v and k != "apres"
    }
    context = {
        "school": school,
        "overview": school_overview(session, school.uai),
        "class_labels": {c.id: c.label for c in classes},
        "classes": classes,
        "pupils": shown,
        "pupil_links": responsables_of_pupils(session, [p.id for p in shown if p.id is not None]),
        "chosen": chosen,
        "kept": kept,
        "next_after": shown[-1].id if more and shown else None,
        "notice": notice,
        "states": list(PupilState),
    }
    return page(pages.templates, request, "dashboard.html", context)
