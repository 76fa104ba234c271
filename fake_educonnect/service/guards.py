"""Rate limits and one-time codes: the parts of security that must survive a refused request.

A refused try must still count, so these functions never raise: they return what happened and let
the route commit before answering with a problem.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col

from fake_educonnect.models import Account, OneTimeCode, RateEvent
from fake_educonnect.security import code_digest, new_code, new_token, token_digest


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events per ``window``."""

    count: int
    window: timedelta


def over_limit(session: Session, now: datetime, key: str, limit: Limit) -> bool:
    """Whether ``key`` has already reached its limit in the current window."""
    since = now - limit.window
    used = session.scalar(
        select(func.count())
        .select_from(RateEvent)
        .where(col(RateEvent.key) == key, col(RateEvent.at) > since)
    )
    return (used or 0) >= limit.count


def take(session: Session, now: datetime, key: str, limit: Limit) -> bool:
    """Count one event for ``key`` unless its limit is reached; False when it is."""
    return reserve(session, now, key, limit) is not None


def reserve(session: Session, now: datetime, key: str, limit: Limit) -> int | None:
    """Count one event for ``key`` unless its limit is reached: its id, or None when it is.

    Checking and counting happen in the caller's serialised write transaction, so concurrent
    tries cannot all pass the check before any of them is counted. A try that turns out not to
    count (a successful login) gives its event back with :func:`release`.
    """
    if over_limit(session, now, key, limit):
        return None
    event = RateEvent(key=key, at=now)
    session.add(event)
    session.flush()
    return event.id


def release(session: Session, event_id: int) -> None:
    """Take back an event counted by :func:`reserve`."""
    session.execute(delete(RateEvent).where(col(RateEvent.id) == event_id))


@dataclass(frozen=True)
class CodePolicy:
    """How codes live."""

    secret_key: str
    ttl: timedelta
    max_tries: int


def issue_code(
    session: Session,
    now: datetime,
    policy: CodePolicy,
    account: Account,
    purpose: str,
    channel: str,
    context: str | None = None,
) -> tuple[str, str]:
    """Create a code for ``account`` (voiding earlier ones of the same purpose).

    Returns ``(request_id, code)``: the request id goes back to the caller, the code to the outbox.
    """
    session.execute(
        update(OneTimeCode)
        .where(
            col(OneTimeCode.account_id) == account.id,
            col(OneTimeCode.purpose) == purpose,
            col(OneTimeCode.used_at).is_(None),
        )
        .values(tries_left=0)
    )
    request_id, code = new_token(), new_code()
    session.add(
        OneTimeCode(
            account_id=account.id or 0,
            request_hash=token_digest(request_id),
            purpose=purpose,
            channel=channel,
            code_hash=code_digest(policy.secret_key, purpose, code),
            expires_at=now + policy.ttl,
            tries_left=policy.max_tries,
            context=context,
            created_at=now,
        )
    )
    return request_id, code


def decoy_request_id() -> str:
    """A request id for a request that matched nothing: indistinguishable from a real one."""
    return new_token()


def redeem_code(
    session: Session, now: datetime, policy: CodePolicy, request_id: str, purpose: str, code: str
) -> OneTimeCode | None:
    """The code's record if ``code`` is right, alive and unused (it is then used up); else None.

    A wrong code costs one try; at zero tries the code is dead.
    """
    row = session.scalars(
        select(OneTimeCode).where(
            col(OneTimeCode.request_hash) == token_digest(request_id),
            col(OneTimeCode.purpose) == purpose,
        )
    ).first()
    expected = code_digest(policy.secret_key, purpose, code)
    if row is None or row.used_at is not None or row.tries_left <= 0 or row.expires_at <= now:
        hmac.compare_digest(expected, expected)  # same work as a real comparison
        return None
    if not hmac.compare_digest(row.code_hash, expected):
        row.tries_left -= 1
        return None
    row.used_at = now
    return row
