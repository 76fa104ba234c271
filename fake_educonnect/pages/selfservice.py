"""« Identifiant oublié ? » and « Mot de passe oublié ? »: answers that never tell who exists."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from edusim_common.deps import DbSession, Now
from edusim_common.web.forms import FormErrors, redirect, validate
from fake_educonnect.deps import PasswordsDep
from fake_educonnect.pages import flows
from fake_educonnect.pages.activation import check_code
from fake_educonnect.pages.common import (
    TRANSLATIONS,
    Form,
    check_new_password,
    render,
    router,
    settings_of,
    typed_code,
    with_bar,
)
from fake_educonnect.routes.selfservice import CODE_SENT, IDENTIFIANT_SENT
from fake_educonnect.schemas import IdentifiantByEmail, IdentifiantBySms, PasswordResetStart
from fake_educonnect.service.selfservice import SelfServiceChannel


@router.get("/identifiant-oublie", response_class=HTMLResponse, dependencies=with_bar)
def forgotten_identifiant(request: Request) -> HTMLResponse:
    """By SMS, by email, through FranceConnect, or contact the school."""
    return render(request, "forgot_identifiant.html")


def _identifiant_form(
    request: Request, channel: str, values: dict[str, str], errors: FormErrors, status: int = 200
) -> HTMLResponse:
    context = {"channel": channel, "values": values, "errors": errors}
    return render(request, "forgot_identifiant_form.html", context, status)


@router.get("/identifiant-oublie/sms", response_class=HTMLResponse, dependencies=with_bar)
def identifiant_sms_form(request: Request) -> HTMLResponse:
    """Family name, first name and the mobile of the account."""
    return _identifiant_form(request, "sms", {}, FormErrors())


@router.get("/identifiant-oublie/email", response_class=HTMLResponse, dependencies=with_bar)
def identifiant_email_form(request: Request) -> HTMLResponse:
    """Family name, first name and the confirmed email of the account."""
    return _identifiant_form(request, "email", {}, FormErrors())


def _uniform(request: Request, message: str) -> HTMLResponse:
    return render(request, "message.html", {"title": "Demande enregistrée", "message": message})


@router.post("/identifiant-oublie/sms", response_class=HTMLResponse, dependencies=with_bar)
def identifiant_sms_submit(request: Request, form: Form, session: DbSession, now: Now) -> Response:
    """Same answer whatever matched; an SMS only for an exact match."""
    model, errors = validate(IdentifiantBySms, form, TRANSLATIONS)
    mobile = ""
    try:
        mobile = flows.mobile_or_error(form.get("mobile", ""))
    except ValueError:
        errors.add("mobile", "Numéro de mobile invalide (exemple : 06 12 34 56 78).")
    if model is None or errors:
        return _identifiant_form(request, "sms", form, errors, 422)
    try:
        flows.identifiant_by_sms(
            request, session, now, settings_of(request), model.nom, model.prenom, mobile
        )
    except flows.Refused as refused:
        errors.add("_form", refused.message)
        return _identifiant_form(request, "sms", form, errors, refused.status)
    return _uniform(request, IDENTIFIANT_SENT)


@router.post("/identifiant-oublie/email", response_class=HTMLResponse, dependencies=with_bar)
def identifiant_email_submit(
    request: Request, form: Form, session: DbSession, now: Now
) -> Response:
    """Only a confirmed email gets an answer; the page says the same either way."""
    model, errors = validate(IdentifiantByEmail, form, TRANSLATIONS)
    if model is None:
        return _identifiant_form(request, "email", form, errors, 422)
    try:
        flows.identifiant_by_email(
            request, session, now, settings_of(request), model.nom, model.prenom, str(model.email)
        )
    except flows.Refused as refused:
        errors.add("_form", refused.message)
        return _identifiant_form(request, "email", form, errors, refused.status)
    return _uniform(request, IDENTIFIANT_SENT)


def _password_form(
    request: Request, values: dict[str, str], errors: FormErrors, status: int = 200
) -> HTMLResponse:
    context = {"values": values, "errors": errors}
    return render(request, "forgot_password.html", context, status)


@router.get("/mot-de-passe-oublie", response_class=HTMLResponse, dependencies=with_bar)
def forgotten_password(request: Request) -> HTMLResponse:
    """« Je change mon mot de passe » : the identifiant, then a code by SMS or by email."""
    return _password_form(request, {}, FormErrors())


def _reset_code_form(
    request: Request,
    request_id: str,
    errors: FormErrors,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "request_id": request_id,
        "message": CODE_SENT,
        "errors": errors,
        "values": values or {},
    }
    return render(request, "reset_code.html", context, status)


@router.post("/mot-de-passe-oublie", response_class=HTMLResponse, dependencies=with_bar)
def forgotten_password_submit(
    request: Request, form: Form, session: DbSession, now: Now
) -> Response:
    """A code by SMS or confirmed email; the next page is the same whatever matched."""
    data = {"identifiant": form.get("identifiant", ""), "channel": form.get("channel", "sms")}
    model, errors = validate(PasswordResetStart, data, TRANSLATIONS)
    if model is None:
        if "channel" in errors:
            errors.add("_form", "Choisissez « Par SMS » ou « Par mail ».")
        return _password_form(request, form, errors, 422)
    try:
        request_id = flows.start_password_reset(
            request,
            session,
            now,
            settings_of(request),
            model.identifiant,
            SelfServiceChannel(model.channel),
        )
    except flows.Refused as refused:
        errors.add("_form", refused.message)
        return _password_form(request, form, errors, refused.status)
    return _reset_code_form(request, request_id, FormErrors())


@router.post("/mot-de-passe-oublie/code", response_class=HTMLResponse, dependencies=with_bar)
def forgotten_password_code(
    request: Request, form: Form, session: DbSession, now: Now, passwords: PasswordsDep
) -> Response:
    """Right code → the new password works at once."""
    errors = FormErrors()
    code = check_code(form, errors)
    check_new_password(form, errors)
    request_id = form.get("request_id", "")[:100]
    if code is None or errors:
        return _reset_code_form(request, request_id, errors, 422, values=typed_code(form, errors))
    try:
        flows.finish_password_reset(
            request,
            session,
            now,
            settings_of(request),
            passwords,
            code.request_id,
            code.code,
            form["password"],
        )
    except flows.Refused as refused:
        errors.add("code", refused.message)
        return _reset_code_form(request, request_id, errors, refused.status)
    return redirect(
        "/login", "Votre mot de passe a été changé : connectez-vous avec le nouveau mot de passe."
    )
