"""Self-service and the fake FranceConnect."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlmodel import Session, col

from edusim_common.deps import DbSession, Now
from edusim_common.phones import normalize_phone
from edusim_common.problems import (
    PROBLEM_RESPONSES,
    RATE_LIMITED,
    InvalidInput,
    NotFound,
    TooManyRequests,
    render,
)
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.deps import PasswordsDep, ServiceOnly, Settings
from fake_educonnect.models import Account, FranceConnectIdentity
from fake_educonnect.routes.parent import (
    BAD_CODE,
    TOO_MANY,
    client_key,
    client_limit,
    code_policy,
    open_for,
)
from fake_educonnect.schemas import (
    CodeIn,
    FranceConnectIdentityIn,
    FranceConnectIdentityPublic,
    FranceConnectLogin,
    FranceConnectResult,
    IdentifiantByEmail,
    IdentifiantBySms,
    Message,
    PasswordResetFinish,
    PasswordResetStart,
    RequestAccepted,
    SessionOpened,
)
from fake_educonnect.security import check_password_rule
from fake_educonnect.service import activation, franceconnect, selfservice
from fake_educonnect.service.guards import Limit, take

router = APIRouter(responses=PROBLEM_RESPONSES)

IDENTIFIANT_SENT = (
    "Si ces informations correspondent à un compte EduConnect, votre identifiant vous a été "
    "envoyé. Sinon, contactez l'école ou l'établissement de vos enfants."
)
CODE_SENT = (
    "Si cet identifiant correspond à un compte actif joignable par ce moyen, un code vous a été "
    "envoyé. Sinon, contactez l'école ou l'établissement de vos enfants."
)


def _limited(
    request: Request, session: Session, now: datetime, settings: EduConnectSettings, action: str
) -> bool:
    return not take(session, now, client_key(request, action), client_limit(settings))


@router.post(
    "/selfservice/identifiant/sms", status_code=202, tags=["self-service"],
    summary="Identifiant oublié: by SMS", response_model=Message,
    responses=RATE_LIMITED,
)  # fmt: skip
def identifiant_by_sms(
    body: IdentifiantBySms, request: Request, session: DbSession, now: Now, settings: Settings
) -> Any:
    """Same answer whatever matched; an SMS only for an exact match."""
    try:
        mobile = normalize_phone(body.mobile, mobile=True)
    except ValueError as exc:
        raise InvalidInput.for_field("body.mobile", str(exc)) from exc
    if _limited(request, session, now, settings, "selfservice"):
        return render(TooManyRequests(TOO_MANY), request)
    selfservice.send_identifiant_by_sms(session, now, body.nom, body.prenom, mobile)
    return Message(message=IDENTIFIANT_SENT)


@router.post(
    "/selfservice/identifiant/email", status_code=202, tags=["self-service"],
    summary="Identifiant oublié: by confirmed email", response_model=Message,
    responses=RATE_LIMITED,
)  # fmt: skip
def identifiant_by_email(
    body: IdentifiantByEmail, request: Request, session: DbSession, now: Now, settings: Settings
) -> Any:
    """Only a confirmed email gets an answer; the response is the same either way."""
    if _limited(request, session, now, settings, "selfservice"):
        return render(TooManyRequests(TOO_MANY), request)
    selfservice.send_identifiant_by_email(session, now, body.nom, body.prenom, str(body.email))
    return Message(message=IDENTIFIANT_SENT)


@router.post(
    "/selfservice/password", status_code=202, tags=["self-service"],
    summary="Mot de passe oublié: ask for a code", response_model=RequestAccepted,
    responses=RATE_LIMITED,
)  # fmt: skip
def password_start(
    body: PasswordResetStart, request: Request, session: DbSession, now: Now, settings: Settings
) -> Any:
    """A code by SMS or by confirmed email; a request id whatever matched."""
    target = f"reset:{body.identifiant.strip().lower()}"
    window = timedelta(minutes=settings.rate_window_minutes)
    if _limited(request, session, now, settings, "selfservice") or not take(
        session, now, target, Limit(5, window)
    ):
        return render(TooManyRequests(TOO_MANY), request)
    request_id = selfservice.start_password_reset(
        session,
        now,
        code_policy(settings),
        body.identifiant,
        selfservice.SelfServiceChannel(body.channel),
    )
    return RequestAccepted(request_id=request_id, message=CODE_SENT)


@router.post(
    "/selfservice/password/confirm", tags=["self-service"],
    summary="Mot de passe oublié: the code and the new password", response_model=Message,
    responses=RATE_LIMITED,
)  # fmt: skip
def password_finish(
    body: PasswordResetFinish,
    request: Request,
    session: DbSession,
    now: Now,
    settings: Settings,
    passwords: PasswordsDep,
) -> Any:
    """Right code → the new password works at once."""
    check_password_rule(body.new_password, "body.new_password")
    if _limited(request, session, now, settings, "code"):
        return render(TooManyRequests(TOO_MANY), request)
    account = selfservice.finish_password_reset(
        session,
        now,
        code_policy(settings),
        passwords,
        body.request_id,
        body.code,
        body.new_password,
    )
    if account is None:
        return render(InvalidInput.for_field("body.code", BAD_CODE), request)
    return Message(message="Votre mot de passe a été changé.")


@router.post(
    "/franceconnect/identities", status_code=201, tags=["franceconnect"],
    summary="Add a test identity to the fake FranceConnect (service)",
    dependencies=[ServiceOnly],
)  # fmt: skip
def add_identity(
    body: FranceConnectIdentityIn, session: DbSession, now: Now
) -> FranceConnectIdentityPublic:
    """A person FranceConnect knows, with the pivot claims."""
    identity = franceconnect.add_identity(session, now, body)
    return FranceConnectIdentityPublic.model_validate(identity, from_attributes=True)


@router.get(
    "/franceconnect/identities", tags=["franceconnect"],
    summary="The test identities a tester can pick",
)  # fmt: skip
def list_identities(session: DbSession) -> list[FranceConnectIdentityPublic]:
    """Every test identity of the fake FranceConnect."""
    rows = session.scalars(select(FranceConnectIdentity).order_by(col(FranceConnectIdentity.sub)))
    return [FranceConnectIdentityPublic.model_validate(r, from_attributes=True) for r in rows]


@router.post(
    "/franceconnect/login", tags=["franceconnect"],
    summary="Come back from FranceConnect with the chosen identity",
    response_model=FranceConnectResult,
    responses=RATE_LIMITED,
)  # fmt: skip
def franceconnect_login(
    body: FranceConnectLogin, request: Request, session: DbSession, now: Now, settings: Settings
) -> Any:
    """Linked account → logged in; matched account → code by SMS; else "contact the school"."""
    identity = session.get(FranceConnectIdentity, body.sub)
    if identity is None:
        raise NotFound(f"no FranceConnect test identity {body.sub}")
    if _limited(request, session, now, settings, "franceconnect"):
        return render(TooManyRequests(TOO_MANY), request)
    start = activation.franceconnect_return(session, now, code_policy(settings), identity)
    if start.account is not None:
        return FranceConnectResult(
            status="logged_in",
            message=f"Bienvenue. Votre identifiant EduConnect est {start.account.identifiant}.",
            session=open_for(session, now, start.account, settings),
        )
    if start.request_id is None:
        return FranceConnectResult(
            status="no_account",
            message="Aucun compte EduConnect ne correspond à votre identité FranceConnect. "
            "Contactez l'école ou l'établissement de vos enfants.",
        )
    return FranceConnectResult(
        status="code_sent",
        message=f"Un code de confirmation a été envoyé au {start.masked_mobile}.",
        request_id=start.request_id,
        masked_mobile=start.masked_mobile,
    )


@router.post(
    "/franceconnect/confirm", tags=["franceconnect"],
    summary="Confirm the FranceConnect link with the SMS code", response_model=SessionOpened,
    responses=RATE_LIMITED,
)  # fmt: skip
def franceconnect_confirm(
    body: CodeIn, request: Request, session: DbSession, now: Now, settings: Settings
) -> Any:
    """Right code → the identity is linked, the account active (origin `FranceConnect`)."""
    if _limited(request, session, now, settings, "code"):
        return render(TooManyRequests(TOO_MANY), request)
    account: Account | None = activation.franceconnect_confirm(
        session, now, code_policy(settings), body.request_id, body.code
    )
    if account is None:
        return render(InvalidInput.for_field("body.code", BAD_CODE), request)
    return open_for(session, now, account, settings)
