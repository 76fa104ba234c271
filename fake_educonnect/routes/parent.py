"""The parent's side: SMS activation, login, password, first-login attachment, "mes enfants"."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from edusim_common.db import read_session, unit_of_work
from edusim_common.deps import DbSession, Now
from edusim_common.phones import normalize_phone
from edusim_common.problems import (
    PROBLEM_RESPONSES,
    RATE_LIMITED,
    Conflict,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
    render,
)
from edusim_common.web.plural import plural_fr
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.deps import IdPath, PasswordsDep, Settings
from fake_educonnect.models import (
    Account,
    AccountState,
    Attachment,
    AttachmentStatus,
    Child,
    LoginSession,
    Origin,
)
from fake_educonnect.schemas import (
    AttachmentPublic,
    BirthDateIn,
    CodeIn,
    DecisionOut,
    EmailIn,
    LoginIn,
    Me,
    MergeIn,
    MergeOut,
    PasswordChange,
    Proposal,
    RequestAccepted,
    SessionOpened,
    SmsActivationFinish,
    SmsActivationStart,
)
from fake_educonnect.security import Passwords, check_password_rule
from fake_educonnect.service import activation, parent, selfservice
from fake_educonnect.service.accounts import attachments_of
from fake_educonnect.service.guards import CodePolicy, Limit, release, reserve, take
from fake_educonnect.service.parent import Decision, PasswordRule, Step
from fake_educonnect.service.views import attachment_public

router = APIRouter(tags=["parent"], responses=PROBLEM_RESPONSES)
_bearer = HTTPBearer(auto_error=False, description="A parent's session token.")

SMS_SENT = (
    "Si les informations saisies correspondent à un compte EduConnect à activer, un code vous a "
    "été envoyé par SMS."
)
BAD_CODE = "Code incorrect ou expiré."
BAD_LOGIN = "Identifiant ou mot de passe incorrect."
TOO_MANY = "Trop de tentatives : réessayez plus tard."


def code_policy(settings: EduConnectSettings) -> CodePolicy:
    """How codes live, from the settings."""
    return CodePolicy(
        secret_key=settings.secret_key,
        ttl=timedelta(minutes=settings.code_ttl_minutes),
        max_tries=settings.code_max_tries,
    )


def client_limit(settings: EduConnectSettings) -> Limit:
    """Tries per client per window."""
    return Limit(
        settings.requests_limit_per_client, timedelta(minutes=settings.rate_window_minutes)
    )


def client_key(request: Request, action: str) -> str:
    """The rate-limit key of the calling client for ``action``."""
    host = request.client.host if request.client else "unknown"
    return f"client:{host}:{action}"


def opened(opened_session: parent.Opened, account: Account) -> SessionOpened:
    """The public shape of a new session."""
    return SessionOpened(
        session_token=opened_session.token,
        identifiant=account.identifiant,
        step=opened_session.login.step,
        expires_at=opened_session.login.expires_at,
    )


def current_login(
    session: DbSession,
    now: Now,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> tuple[LoginSession, Account]:
    """The logged-in parent, from the session token (refused once the account is deactivated)."""
    found = parent.logged_in(session, now, credentials.credentials) if credentials else None
    if found is None:
        raise Unauthorized("no session, or the session has expired: log in again")
    return found


Parent = Annotated[tuple[LoginSession, Account], Depends(current_login)]


def _past_password_step(login: LoginSession) -> None:
    if login.step == Step.change_password.value:
        raise Conflict("choose a new password first (POST /api/v1/me/password)")


@router.post(
    "/activation/sms",
    status_code=202,
    summary="Activate by SMS: ask for a code",
    responses=RATE_LIMITED,
)
def start_sms_activation(
    body: SmsActivationStart, request: Request, session: DbSession, now: Now, settings: Settings
) -> Any:
    """Always the same answer; a code reaches the outbox only for an exact match."""
    try:
        mobile = normalize_phone(body.mobile, mobile=True)
    except ValueError as exc:
        raise InvalidInput.for_field("body.mobile", str(exc)) from exc
    window = timedelta(minutes=settings.rate_window_minutes)
    if not take(
        session, now, client_key(request, "activation"), client_limit(settings)
    ) or not take(session, now, f"sms:{mobile}", Limit(5, window)):
        return render(TooManyRequests(TOO_MANY), request)
    request_id = activation.start_sms_activation(
        session, now, code_policy(settings), body.nom, body.prenom, mobile
    )
    return RequestAccepted(request_id=request_id, message=SMS_SENT)


@router.post(
    "/activation/sms/confirm",
    summary="Activate by SMS: give the code and choose a password",
    response_model=SessionOpened,
    responses=RATE_LIMITED,
)
def finish_sms_activation(
    body: SmsActivationFinish,
    request: Request,
    session: DbSession,
    now: Now,
    settings: Settings,
    passwords: PasswordsDep,
) -> Any:
    """Right code → active account (origin `Responsable`), identifiant shown, session opened."""
    check_password_rule(body.password)
    if not take(session, now, client_key(request, "code"), client_limit(settings)):
        return render(TooManyRequests(TOO_MANY), request)
    account = activation.finish_sms_activation(
        session, now, code_policy(settings), passwords, body.request_id, body.code, body.password
    )
    if account is None:
        return render(InvalidInput.for_field("body.code", BAD_CODE), request)
    return open_for(session, now, account, settings)


def open_for(
    session: Session, now: datetime, account: Account, settings: EduConnectSettings
) -> SessionOpened:
    """Log ``account`` in and answer with the new session."""
    new = parent.open_session(
        session, now, account, timedelta(minutes=settings.session_ttl_minutes)
    )
    return opened(new, account)


@router.post(
    "/login",
    summary="Log in with an identifiant and a password",
    response_model=SessionOpened,
    responses=RATE_LIMITED,
)
def login(
    body: LoginIn,
    request: Request,
    now: Now,
    settings: Settings,
    passwords: PasswordsDep,
) -> Any:
    """A school letter's temporary password works once, then a new password must be chosen.

    The password check (argon2, slow on purpose) runs outside the service's write lock, between
    two short write transactions: counting the try, then recording the outcome. So logins of
    different parents run side by side. Each try is counted as a failure *before* the check (in
    the same write transaction as the limit check, so concurrent tries cannot slip past the
    limit together) and given back if the password was right.
    """
    engine = request.app.state.engine
    identifiant = body.identifiant.strip().lower()
    failures = f"login-fail:{identifiant}"
    window = timedelta(minutes=settings.rate_window_minutes)
    with unit_of_work(engine) as session:
        attempt = None
        if take(session, now, client_key(request, "login"), client_limit(settings)):
            attempt = reserve(
                session, now, failures, Limit(settings.login_limit_per_account, window)
            )
    if attempt is None:
        return render(TooManyRequests(TOO_MANY), request)
    with read_session(engine) as reading:
        found = parent.verify_login(reading, passwords, now, identifiant, body.password)
    with unit_of_work(engine) as session:
        if found is None:
            return render(Unauthorized(BAD_LOGIN), request)
        release(session, attempt)
        account = session.get(Account, found[0].id)
        if account is None or account.state == AccountState.desactive.value:
            return render(
                Conflict("this account is deactivated: no enrolled child is attached to it"),
                request,
            )
        if found[1] is not None:
            account.must_change_password = True
        return open_for(session, now, account, settings)


@router.post("/logout", status_code=204, summary="Close the session")
def logout(current: Parent, now: Now) -> None:
    """The session token stops working (the session is ended, not deleted)."""
    parent.end_session(current[0], now)


@router.get("/me", summary="Who is logged in, and what they must do next")
def me(current: Parent) -> Me:
    """The parent's account and the current step."""
    login_session, account = current
    return Me(
        identifiant=account.identifiant,
        nom=account.nom,
        prenom=account.prenom,
        state=AccountState(account.state),
        origin=Origin(account.origin) if account.origin else None,
        email=account.email,
        email_confirmed=account.email_confirmed,
        has_password=account.password_hash is not None,
        step=login_session.step,
    )


