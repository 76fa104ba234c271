"""« Je n'ai pas de compte » : activation by SMS, through the fake FranceConnect, by letter."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, StringConstraints
from sqlalchemy import select
from sqlmodel import col

from edusim_common.deps import DbSession, Now
from edusim_common.web.forms import FormErrors, validate
from fake_educonnect.deps import PasswordsDep
from fake_educonnect.models import FranceConnectIdentity
from fake_educonnect.pages import flows
from fake_educonnect.pages.common import (
    CODE_FORMAT,
    TRANSLATIONS,
    Form,
    check_new_password,
    render,
    router,
    settings_of,
    signed_in,
    typed_code,
    with_bar,
)
from fake_educonnect.routes.parent import SMS_SENT
from fake_educonnect.schemas import FranceConnectLogin, SmsActivationStart

RequestId = Annotated[str, StringConstraints(min_length=10, max_length=100)]
CodeText = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class CodeForm(BaseModel):
    """A pending request and the code received for it."""

    request_id: RequestId
    code: CodeText


def check_code(form: dict[str, str], errors: FormErrors) -> CodeForm | None:
    """The request id and the 6-digit code, or French errors next to the code field."""
    code = form.get("code", "").replace(" ", "")
    model, found = validate(CodeForm, {**form, "code": code})
    if model is None:
        if "request_id" in found:
            errors.add("_form", "Demande inconnue ou expirée : recommencez depuis le début.")
        if "code" in found:
            errors.add("code", CODE_FORMAT if code else "Ce champ est obligatoire.")
    return model


@router.get("/activation", response_class=HTMLResponse, dependencies=with_bar)
def activation_choice(request: Request) -> HTMLResponse:
    """« Je n'ai pas de compte » : FranceConnect (preferred), SMS, or the school's letter."""
    return render(request, "activation.html")


@router.get("/activation/courrier", response_class=HTMLResponse, dependencies=with_bar)
def activation_by_letter(request: Request) -> HTMLResponse:
    """How to use the letter the school printed."""
    return render(request, "activation_letter.html")


def _sms_form(
    request: Request, values: dict[str, str], errors: FormErrors, status: int = 200
) -> HTMLResponse:
    return render(request, "activation_sms.html", {"values": values, "errors": errors}, status)


@router.get("/activation/sms", response_class=HTMLResponse, dependencies=with_bar)
def sms_form(request: Request) -> HTMLResponse:
    """Family name, first name and mobile, as the school knows them (ONDE)."""
    return _sms_form(request, {}, FormErrors())


def _code_form(
    request: Request,
    request_id: str,
    errors: FormErrors,
    status: int = 200,
    message: str = SMS_SENT,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "request_id": request_id,
        "errors": errors,
        "message": message,
        "values": values or {},
    }
    return render(request, "activation_code.html", context, status)


@router.post("/activation/sms", response_class=HTMLResponse, dependencies=with_bar)
def sms_submit(request: Request, form: Form, session: DbSession, now: Now) -> Response:
    """Always the same answer; a code reaches the outbox only for an exact match."""
    model, errors = validate(SmsActivationStart, form, TRANSLATIONS)
    mobile = ""
    try:
        mobile = flows.mobile_or_error(form.get("mobile", ""))
    except ValueError as exc:
        errors.add("mobile", _french_phone(str(exc)))
    if model is None or errors:
        return _sms_form(request, form, errors, 422)
    try:
        request_id = flows.start_sms_activation(
            request, session, now, settings_of(request), model.nom, model.prenom, mobile
        )
    except flows.Refused as refused:
        errors.add("_form", refused.message)
        return _sms_form(request, form, errors, refused.status)
    return _code_form(request, request_id, FormErrors())


def _french_phone(reason: str) -> str:
    for english, french in TRANSLATIONS.items():
        if english in reason:
            return french
    return "Numéro de mobile invalide."


@router.post("/activation/sms/code", response_class=HTMLResponse, dependencies=with_bar)
def sms_code_submit(
    request: Request, form: Form, session: DbSession, now: Now, passwords: PasswordsDep
) -> Response:
    """Right code → the account is active (origin Responsable), the identifiant is shown."""
    errors = FormErrors()
    code = check_code(form, errors)
    check_new_password(form, errors)
    request_id = form.get("request_id", "")[:100]
    if code is None or errors:
        return _code_form(request, request_id, errors, 422, values=typed_code(form, errors))
    settings = settings_of(request)
    try:
        opened = flows.finish_sms_activation(
            request, session, now, settings, passwords, code.request_id, code.code, form["password"]
        )
    except flows.Refused as refused:
        errors.add("code", refused.message)
        return _code_form(request, request_id, errors, refused.status)
    return signed_in(opened, settings, "/bienvenue", "Votre compte EduConnect est activé.")


def _identities(session: DbSession) -> list[FranceConnectIdentity]:
    query = select(FranceConnectIdentity).order_by(
        col(FranceConnectIdentity.family_name), col(FranceConnectIdentity.given_name)
    )
    return list(session.scalars(query))


def _picker(
    request: Request, session: DbSession, errors: FormErrors, status: int = 200
) -> HTMLResponse:
    context = {"identities": _identities(session), "errors": errors}
    return render(request, "franceconnect.html", context, status)


@router.get("/franceconnect", response_class=HTMLResponse, dependencies=with_bar)
def franceconnect_picker(request: Request, session: DbSession) -> HTMLResponse:
    """The fake FranceConnect: pick one of the test identities."""
    return _picker(request, session, FormErrors())


def _fc_code_form(
    request: Request,
    request_id: str,
    masked: str | None,
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "request_id": request_id,
        "masked_mobile": masked,
        "errors": errors,
        "values": {},
    }
    return render(request, "franceconnect_code.html", context, status)


@router.post("/franceconnect", response_class=HTMLResponse, dependencies=with_bar)
def franceconnect_return(request: Request, form: Form, session: DbSession, now: Now) -> Response:
    """Back from FranceConnect: a linked account logs in; a matched one gets a code by SMS."""
    model, errors = validate(FranceConnectLogin, form)
    identity = session.get(FranceConnectIdentity, model.sub) if model else None
    if identity is None:
        errors = FormErrors()
        errors.add("_form", "Choisissez une des identités proposées.")
        return _picker(request, session, errors, 422)
    settings = settings_of(request)
    try:
        outcome = flows.franceconnect_return(request, session, now, settings, identity)
    except flows.Refused as refused:
        errors.add("_form", refused.message)
        return _picker(request, session, errors, refused.status)
    if outcome.opened is not None:
        message = f"Bienvenue. Votre identifiant EduConnect est {outcome.identifiant}."
        return signed_in(outcome.opened, settings, _after_fc(outcome.opened.step), message)
    if outcome.request_id is None:
        return render(request, "franceconnect_none.html", {"identity": identity})
    return _fc_code_form(request, outcome.request_id, outcome.masked_mobile, FormErrors())


def _after_fc(step: str | None) -> str:
    return "/rattachement" if step == "attachment" else "/me"


@router.post("/franceconnect/code", response_class=HTMLResponse, dependencies=with_bar)
def franceconnect_code(request: Request, form: Form, session: DbSession, now: Now) -> Response:
    """Right code → the identity is linked, the account active (origin FranceConnect)."""
    errors = FormErrors()
    code = check_code(form, errors)
    request_id = form.get("request_id", "")[:100]
    masked = form.get("masked_mobile", "")[:30] or None
    if code is None:
        return _fc_code_form(request, request_id, masked, errors, 422)
    settings = settings_of(request)
    try:
        opened = flows.franceconnect_confirm(
            request, session, now, settings, code.request_id, code.code
        )
    except flows.Refused as refused:
        errors.add("code", refused.message)
        return _fc_code_form(request, request_id, masked, errors, refused.status)
    return signed_in(
        opened, settings, "/bienvenue", "Votre compte EduConnect est relié à FranceConnect."
    )
