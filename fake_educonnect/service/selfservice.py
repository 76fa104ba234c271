"""Self-service: forgotten identifiant, forgotten password, email confirmation.

Every answer to an anonymous caller is the same whatever matched; a message reaches the outbox only
when an account matches exactly. An unconfirmed email gives no self-service by email.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import Session, col

from fake_educonnect.models import Account, AccountState
from fake_educonnect.security import Passwords
from fake_educonnect.service import outbox
from fake_educonnect.service.accounts_common import match_key
from fake_educonnect.service.activation import end_sessions
from fake_educonnect.service.guards import CodePolicy, decoy_request_id, issue_code, redeem_code

PASSWORD_RESET = "password_reset"
EMAIL_CONFIRMATION = "email_confirmation"
KNOWN_STATES = (AccountState.non_active.value, AccountState.active.value)


class SelfServiceChannel(StrEnum):
    """Where the answer goes."""

    sms = "sms"
    email = "email"


def _by_name(session: Session, nom: str, prenom: str) -> list[Account]:
    query = select(Account).where(
        col(Account.match_key) == match_key(nom, prenom),
        col(Account.state).in_(KNOWN_STATES),
    )
    return list(session.scalars(query))


def send_identifiant_by_sms(
    session: Session, now: datetime, nom: str, prenom: str, mobile: str
) -> None:
    """Text the identifiant to the mobile of the account with these names, if exactly one."""
    found = [a for a in _by_name(session, nom, prenom) if a.mobile == mobile]
    if len(found) == 1:
        outbox.send(
            session,
            now,
            outbox.Channel.sms,
            mobile,
            "Identifiant EduConnect",
            f"EduConnect : votre identifiant est {found[0].identifiant}.",
            account_id=found[0].id,
        )


def send_identifiant_by_email(
    session: Session, now: datetime, nom: str, prenom: str, email: str
) -> None:
    """Email the identifiant to the confirmed address of the account with these names."""
    wanted = email.strip().lower()
    found = [
        a
        for a in _by_name(session, nom, prenom)
        if a.email_confirmed and (a.email or "").lower() == wanted
    ]
    if len(found) == 1:
        outbox.send(
            session,
            now,
            outbox.Channel.email,
            wanted,
            "Votre identifiant EduConnect",
            f"Bonjour,\n\nVotre identifiant EduConnect est {found[0].identifiant}.\n",
            account_id=found[0].id,
        )


def start_password_reset(
    session: Session,
    now: datetime,
    policy: CodePolicy,
    identifiant: str,
    channel: SelfServiceChannel,
) -> str:
    """Send a code by SMS or confirmed email to an active account; a request id either way."""
    account = session.scalars(
        select(Account).where(
            # Identifiants are stored lower-case: a plain comparison uses the unique index.
            col(Account.identifiant) == identifiant.strip().lower(),
            col(Account.state) == AccountState.active.value,
        )
    ).first()
    if account is None:
        return decoy_request_id()
    if channel is SelfServiceChannel.sms and account.mobile:
        recipient, via = account.mobile, outbox.Channel.sms
    elif channel is SelfServiceChannel.email and account.email and account.email_confirmed:
        recipient, via = account.email.lower(), outbox.Channel.email
    else:
        return decoy_request_id()
    request_id, code = issue_code(session, now, policy, account, PASSWORD_RESET, via.value)
    outbox.send(
        session,
        now,
        via,
        recipient,
        "Mot de passe oublié",
        f"EduConnect : votre code pour changer de mot de passe est {code}. Il est valable "
        f"{int(policy.ttl.total_seconds() // 60)} minutes.",
        account_id=account.id,
    )
    return request_id


def finish_password_reset(
    session: Session,
    now: datetime,
    policy: CodePolicy,
    passwords: Passwords,
    request_id: str,
    code: str,
    new_password: str,
) -> Account | None:
    """Check the code; if right, set the new password (every open session ends)."""
    row = redeem_code(session, now, policy, request_id, PASSWORD_RESET, code)
    account = session.get(Account, row.account_id) if row else None
    if account is None:
        return None
    account.password_hash = passwords.hash(new_password)
    account.must_change_password = False
    account.updated_at = now
    end_sessions(session, now, account)
    return account


def _email_digest(email: str) -> str:
    """What a confirmation code remembers of the address it was sent to."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def start_email_confirmation(
    session: Session, now: datetime, policy: CodePolicy, account: Account, email: str
) -> str:
    """Record a new email (unconfirmed) and send it a code."""
    account.email = email
    account.email_confirmed = False
    account.updated_at = now
    request_id, code = issue_code(
        session, now, policy, account, EMAIL_CONFIRMATION, "email", context=_email_digest(email)
    )
    outbox.send(
        session,
        now,
        outbox.Channel.email,
        email.lower(),
        "Confirmez votre adresse électronique",
        f"EduConnect : pour confirmer votre adresse, saisissez le code {code}.",
        account_id=account.id,
    )
    return request_id


def finish_email_confirmation(
    session: Session,
    now: datetime,
    policy: CodePolicy,
    account: Account,
    request_id: str,
    code: str,
) -> bool:
    """Check the code sent to the new email; if right, the email is confirmed.

    The code is bound to the address it was sent to: if the account's email changed meanwhile
    (the import, another request), it confirms nothing.
    """
    row = redeem_code(session, now, policy, request_id, EMAIL_CONFIRMATION, code)
    if row is None or row.account_id != account.id:
        return False
    if account.email is None or row.context != _email_digest(account.email):
        return False
    account.email_confirmed = True
    account.updated_at = now
    return True
