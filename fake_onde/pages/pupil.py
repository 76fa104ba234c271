"""A pupil's page (identity, state and its transitions, responsables) and the admission form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from edusim_common.deps import DbSession, Now
from edusim_common.problems import Problem
from edusim_common.web.forms import Flash, FormErrors, confirmed, read_form, redirect
from edusim_common.web.plural import plural_fr
from edusim_common.web.render import page, short_date
from edusim_common.web.words_fr import accord, pupil_state_fr, upper_first
from fake_onde.models import Level, LinkCreate, Pupil, PupilState, School
from fake_onde.pages.common import (
    DirectorSchool,
    lien_options,
    pages,
    pupil_of,
    router,
    visible_tomorrow,
    with_bar,
)
from fake_onde.pages.forms import (
    ResponsableBlock,
    block_present,
    foster_authority_check,
    pupil_from,
    responsable_from,
    service_errors,
    shown_on,
)
from fake_onde.pages.wording import (
    done,
    entitled,
    first_name,
    full_name,
    gives_account,
    is_enrolled,
    no_account,
    not_yet_admitted,
    state_change,
    strike_off_effect,
    why_no_account,
)
from fake_onde.service import pupils as pupil_service
from fake_onde.service import responsables as responsable_service
from fake_onde.service.overview import last_state_change, responsables_of_pupils
from fake_onde.service.schools import list_classes

ACTION_FR = {
    PupilState.inscrit: "Inscrire",
    PupilState.admis: "Admettre",
    PupilState.admis_definitif: "Admettre définitivement",
    PupilState.radie: "Radier",
}
PUPIL_FIELDS = {"nom", "prenoms", "sex", "birth_date", "birth_place", "level", "class_id", "state"}
BLOCK_FIELDS = ("civility", "nom", "prenom", "mobile", "email", "lien", "autorite", "home_phone")


def _pending_since(request: Request) -> datetime | None:
    """The cut-off of the sync's last run: what changed after it is not in EduConnect yet."""
    bar = getattr(request.state, "simbar", None)
    run = getattr(bar, "last_run", None) if bar is not None else None
    if not run or run.get("dry_run") or not run.get("cutoff"):
        return None
    return datetime.fromisoformat(str(run["cutoff"]))


def _transitions(pupil: Pupil) -> list[tuple[PupilState, str]]:
    current = PupilState(pupil.state)
    allowed = pupil_service.TRANSITIONS[current]
    actions = []
    for target in PupilState:
        if target in allowed:
            label = ACTION_FR.get(target) or upper_first(pupil_state_fr(target.value, "M"))
            if current is PupilState.radie and target is PupilState.inscrit:
                label = "Réinscrire (retour de l'élève)"
            actions.append((target, label))
    return actions


def _accounts(session: DbSession, pupil: Pupil) -> tuple[int, int]:
    """How many of the pupil's links give an EduConnect account while it is enrolled, and how
    many links it has."""
    links = responsables_of_pupils(session, [pupil.id or 0])[pupil.id or 0]
    return sum(entitled(link.lien, link.autorite_parentale) for link, _ in links), len(links)


def _pupil_page(
    request: Request,
    session: DbSession,
    school: School,
    pupil: Pupil,
    now: datetime,
    action_error: str = "",
    status: int = 200,
) -> HTMLResponse:
    classes = {c.id: c.label for c in list_classes(session, school.uai)}
    links = responsables_of_pupils(session, [pupil.id or 0])[pupil.id or 0]
    transitions = _transitions(pupil)
    context: dict[str, Any] = {
        "school": school,
        "pupil": pupil,
        "class_label": classes.get(pupil.class_id) if pupil.class_id else None,
        "responsables": links,
        "transitions": transitions,
        "can_admit": any(target is PupilState.admis for target, _ in transitions),
        "enrolled": is_enrolled(pupil.state),
        "since": last_state_change(session, pupil),
        "pending_since": _pending_since(request),
        "today": now,
        "action_error": action_error,
    }
    return page(pages.templates, request, "pupil.html", context, status_code=status)


def _strike_off_confirmation(
    request: Request, session: DbSession, school: School, pupil: Pupil, now: datetime
) -> HTMLResponse:
    """« Radier … ? »: what it does, and the form that does it (nothing is written yet)."""
    accounts, _ = _accounts(session, pupil)
    context: dict[str, Any] = {
        "school": school,
        "pupil": pupil,
        "title": f"Radier {full_name(pupil)} à la date du {short_date(now)} ?",
        "lines": [
            f"{first_name(pupil)} ne fera plus partie de l'école à compter du {short_date(now)}.",
            strike_off_effect(pupil, accounts),
            f"Si l'élève revient, il faudra {accord(pupil, 'le', 'la')} réinscrire puis "
            "l'admettre de nouveau.",
        ],
        "action": f"/eleves/{pupil.id}/etat",
        "fields": {"etat": PupilState.radie.value},
        "button": f"Radier {full_name(pupil)}",
        "back": f"/eleves/{pupil.id}",
    }
    return page(pages.templates, request, "confirm.html", context)


@router.get("/eleves/admettre", response_class=HTMLResponse, dependencies=with_bar)
def admission_form(request: Request, session: DbSession, school: DirectorSchool) -> HTMLResponse:
    """The admission form: the pupil, and one or two responsables (optional)."""
    values = {"state": "admis", "r1_autorite": "on", "r1_accepts_sms": "on"}
    values |= {"r2_autorite": "on", "r2_accepts_sms": "on"}
    return _admission_page(request, session, school, values, FormErrors(), 200)


