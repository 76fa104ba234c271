"""The director console (« administration des comptes EduConnect »), one school at a time.

The real console sits behind the academic portal (ARENA / eduline); here the director picks the
school on a simulated login page, and the console cookie holds that school's director token
(``ec-dir-<UAI>-…``), the same token the console API takes.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, StringConstraints
from sqlalchemy import func, select
from sqlmodel import Session, col

from edusim_common.deps import DbSession, Now
from edusim_common.problems import Conflict, NotFound, Problem
from edusim_common.school_tokens import school_of_token, school_token
from edusim_common.web.explain_fr import diagnosis_fr
from edusim_common.web.forms import FlashLevel, FormErrors, confirmed, redirect, validate
from edusim_common.web.words_fr import de
from fake_educonnect.deps import DIRECTOR_PREFIX, PasswordsDep
from fake_educonnect.models import (
    Account,
    AccountSource,
    AccountState,
    Attachment,
    AttachmentStatus,
    Child,
    Letter,
    Origin,
)
from fake_educonnect.pages import queries
from fake_educonnect.pages.common import (
    CONSOLE_COOKIE,
    Form,
    parse_id,
    render,
    router,
    settings_of,
    with_bar,
)
from fake_educonnect.security import Passwords
from fake_educonnect.service import console, schools
from fake_educonnect.service.accounts import get_account
from fake_educonnect.service.explain import explain_account
from fake_educonnect.service.letters import issue_letter
from fake_educonnect.service.views import account_detail

PAGE_SIZE = 50
UAI_KEYS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_UAI = re.compile(r"^[0-9]{7}[A-Z]$")
NOT_HERE = "Aucun compte de votre école ne correspond à cette adresse."
Short = Annotated[str, StringConstraints(max_length=80)]


def uai_problem(uai: str) -> str | None:
    """Why ``uai`` is not a valid UAI (7 digits and the key letter), in French; None if valid."""
    if not _UAI.match(uai):
        return "Un UAI compte 7 chiffres suivis d'une lettre (exemple : 0021593W)."
    key = UAI_KEYS[int(uai[:7]) % 23]
    if uai[7] != key:
        return f"Lettre clé erronée : l'UAI {uai[:7]} prend la lettre {key}."
    return None


def school_known(session: Session, uai: str) -> bool:
    """Whether EduConnect holds anything of this school yet (a responsable or a pupil).

    Before the first night's sync after the school's records were typed in ONDE, it holds
    nothing: the console says so rather than « no responsable matches »."""
    for column in (col(AccountSource.school_uai), col(Child.school_uai)):
        if session.execute(select(column).where(column == uai).limit(1)).first() is not None:
            return True
    return False


def console_school(request: Request) -> str | None:
    """The UAI of the director logged into the console, from the console cookie."""
    token = request.cookies.get(CONSOLE_COOKIE)
    if not token or len(token) > 200:
        return None
    return school_of_token(DIRECTOR_PREFIX, settings_of(request).secret_key, token)


def _in_school(session: Session, uai: str, context: dict[str, Any]) -> dict[str, Any]:
    """A console page's context: the school (``uai``) and its name for the header."""
    return {"uai": uai, "directory": schools.directory(session, [uai]), **context}


def _to_console_login() -> RedirectResponse:
    return redirect("/console", "Connectez-vous à la console pour continuer.", FlashLevel.warning)


def _login_page(
    request: Request, session: Session, values: dict[str, str], errors: FormErrors, status: int
) -> HTMLResponse:
    known = queries.known_schools(session)
    context = {
        "uai": None,
        "schools": known,
        "directory": schools.directory(session, known),
        "values": values,
        "errors": errors,
    }
    return render(request, "console/login.html", context, status)


