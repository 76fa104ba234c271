"""The three ways a parent activates an account, each setting its origin.

* ``Responsable``: alone, with a code sent by SMS to the mobile known from ONDE;
* ``FranceConnect``: through the fake FranceConnect, confirmed by a code sent to that mobile;
* ``Etablissement``: with the identifiant and temporary password of a letter printed by the school.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from fake_educonnect.models import (
    Account,
    AccountSource,
    AccountState,
    FranceConnectIdentity,
    LoginSession,
    Origin,
)
from fake_educonnect.security import Passwords
from fake_educonnect.service import outbox
from fake_educonnect.service.accounts_common import match_key
from fake_educonnect.service.guards import CodePolicy, decoy_request_id, issue_code, redeem_code
from fake_educonnect.service.parent import ENDED, activate, end_session

SMS_ACTIVATION = "activation_sms"
FRANCECONNECT = "franceconnect"


def end_sessions(session: Session, now: datetime, account: Account) -> None:
    """Close every open session of ``account`` (after its password was reset).

    Ended, not deleted (see :func:`fake_educonnect.service.parent.end_session`).
    """
    open_sessions = session.scalars(
        select(LoginSession).where(
            col(LoginSession.account_id) == account.id,
            col(LoginSession.token_hash).not_like(f"{ENDED}%"),
        )
    )
    for login in open_sessions.all():
        end_session(login, now)


def mask_mobile(mobile: str) -> str:
    """``+33612345678`` → ``06 •• •• •• 78``: enough for the parent to recognise it."""
    national = "0" + mobile[3:] if mobile.startswith("+33") else mobile
    return f"{national[:2]} •• •• •• {national[-2:]}"


def _sms_reachable(session: Session, account: Account, mobile: str) -> bool:
    """Whether ONDE gave this mobile for the account and it accepts SMS."""
    found = session.scalar(
        select(col(AccountSource.id)).where(
            col(AccountSource.account_id) == account.id,
            col(AccountSource.mobile) == mobile,
            col(AccountSource.accepts_sms).is_(True),
            col(AccountSource.deleted_at).is_(None),
        )
    )
    return found is not None


def start_sms_activation(
    session: Session, now: datetime, policy: CodePolicy, nom: str, prenom: str, mobile: str
) -> str:
    """Send a code if exactly this parent, with this mobile, has an account to activate.

    The request id comes back whatever happened, so the answer reveals nothing.
    """
    candidates = session.scalars(
        select(Account).where(
            col(Account.match_key) == match_key(nom, prenom),
            col(Account.state) == AccountState.non_active.value,
            col(Account.mobile) == mobile,
        )
    ).all()
    reachable = [a for a in candidates if _sms_reachable(session, a, mobile)]
    if len(reachable) != 1:
        return decoy_request_id()
    account = reachable[0]
    request_id, code = issue_code(session, now, policy, account, SMS_ACTIVATION, "sms")
    minutes = int(policy.ttl.total_seconds() // 60)
    outbox.send(
        session,
        now,
        outbox.Channel.sms,
        mobile,
        "Code d'activation EduConnect",
        f"EduConnect : votre code d'activation est {code}. Il est valable {minutes} minutes. "
        "Ne le communiquez à personne.",
        account_id=account.id,
    )
    return request_id


def finish_sms_activation(
    session: Session,
    now: datetime,
    policy: CodePolicy,
    passwords: Passwords,
    request_id: str,
    code: str,
    password: str,
) -> Account | None:
    """Check the code; if right, set the password and activate with origin ``Responsable``."""
    row = redeem_code(session, now, policy, request_id, SMS_ACTIVATION, code)
    if row is None:
        return None
    account = session.get(Account, row.account_id)
    if account is None or account.state != AccountState.non_active.value:
        return None
    account.password_hash = passwords.hash(password)
    activate(account, now, Origin.Responsable)
    return account


@dataclass(frozen=True)
class FranceConnectStart:
    """What the FranceConnect return leads to."""

    account: Account | None
    request_id: str | None = None
    masked_mobile: str | None = None


def franceconnect_return(
    session: Session, now: datetime, policy: CodePolicy, identity: FranceConnectIdentity
) -> FranceConnectStart:
    """Match a FranceConnect identity to an account.

    An account already linked to this identity logs in at once, unless it is deactivated (then the
    answer is the same as for no account). Otherwise the identity is matched on folded family name
    and first name (the phone claim settles homonyms), and a code goes by SMS to the mobile known
    from ONDE to confirm the link.
    """
    linked = session.scalars(
        select(Account).where(col(Account.franceconnect_sub) == identity.sub)
    ).first()
    if linked is not None:
        if linked.state == AccountState.desactive.value:
            return FranceConnectStart(account=None)
        return FranceConnectStart(account=linked)
    first_name = identity.given_name.split()[0] if identity.given_name.split() else ""
    query = select(Account).where(
        col(Account.match_key) == match_key(identity.family_name, first_name),
        col(Account.state) != AccountState.desactive.value,
        col(Account.franceconnect_sub).is_(None),
        col(Account.mobile).is_not(None),
    )
    candidates = list(session.scalars(query))
    if len(candidates) > 1 and identity.phone_number:
        candidates = [a for a in candidates if a.mobile == identity.phone_number]
    if len(candidates) != 1:
        return FranceConnectStart(account=None)
    account = candidates[0]
    mobile = account.mobile or ""
    request_id, code = issue_code(
        session, now, policy, account, FRANCECONNECT, "sms", context=identity.sub
    )
    outbox.send(
        session,
        now,
        outbox.Channel.sms,
        mobile,
        "Confirmation FranceConnect",
        f"EduConnect : pour relier votre compte à FranceConnect, saisissez le code {code}. "
        f"Il est valable {int(policy.ttl.total_seconds() // 60)} minutes.",
        account_id=account.id,
    )
    return FranceConnectStart(
        account=None, request_id=request_id, masked_mobile=mask_mobile(mobile)
    )


def franceconnect_confirm(
    session: Session, now: datetime, policy: CodePolicy, request_id: str, code: str
) -> Account | None:
    """Check the code; if right, link the identity and activate with origin ``FranceConnect``.

    None (the same answer as a wrong code) if the account was deactivated meanwhile, or if the
    account or the identity got linked to another one meanwhile.
    """
    row = redeem_code(session, now, policy, request_id, FRANCECONNECT, code)
    if row is None or row.context is None:
        return None
    account = session.get(Account, row.account_id)
    if account is None or account.state == AccountState.desactive.value:
        return None
    if account.franceconnect_sub not in (None, row.context):
        return None
    holder = session.scalar(
        select(col(Account.id)).where(col(Account.franceconnect_sub) == row.context)
    )
    if holder is not None and holder != account.id:
        return None
    account.franceconnect_sub = row.context
    account.updated_at = now
    if account.state == AccountState.non_active.value:
        activate(account, now, Origin.FranceConnect)
    return account