class PasswordCheck(StrEnum):
    """The outcome of the checks before a password change."""

    allowed = "allowed"
    wrong_current = "wrong_current"
    too_many = "too_many"


def check_password_change(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    passwords: Passwords,
    current: tuple[LoginSession, Account],
    current_password: str,
) -> PasswordCheck:
    """Count the try, then check the current password where one is asked.

    Every try counts for the client (as the other parent actions). A current password is a
    secret that can be guessed, so a try at it counts as a failed login of the account (the
    same key and limit as ``POST /login``), given back when it was right: a session cannot be
    used to guess more than the login page would let. No current password is asked after a
    school letter (forced change) nor for an account that has none yet (FranceConnect only).
    """
    login_session, account = current
    if not take(session, now, client_key(request, "password"), client_limit(settings)):
        return PasswordCheck.too_many
    if parent.password_rule(account, login_session) is not PasswordRule.change:
        return PasswordCheck.allowed
    window = timedelta(minutes=settings.rate_window_minutes)
    attempt = reserve(
        session,
        now,
        f"login-fail:{account.identifiant}",
        Limit(settings.login_limit_per_account, window),
    )
    if attempt is None:
        return PasswordCheck.too_many
    if not passwords.verify(account.password_hash, current_password):
        return PasswordCheck.wrong_current
    release(session, attempt)
    return PasswordCheck.allowed