class SearchForm(BaseModel):
    """The console's search fields (empty ones dropped)."""

    nom: Short | None = None
    prenom: Short | None = None
    identifiant: Annotated[str, StringConstraints(max_length=60)] | None = None
    etat: AccountState | None = None
    origine: Origin | None = None
    classe: Annotated[str, StringConstraints(max_length=120)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None


def _search(session: Session, uai: str, wanted: SearchForm, after: int) -> list[Account]:
    filters = console.ConsoleFilter(
        nom=wanted.nom,
        prenom=wanted.prenom,
        identifiant=wanted.identifiant,
        state=wanted.etat.value if wanted.etat else None,
        origin=wanted.origine.value if wanted.origine else None,
        email=wanted.email,
        class_label=wanted.classe,
    )
    return console.search(session, uai, filters, after, PAGE_SIZE)


@router.get("/console", response_class=HTMLResponse, dependencies=with_bar)
def console_home(request: Request, session: DbSession) -> HTMLResponse:
    """The simulated login, or the school's search with its results."""
    uai = console_school(request)
    if uai is None:
        return _login_page(request, session, {}, FormErrors(), 200)
    raw = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
    after = parse_id(raw.pop("apres", "")) or 0
    wanted, errors = validate(SearchForm, raw)
    rows: list[tuple[Account, list[tuple[Attachment, Child]]]] = []
    if wanted is not None:
        accounts = _search(session, uai, wanted, after)
        children = console.school_attachments(session, [a.id or 0 for a in accounts], uai)
        rows = [(account, children[account.id or 0]) for account in accounts]
    next_after = rows[-1][0].id if len(rows) == PAGE_SIZE else None
    context = _in_school(
        session,
        uai,
        {
            "known": bool(rows) or school_known(session, uai),
            "values": raw,
            "errors": errors,
            "rows": rows,
            "next_after": next_after,
            "classes": queries.class_labels(session, uai),
            "school_messages": queries.latest_messages(
                session, None, 5, channel="school", school_uai=uai
            ),
        },
    )
    return render(request, "console/search.html", context, 422 if errors else 200)


@router.post("/console/connexion", response_class=HTMLResponse, dependencies=with_bar)
def console_login(request: Request, form: Form, session: DbSession) -> Response:
    """Simulated ARENA login: the director picks the school; the cookie holds its token."""
    uai = (form.get("uai_autre") or form.get("uai") or "").strip().upper()
    problem = uai_problem(uai) if uai else "Choisissez votre école ou saisissez son UAI."
    if problem is not None and uai in queries.known_schools(session):
        problem = None  # a school EduConnect already knows (test data may skip the key letter)
    if problem is not None:
        errors = FormErrors()
        errors.add("uai_autre", problem)
        return _login_page(request, session, form, errors, 422)
    token = school_token(DIRECTOR_PREFIX, settings_of(request).secret_key, uai)
    school = schools.school_label(uai, schools.directory(session, [uai]).get(uai), with_uai=True)
    response = redirect("/console", f"Connecté à la console : {school} — connexion simulée.")
    response.set_cookie(
        CONSOLE_COOKIE, token, max_age=8 * 3600, httponly=True, samesite="lax", path="/"
    )
    return response


@router.post("/console/deconnexion")
def console_logout() -> RedirectResponse:
    """Leave the console."""
    response = redirect("/console", "Vous avez quitté la console.")
    response.delete_cookie(CONSOLE_COOKIE, path="/")
    return response


def _scoped_account(session: Session, uai: str, raw_id: str) -> Account:
    """The account, if it has a responsable in the director's school; else « introuvable »."""
    account_id = parse_id(raw_id)
    if account_id is None:
        raise NotFound(NOT_HERE)
    try:
        account = get_account(session, account_id)
        console.check_account_in_school(session, account, uai)
    except Problem as exc:
        raise NotFound(NOT_HERE) from exc
    return account


def _scoped_attachment(session: Session, uai: str, raw_id: str) -> tuple[Attachment, Child]:
    """The attachment, if its pupil is in the director's school; else « introuvable »."""
    attachment_id = parse_id(raw_id)
    attachment = session.get(Attachment, attachment_id) if attachment_id else None
    child = session.get(Child, attachment.child_id) if attachment else None
    if attachment is None or child is None:
        raise NotFound("Aucun rattachement de votre école ne correspond à cette adresse.")
    try:
        console.check_attachment_in_school(child, uai)
    except Problem as exc:
        raise NotFound("Aucun rattachement de votre école ne correspond à cette adresse.") from exc
    return attachment, child


@router.get("/console/comptes/{account_id}", response_class=HTMLResponse, dependencies=with_bar)
def account_page(account_id: str, request: Request, session: DbSession, now: Now) -> Response:
    """Identifiant, origin, state, activation date, last login, each child's attachment, and
    the « explain » diagnosis in French (this school only, like the rest of the page)."""
    uai = console_school(request)
    if uai is None:
        return _to_console_login()
    account = _scoped_account(session, uai, account_id)
    detail = account_detail(session, account, school_uai=uai)
    statements = explain_account(session, now, account, school_uai=uai)
    shown = detail.model_dump(mode="json")
    context = _in_school(
        session,
        uai,
        {
            "account": detail,
            "last_letter": _latest_letter(session, account),
            "self_activated": account.origin in console.SELF_ACTIVATED,
            "deactivated": account.state == AccountState.desactive.value,
            "diagnosis": diagnosis_fr(
                [{"code": s.code, "text": s.text} for s in statements], shown, shown["attachments"]
            ),
        },
    )
    return render(request, "console/account.html", context)


#: The field of the letter forms: the id of the latest letter when the form was shown.
LAST_LETTER = "dernier_courrier"


def _latest_letter(session: Session, account: Account) -> int:
    """The id of the account's latest letter (0: none yet)."""
    found = session.scalar(
        select(func.max(col(Letter.id))).where(col(Letter.account_id) == account.id)
    )
    return int(found or 0)


def _letter_page(
    request: Request,
    form: dict[str, str],
    session: Session,
    now: datetime,
    passwords: Passwords,
    account_id: str,
    reset: bool,
) -> Response:
    """Print a notification letter (``reset``: the old password dies too).

    The temporary password opens the account: a parent who activated alone (FranceConnect,
    SMS) is first sent to the self-service tools and the director confirms (the API asks
    `confirm` too).
    """
    uai = console_school(request)
    if uai is None:
        return _to_console_login()
    account = _scoped_account(session, uai, account_id)
    known = form.get(LAST_LETTER, "")
    latest = _latest_letter(session, account)
    if known.isascii() and known.isdigit() and latest > int(known[:10]):
        # The form was sent again (a reload, « Retour »): another letter would void the printed one.
        return redirect(
            f"/console/comptes/{account.id}",
            "Aucun nouveau courrier : ce formulaire avait déjà servi (page rechargée ?). Le "
            "courrier imprimé reste valable et lisible dans la boîte d'envoi de la simulation.",
            FlashLevel.warning,
        )
    try:
        console.check_reset_allowed(account, confirmed(form))
    except console.AccountDeactivated:
        context = _in_school(session, uai, {"account": account, "reset": reset})
        return render(request, "console/deactivated.html", context, 409)
    except Conflict:
        action = "reinitialiser" if reset else "courrier"
        context = {"account": account, "action": action, "last_letter": latest}
        return render(request, "console/reset_confirm.html", _in_school(session, uai, context))
    validity = timedelta(days=settings_of(request).letter_validity_days)
    issued = issue_letter(session, now, passwords, account, uai, validity, reset=reset)
    context = _in_school(session, uai, {"account": account, "issued": issued, "reset": reset})
    return render(request, "console/letter.html", context)


@router.post(
    "/console/comptes/{account_id}/courrier", response_class=HTMLResponse, dependencies=with_bar
)
def letter(
    account_id: str,
    request: Request,
    form: Form,
    session: DbSession,
    now: Now,
    passwords: PasswordsDep,
) -> Response:
    """A printable notification letter: identifiant and temporary password, valid 3 months."""
    return _letter_page(request, form, session, now, passwords, account_id, reset=False)


@router.post(
    "/console/comptes/{account_id}/reinitialiser",
    response_class=HTMLResponse,
    dependencies=with_bar,
)
def reset_password(
    account_id: str,
    request: Request,
    form: Form,
    session: DbSession,
    now: Now,
    passwords: PasswordsDep,
) -> Response:
    """A new letter, the old password void; a self-activated parent needs a confirmation first."""
    return _letter_page(request, form, session, now, passwords, account_id, reset=True)


def _first_name(child: Child) -> str:
    return child.prenoms.split()[0] if child.prenoms.split() else child.prenoms


@router.post("/console/rattachements/{attachment_id}/debloquer")
def unblock(attachment_id: str, request: Request, session: DbSession, now: Now) -> RedirectResponse:
    """The child is proposed again at the parent's next login."""
    uai = console_school(request)
    if uai is None:
        return _to_console_login()
    attachment, child = _scoped_attachment(session, uai, attachment_id)
    back = f"/console/comptes/{attachment.account_id}"
    try:
        console.unblock(attachment, now, settings_of(request).birthdate_tries)
    except Conflict:
        return redirect(
            back,
            f"Le rattachement {de(_first_name(child))} n'est pas à débloquer.",
            FlashLevel.warning,
        )
    return redirect(
        back,
        f"Le rattachement {de(_first_name(child))} est débloqué : l'élève sera proposé à la "
        "prochaine connexion du responsable.",
    )


@router.post("/console/rattachements/{attachment_id}/rattacher")
def attach(attachment_id: str, request: Request, session: DbSession, now: Now) -> RedirectResponse:
    """The school attaches the child by hand, without the birth-date check."""
    uai = console_school(request)
    if uai is None:
        return _to_console_login()
    attachment, child = _scoped_attachment(session, uai, attachment_id)
    back = f"/console/comptes/{attachment.account_id}"
    name = _first_name(child)
    try:
        console.attach_by_hand(attachment, now)
    except Conflict:
        if attachment.status == AttachmentStatus.attached.value:
            return redirect(back, f"{name} est déjà rattaché(e) à ce compte.", FlashLevel.warning)
        return redirect(
            back,
            f"Le lien avec {name} a été retiré par la synchronisation : rien à rattacher.",
            FlashLevel.warning,
        )
    return redirect(back, f"{name} est rattaché(e) à ce compte par l'école.")


ORIGIN_ORDER = ("FranceConnect", "Responsable", "Etablissement", "none")
STATE_ORDER = ("active", "non_active", "desactive")
STATUS_ORDER = ("attached", "proposed", "blocked", "refused", "removed")


def _bars(counts: dict[str, int], order: tuple[str, ...]) -> list[tuple[str, int, float]]:
    total = sum(counts.values())
    keys = list(order) + sorted(k for k in counts if k not in order)
    return [(k, counts.get(k, 0), 100.0 * counts.get(k, 0) / total if total else 0.0) for k in keys]


@router.get("/console/statistiques", response_class=HTMLResponse, dependencies=with_bar)
def statistics(request: Request, session: DbSession) -> Response:
    """Activation statistics of the school, by origin, state and attachment status."""
    uai = console_school(request)
    if uai is None:
        return _to_console_login()
    found = console.stats(session, uai)
    activated = found.by_state.get(AccountState.active.value, 0)
    context = _in_school(
        session,
        uai,
        {
            "accounts": found.accounts,
            "activated": activated,
            "rate": 100.0 * activated / found.accounts if found.accounts else 0.0,
            "by_origin": _bars(found.by_origin, ORIGIN_ORDER),
            "by_state": _bars(found.by_state, STATE_ORDER),
            "by_status": _bars(found.attachments, STATUS_ORDER),
        },
    )
    return render(request, "console/stats.html", context)
