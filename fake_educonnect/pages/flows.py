"""The parent flows of the pages, composed of the same service functions and guards as the API.

Each function mirrors one API route (same rate-limit keys, same order of checks, same answers
whatever matched) and gives a French outcome instead of a problem+json body. A refused try raises
:class:`Refused`, which the page catches and answers with: the request's transaction still
commits the try it counted (a wrong code costs a try, a rate limit counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fastapi import Request
from sqlmodel import Session

from edusim_common.phones import normalize_phone
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.models import (
    Account,
    Attachment,
    Child,
    FranceConnectIdentity,
    LoginSession,
)
from fake_educonnect.pages.common import TOO_MANY_FR
from fake_educonnect.routes import parent as parent_routes
from fake_educonnect.routes.parent import client_key, client_limit, code_policy, open_for
from fake_educonnect.schemas import LoginIn, SessionOpened
from fake_educonnect.security import Passwords
from fake_educonnect.service import activation, parent, selfservice
from fake_educonnect.service.guards import Limit, take
from fake_educonnect.service.parent import Decision

BAD_LOGIN_FR = "Identifiant ou mot de passe incorrect."
DEACTIVATED_FR = (
    "Ce compte est désactivé : aucun enfant scolarisé n'y est rattaché. Contactez l'école."
)


class Refused(Exception):
    """A try refused with a French message (rate limit, wrong code…), already counted."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def mobile_or_error(raw: str) -> str:
    """The mobile in E.164; ``ValueError`` (English reason, translated by the page) if malformed."""
    return normalize_phone(raw, mobile=True)


def _window(settings: EduConnectSettings) -> timedelta:
    return timedelta(minutes=settings.rate_window_minutes)


def client_allowed(
    request: Request, session: Session, now: datetime, settings: EduConnectSettings, action: str
) -> bool:
    """Count one try of this client for ``action``; False once its limit is reached."""
    return take(session, now, client_key(request, action), client_limit(settings))


def guard(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    action: str,
    also: tuple[str, Limit] | None = None,
) -> None:
    """Count this client's try for ``action`` (and one on ``also``'s key): 429 past a limit."""
    if not client_allowed(request, session, now, settings, action) or (
        also is not None and not take(session, now, *also)
    ):
        raise Refused(TOO_MANY_FR, 429)


def login(
    request: Request,
    now: datetime,
    settings: EduConnectSettings,
    passwords: Passwords,
    body: LoginIn,
) -> SessionOpened:
    """``POST /login`` itself: its transactions, limits and argon2 check outside the write lock.

    The route owns that orchestration (engine-level transactions, not one request session), so
    the page calls it rather than copying it. Raises :class:`Refused` when the login is refused.
    """
    answer = parent_routes.login(body, request, now, settings, passwords)
    if isinstance(answer, SessionOpened):
        return answer
    status = getattr(answer, "status_code", 500)
    if status == 429:
        raise Refused(TOO_MANY_FR, 429)
    if status == 409:
        raise Refused(DEACTIVATED_FR, 409)
    raise Refused(BAD_LOGIN_FR, 401)


def start_sms_activation(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    nom: str,
    prenom: str,
    mobile: str,
) -> str:
    """As ``POST /activation/sms``: a request id whatever matched (the code goes to the outbox)."""
    guard(
        request,
        session,
        now,
        settings,
        "activation",
        (f"sms:{mobile}", Limit(5, _window(settings))),
    )
    return activation.start_sms_activation(session, now, code_policy(settings), nom, prenom, mobile)


def finish_sms_activation(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    passwords: Passwords,
    request_id: str,
    code: str,
    password: str,
) -> SessionOpened:
    """As ``POST /activation/sms/confirm``: right code → active account, session opened."""
    guard(request, session, now, settings, "code")
    account = activation.finish_sms_activation(
        session, now, code_policy(settings), passwords, request_id, code, password
    )
    if account is None:
        raise Refused("Code incorrect ou expiré.")
    return open_for(session, now, account, settings)


@dataclass(frozen=True)
class FranceConnectOutcome:
    """Where the return from the fake FranceConnect leads."""

    opened: SessionOpened | None = None
    identifiant: str | None = None
    request_id: str | None = None
    masked_mobile: str | None = None


def franceconnect_return(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    identity: FranceConnectIdentity,
) -> FranceConnectOutcome:
    """As ``POST /franceconnect/login``: logged in, a code sent, or no account."""
    guard(request, session, now, settings, "franceconnect")
    start = activation.franceconnect_return(session, now, code_policy(settings), identity)
    if start.account is not None:
        opened = open_for(session, now, start.account, settings)
        return FranceConnectOutcome(opened=opened, identifiant=start.account.identifiant)
    return FranceConnectOutcome(request_id=start.request_id, masked_mobile=start.masked_mobile)


def franceconnect_confirm(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    request_id: str,
    code: str,
) -> SessionOpened:
    """As ``POST /franceconnect/confirm``: right code → identity linked, session opened."""
    guard(request, session, now, settings, "code")
    account = activation.franceconnect_confirm(
        session, now, code_policy(settings), request_id, code
    )
    if account is None:
        raise Refused("Code incorrect ou expiré.")
    return open_for(session, now, account, settings)


def identifiant_by_sms(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    nom: str,
    prenom: str,
    mobile: str,
) -> None:
    """As ``POST /selfservice/identifiant/sms``: an SMS only for an exact match."""
    guard(request, session, now, settings, "selfservice")
    selfservice.send_identifiant_by_sms(session, now, nom, prenom, mobile)


def identifiant_by_email(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    nom: str,
    prenom: str,
    email: str,
) -> None:
    """As ``POST /selfservice/identifiant/email``: confirmed emails only."""
    guard(request, session, now, settings, "selfservice")
    selfservice.send_identifiant_by_email(session, now, nom, prenom, email)


def start_password_reset(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    identifiant: str,
    channel: selfservice.SelfServiceChannel,
) -> str:
    """As ``POST /selfservice/password``: a request id whatever matched."""
    target = f"reset:{identifiant.strip().lower()}"
    guard(request, session, now, settings, "selfservice", (target, Limit(5, _window(settings))))
    return selfservice.start_password_reset(
        session, now, code_policy(settings), identifiant, channel
    )


def finish_password_reset(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    passwords: Passwords,
    request_id: str,
    code: str,
    new_password: str,
) -> None:
    """As ``POST /selfservice/password/confirm``: right code → the new password works."""
    guard(request, session, now, settings, "code")
    account = selfservice.finish_password_reset(
        session, now, code_policy(settings), passwords, request_id, code, new_password
    )
    if account is None:
        raise Refused("Code incorrect ou expiré.")


def confirm_child(
    request: Request,
    session: Session,
    now: datetime,
    settings: EduConnectSettings,
    login_session: LoginSession,
    account: Account,
    attachment: Attachment,
    child: Child,
    birth_date: date,
) -> Decision:
    """As ``POST /me/proposals/{id}/confirm``: right date → attached, wrong → blocked at zero."""
    guard(
        request,
        session,
        now,
        settings,
        "birthdate",
        (f"birthdate:{account.id}", Limit(20, _window(settings))),
    )
    return parent.confirm_child(session, now, login_session, attachment, child, birth_date)


def open_proposal(
    session: Session, login_session: LoginSession, attachment_id: int
) -> tuple[Attachment, Child] | None:
    """The proposal shown at this login and still open, or None (as the API's lookup)."""
    for attachment, child in parent.presented_proposals(session, login_session):
        if attachment.id == attachment_id:
            return attachment, child
    return None