@router.post(
    "/me/password",
    summary="Choose a new password",
    response_model=Me,
    responses=RATE_LIMITED,
)
def change_password(
    body: PasswordChange,
    request: Request,
    current: Parent,
    session: DbSession,
    now: Now,
    settings: Settings,
    passwords: PasswordsDep,
) -> Any:
    """The current password is asked, except after a school letter (the forced change) and for
    an account that has none yet (opened with FranceConnect): there the parent's own session
    proves her, and she sets a first password. Wrong current passwords count as failed logins.
    """
    login_session, account = current
    check_password_rule(body.new_password, "body.new_password")
    asked = parent.password_rule(account, login_session) is PasswordRule.change
    if asked and body.current_password is None:  # not a wrong try: nothing to count
        raise InvalidInput.for_field(
            "body.current_password", "required: this account's current password is asked"
        )
    checked = check_password_change(
        request, session, now, settings, passwords, current, body.current_password or ""
    )
    if checked is PasswordCheck.too_many:
        return render(TooManyRequests(TOO_MANY), request)
    if checked is PasswordCheck.wrong_current:
        return render(
            InvalidInput.for_field("body.current_password", "wrong current password"), request
        )
    parent.set_password(session, passwords, now, account, login_session, body.new_password)
    return me((login_session, account))


@router.get("/me/proposals", summary="Children proposed for attachment at this login")
def proposals(current: Parent, session: DbSession) -> list[Proposal]:
    """Proposals are shown at the first login after they appear, and only then."""
    login_session, _ = current
    _past_password_step(login_session)
    return [
        Proposal(
            attachment_id=a.id or 0,
            prenoms=c.prenoms,
            nom=c.nom,
            school_uai=c.school_uai,
            level=c.level,
            tries_left=a.tries_left,
        )
        for a, c in parent.presented_proposals(session, login_session)
    ]


def _proposal(
    session: Session, login_session: LoginSession, attachment_id: int
) -> tuple[Attachment, Child]:
    _past_password_step(login_session)
    for attachment, child in parent.presented_proposals(session, login_session):
        if attachment.id == attachment_id:
            return attachment, child
    raise NotFound(f"no open proposal {attachment_id} at this login")


_MESSAGES = {
    Decision.attached: "L'élève est rattaché à votre compte.",
    Decision.wrong_date: "La date de naissance ne correspond pas.",
    Decision.blocked: "Date de naissance erronée : le rattachement est bloqué. Contactez l'école.",
    Decision.refused: "C'est noté : l'école en est informée.",
}


def _decision(
    login_session: LoginSession, attachment: Attachment, decision: Decision
) -> DecisionOut:
    return DecisionOut(
        attachment_id=attachment.id or 0,
        decision=decision.value,
        status=AttachmentStatus(attachment.status),
        tries_left=attachment.tries_left,
        message=_MESSAGES[decision],
        step=login_session.step,
    )