def _admission_page(
    request: Request,
    session: DbSession,
    school: School,
    values: dict[str, str],
    errors: FormErrors,
    status: int,
) -> HTMLResponse:
    context = {
        "school": school,
        "values": values,
        "errors": errors,
        "level_options": [(level.value, level.value) for level in Level],
        "class_options": [
            (c.id, f"{c.label} ({c.levels.replace(',', ', ')})")
            for c in list_classes(session, school.uai)
        ],
        "lien_options": lien_options(),
    }
    return page(pages.templates, request, "admit.html", context, status_code=status)


def _admission_message(pupil: Pupil, blocks: list[ResponsableBlock], now: datetime) -> Flash:
    """What the director reads after an admission: J+1 only for what EduConnect will see."""
    verb = pupil_state_fr(pupil.state, pupil.sex)
    with_whom = f" avec {plural_fr(len(blocks), 'responsable', 'responsables')}" if blocks else ""
    said = f"{full_name(pupil)} : {verb}{with_whom} (INE {pupil.ine})."
    if not is_enrolled(pupil.state):
        return no_account(f"{said} {not_yet_admitted(pupil)}")
    him = accord(pupil, "lui", "elle")
    if not blocks:
        return no_account(
            f"{said} Sans responsable, personne ne recevra de compte EduConnect pour {him} : "
            "ajoutez-en un ci-dessous."
        )
    left_out = [
        f"{b.responsable.prenom} {b.responsable.nom} ("
        f"{why_no_account(b.link.lien.value, b.link.autorite_parentale, pupil)})"
        for b in blocks
        if not gives_account(b.link.lien.value, b.link.autorite_parentale, pupil.state)
    ]
    if len(left_out) == len(blocks):
        return no_account(f"{said} Pas de compte EduConnect pour {' ni '.join(left_out)}.")
    tomorrow = visible_tomorrow(now)
    return done(f"{said} {tomorrow}" + (f" Pas de compte pour {left_out[0]}." if left_out else ""))


@router.post("/eleves/admettre", response_class=HTMLResponse, dependencies=with_bar)
async def admit(request: Request, session: DbSession, school: DirectorSchool, now: Now) -> Response:
    """Admit a pupil with their responsables, all or nothing."""
    values = await read_form(request)
    pupil_data, errors = pupil_from(values)
    errors = shown_on(errors, PUPIL_FIELDS)
    blocks = []
    for prefix in ("r1_", "r2_"):
        if not block_present(values, prefix):
            continue
        block, block_errors = responsable_from(values, prefix)
        block_errors.update(foster_authority_check(values, prefix))
        errors.update(shown_on(block_errors, {prefix + f for f in BLOCK_FIELDS}))
        if block is not None:
            blocks.append(block)
    if errors or pupil_data is None:
        return _admission_page(request, session, school, values, errors, 422)
    try:
        pupil = pupil_service.create_pupil(session, now, school.uai, pupil_data)
        for block in blocks:
            person = responsable_service.create_responsable(
                session, now, school.uai, block.responsable
            )
            link = LinkCreate(responsable_id=person.id or 0, **block.link.model_dump())
            responsable_service.add_link(session, now, pupil, link)
    except Problem as problem:
        session.rollback()  # nothing half-written: no pupil without the responsables typed
        errors = shown_on(service_errors(problem, sex=pupil_data.sex.value), PUPIL_FIELDS)
        return _admission_page(request, session, school, values, errors, 409)
    said = _admission_message(pupil, blocks, now)
    return redirect(f"/eleves/{pupil.id}", said.message, said.level)


@router.get("/eleves/{pupil_id}", response_class=HTMLResponse, dependencies=with_bar)
def pupil_page(
    pupil_id: str, request: Request, session: DbSession, school: DirectorSchool, now: Now
) -> HTMLResponse:
    """Identity, INE, class, state with its transitions, responsables."""
    return _pupil_page(request, session, school, pupil_of(session, school, pupil_id), now)


@router.post("/eleves/{pupil_id}/etat", response_class=HTMLResponse, dependencies=with_bar)
async def change_state(
    pupil_id: str, request: Request, session: DbSession, school: DirectorSchool, now: Now
) -> Response:
    """Admit, admit for good, strike off (today, on the simulated clock, once confirmed), take
    back."""
    pupil = pupil_of(session, school, pupil_id)
    form = await read_form(request)
    target = form.get("etat", "")
    if target not in PupilState.__members__:
        message = "Choisissez un état parmi les boutons proposés."
        return _pupil_page(request, session, school, pupil, now, message, 422)
    legal = PupilState(target) in pupil_service.TRANSITIONS[PupilState(pupil.state)]
    if target == PupilState.radie.value and legal and not confirmed(form):
        return _strike_off_confirmation(request, session, school, pupil, now)
    before = pupil.state
    try:
        pupil_service.change_state(session, now, pupil, PupilState(target))
    except Problem as problem:
        session.rollback()
        pupil = pupil_of(session, school, pupil_id)
        errors = service_errors(problem, sex=pupil.sex)
        message = errors.get("_form") or next(iter(errors.values()))
        return _pupil_page(request, session, school, pupil, now, message, 409)
    accounts, linked = _accounts(session, pupil)
    flash = state_change(pupil, before, now, accounts, linked)
    return redirect(f"/eleves/{pupil.id}", flash.message, flash.level)
