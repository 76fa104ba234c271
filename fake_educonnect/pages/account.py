"""The parent's own account: confirm an email, add pupils from another account (merge)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from edusim_common.deps import DbSession, Now
from edusim_common.problems import Conflict
from edusim_common.web.forms import FormErrors, redirect, validate
from edusim_common.web.plural import plural_fr
from fake_educonnect.deps import PasswordsDep
from fake_educonnect.models import Account
from fake_educonnect.pages import flows
from fake_educonnect.pages.activation import check_code
from fake_educonnect.pages.common import (
    TRANSLATIONS,
    Form,
    current_parent,
    keep,
    render,
    router,
    settings_of,
    to_login,
    with_bar,
)
from fake_educonnect.routes.parent import code_policy
from fake_educonnect.schemas import EmailIn, MergeIn
from fake_educonnect.service import parent, selfservice
from fake_educonnect.service.parent import Step


def _email_page(
    request: Request,
    account: Account,
    values: dict[str, str],
    errors: FormErrors,
    request_id: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {"account": account, "values": values, "errors": errors, "request_id": request_id}
    return render(request, "email.html", context, status)


@router.get("/me/email", response_class=HTMLResponse, dependencies=with_bar)
def email_page(request: Request, session: DbSession, now: Now) -> Response:
    """Record an email; it gives self-service by email once its code comes back."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    return _email_page(request, current[1], {}, FormErrors())


@router.post("/me/email", response_class=HTMLResponse, dependencies=with_bar)
def email_submit(request: Request, form: Form, session: DbSession, now: Now) -> Response:
    """The email is stored unconfirmed and a code is sent to it."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    account = current[1]
    model, errors = validate(EmailIn, form, TRANSLATIONS)
    if model is None:
        return _email_page(request, account, form, errors, status=422)
    request_id = selfservice.start_email_confirmation(
        session, now, code_policy(settings_of(request)), account, str(model.email)
    )
    return _email_page(request, account, form, FormErrors(), request_id)


@router.post("/me/email/code", response_class=HTMLResponse, dependencies=with_bar)
def email_code(request: Request, form: Form, session: DbSession, now: Now) -> Response:
    """Right code → the email is confirmed."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    account = current[1]
    errors = FormErrors()
    code = check_code(form, errors)
    request_id = form.get("request_id", "")[:100]
    if code is None:
        return _email_page(request, account, {}, errors, request_id, 422)
    policy = code_policy(settings_of(request))
    if not selfservice.finish_email_confirmation(
        session, now, policy, account, code.request_id, code.code
    ):
        errors.add("code", "Code incorrect ou expiré.")
        return _email_page(request, account, {}, errors, request_id, 422)
    return redirect("/me", f"Votre adresse {account.email} est confirmée.")


def _merge_page(
    request: Request, values: dict[str, str], errors: FormErrors, status: int = 200
) -> HTMLResponse:
    return render(request, "merge.html", {"values": values, "errors": errors}, status)


@router.get("/me/ajouter", response_class=HTMLResponse, dependencies=with_bar)
def merge_page(request: Request, session: DbSession, now: Now) -> Response:
    """« Ajouter des élèves depuis un autre compte »."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    if current[0].step == Step.change_password.value:
        return redirect("/mot-de-passe")
    return _merge_page(request, {}, FormErrors())


@router.post("/me/ajouter", response_class=HTMLResponse, dependencies=with_bar)
def merge_submit(
    request: Request, form: Form, session: DbSession, now: Now, passwords: PasswordsDep
) -> Response:
    """With the other account's identifiant and letter password; names must be identical."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    login_session, account = current
    if login_session.step == Step.change_password.value:
        return redirect("/mot-de-passe")
    values = keep(form, "password")
    model, errors = validate(MergeIn, form, TRANSLATIONS)
    if model is None:
        return _merge_page(request, values, errors, 422)
    if not flows.client_allowed(request, session, now, settings_of(request), "merge"):
        errors.add("_form", "Trop de tentatives : réessayez plus tard.")
        return _merge_page(request, values, errors, 429)
    try:
        moved = parent.merge_from(
            session, now, passwords, account, model.identifiant, model.password
        )
    except Conflict:
        errors.add(
            "_form",
            "Les nom et prénom de l'autre compte diffèrent des vôtres : l'école doit d'abord "
            "corriger ONDE.",
        )
        return _merge_page(request, values, errors, 409)
    if moved is None:
        errors.add("password", "Identifiant ou mot de passe provisoire incorrect.")
        return _merge_page(request, values, errors, 422)
    if not moved:
        return redirect("/me", "Aucun nouvel élève n'a été ajouté à votre compte.")
    names = ", ".join(f"{c.prenoms} {c.nom}" for c in moved)
    added = plural_fr(len(moved), "élève ajouté", "élèves ajoutés")
    return redirect("/me", f"{added} à votre compte : {names}.")