@router.post(
    "/me/proposals/{attachment_id}/confirm",
    summary="Confirm a child with its birth date",
    response_model=DecisionOut,
    responses=RATE_LIMITED,
)
def confirm(
    attachment_id: IdPath,
    body: BirthDateIn,
    request: Request,
    current: Parent,
    session: DbSession,
    now: Now,
    settings: Settings,
) -> Any:
    """Right date → attached; wrong date → blocked once the tries are spent (default 1)."""
    login_session, account = current
    window = timedelta(minutes=settings.rate_window_minutes)
    if not take(session, now, client_key(request, "birthdate"), client_limit(settings)) or not take(
        session, now, f"birthdate:{account.id}", Limit(20, window)
    ):
        return render(TooManyRequests(TOO_MANY), request)
    attachment, child = _proposal(session, login_session, attachment_id)
    decision = parent.confirm_child(session, now, login_session, attachment, child, body.birth_date)
    return _decision(login_session, attachment, decision)


@router.post(
    "/me/proposals/{attachment_id}/refuse",
    summary="« Je ne suis pas le représentant légal de cet élève »",
)
def refuse(attachment_id: IdPath, current: Parent, session: DbSession, now: Now) -> DecisionOut:
    """The link is refused and the school is told (a message in the outbox)."""
    login_session, account = current
    attachment, child = _proposal(session, login_session, attachment_id)
    decision = parent.refuse_child(session, now, login_session, attachment, child, account)
    return _decision(login_session, attachment, decision)


@router.get("/me/children", summary="« Mes enfants »: every attachment and its status")
def children(current: Parent, session: DbSession) -> list[AttachmentPublic]:
    """Attached children, and those proposed, blocked, refused or removed."""
    login_session, account = current
    _past_password_step(login_session)
    return [attachment_public(a, c) for a, c in attachments_of(session, account.id or 0)]


@router.post("/me/email", status_code=202, summary="Record an email and send it a code")
def change_email(
    body: EmailIn, current: Parent, session: DbSession, now: Now, settings: Settings
) -> RequestAccepted:
    """The email stays unconfirmed (no self-service by email) until its code comes back."""
    _, account = current
    request_id = selfservice.start_email_confirmation(
        session, now, code_policy(settings), account, str(body.email)
    )
    return RequestAccepted(request_id=request_id, message="Un code a été envoyé à cette adresse.")


@router.post("/me/email/confirm", summary="Confirm the email with its code", response_model=Me)
def confirm_email(
    body: CodeIn,
    request: Request,
    current: Parent,
    session: DbSession,
    now: Now,
    settings: Settings,
) -> Any:
    """Right code → the email is confirmed."""
    login_session, account = current
    if not selfservice.finish_email_confirmation(
        session, now, code_policy(settings), account, body.request_id, body.code
    ):
        return render(InvalidInput.for_field("body.code", BAD_CODE), request)
    return me((login_session, account))


@router.post(
    "/me/merge",
    summary="« Ajouter des élèves depuis un autre compte »",
    response_model=MergeOut,
    responses=RATE_LIMITED,
)
def merge(
    body: MergeIn,
    request: Request,
    current: Parent,
    session: DbSession,
    now: Now,
    settings: Settings,
    passwords: PasswordsDep,
) -> Any:
    """With the other account's identifiant and letter password; names must be identical."""
    login_session, account = current
    _past_password_step(login_session)
    if not take(session, now, client_key(request, "merge"), client_limit(settings)):
        return render(TooManyRequests(TOO_MANY), request)
    moved = parent.merge_from(session, now, passwords, account, body.identifiant, body.password)
    if moved is None:
        return render(
            InvalidInput.for_field(
                "body.password", "identifiant ou mot de passe provisoire incorrect"
            ),
            request,
        )
    return MergeOut(
        added=[f"{c.prenoms} {c.nom}" for c in moved],
        message=f"{plural_fr(len(moved), 'élève ajouté', 'élèves ajoutés')} à votre compte.",
    )
