"""The director console ("administration des comptes EduConnect"): one school, its parents."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from edusim_common.deps import DbSession, Now
from edusim_common.pagination import Page, decode_cursor, encode_cursor
from edusim_common.problems import PROBLEM_RESPONSES, NotFound, Unauthorized
from edusim_common.school_tokens import school_of_token, school_token
from edusim_common.uai import Uai as KeyedUai
from fake_educonnect.deps import DIRECTOR_PREFIX, IdPath, PasswordsDep, ServiceOnly, Settings
from fake_educonnect.models import Account, AccountState, Attachment, Child, Origin
from fake_educonnect.schemas import (
    AccountDetail,
    AccountSummary,
    AttachmentPublic,
    DirectorToken,
    Explanation,
    LetterOut,
    ResetIn,
    StatementOut,
    StatsOut,
)
from fake_educonnect.service import console
from fake_educonnect.service.accounts import get_account
from fake_educonnect.service.explain import explain_account
from fake_educonnect.service.letters import IssuedLetter, issue_letter
from fake_educonnect.service.views import account_detail, account_public, attachment_public

router = APIRouter(prefix="/console", tags=["console"], responses=PROBLEM_RESPONSES)
tokens = APIRouter(tags=["console"], responses=PROBLEM_RESPONSES, dependencies=[ServiceOnly])
_bearer = HTTPBearer(auto_error=False, description="A school director's console token.")


def director_school(
    settings: Settings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The UAI of the calling director."""
    uai = (
        school_of_token(DIRECTOR_PREFIX, settings.secret_key, credentials.credentials)
        if credentials
        else None
    )
    if uai is None:
        raise Unauthorized("a school director's token is needed (ec-dir-<UAI>-…)")
    return uai


School = Annotated[str, Depends(director_school)]


def scoped_account(account_id: IdPath, session: DbSession, uai: School) -> Account:
    """The account in the path, if it has a responsable in the director's school."""
    account = get_account(session, account_id)
    console.check_account_in_school(session, account, uai)
    return account


def scoped_attachment(
    attachment_id: IdPath, session: DbSession, uai: School
) -> tuple[Attachment, Child]:
    """The attachment in the path, if its pupil is in the director's school."""
    attachment = session.get(Attachment, attachment_id)
    child = session.get(Child, attachment.child_id) if attachment else None
    if attachment is None or child is None:
        raise NotFound(f"no attachment with id {attachment_id}")
    console.check_attachment_in_school(child, uai)
    return attachment, child


ScopedAccount = Annotated[Account, Depends(scoped_account)]
ScopedAttachment = Annotated[tuple[Attachment, Child], Depends(scoped_attachment)]


@tokens.get("/schools/{uai}/director-token", summary="A director's console token (service)")
def director_token(uai: Annotated[KeyedUai, Path()], settings: Settings) -> DirectorToken:
    """Hand a director the token of the console for their school."""
    return DirectorToken(
        school_uai=uai, director_token=school_token(DIRECTOR_PREFIX, settings.secret_key, uai)
    )


@router.get("/accounts", summary="Search the school's parent accounts")
def search(
    session: DbSession,
    uai: School,
    nom: Annotated[str | None, Query(max_length=80)] = None,
    prenom: Annotated[str | None, Query(max_length=80)] = None,
    identifiant: Annotated[str | None, Query(max_length=60)] = None,
    state: AccountState | None = None,
    origin: Origin | None = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    class_label: Annotated[str | None, Query(alias="class", max_length=120)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AccountSummary]:
    """By family name, first name, identifiant, class, state, email, origin."""
    position = decode_cursor(cursor, id=int)
    found = console.search(
        session,
        uai,
        console.ConsoleFilter(
            nom=nom,
            prenom=prenom,
            identifiant=identifiant,
            state=state.value if state else None,
            origin=origin.value if origin else None,
            email=email,
            class_label=class_label,
        ),
        position["id"] if position else 0,
        limit,
    )
    attachments = console.school_attachments(session, [a.id or 0 for a in found], uai)
    items = [
        AccountSummary(
            **account_public(account).model_dump(),
            children=[f"{c.prenoms} {c.nom}: {a.status}" for a, c in attachments[account.id or 0]],
        )
        for account in found
    ]
    next_cursor = encode_cursor({"id": found[-1].id}) if len(found) == limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.get("/accounts/{account_id}", summary="An account in detail")
def detail(account: ScopedAccount, session: DbSession, uai: School) -> AccountDetail:
    """Identifiant, origin, state, activation date, last login, this school's attachments."""
    return account_detail(session, account, school_uai=uai)


def _letter_out(account: Account, issued: IssuedLetter) -> LetterOut:
    return LetterOut(
        identifiant=account.identifiant,
        temporary_password=issued.temporary_password,
        expires_at=issued.letter.expires_at,
        text=issued.text,
    )


@router.post("/accounts/{account_id}/letter", summary="Print a notification letter")
def letter(
    account: ScopedAccount,
    session: DbSession,
    now: Now,
    uai: School,
    settings: Settings,
    passwords: PasswordsDep,
    body: ResetIn | None = None,
) -> LetterOut:
    """Identifiant and temporary password (3 months); earlier letters die.

    The temporary password opens the account, so for a parent who activated alone
    (`FranceConnect`, `Responsable`) it needs `confirm`, as a reset does. A deactivated account
    (no enrolled child left) gets none: `409` `account-deactivated`, until a child comes back.
    """
    console.check_reset_allowed(account, body is not None and body.confirm)
    issued = issue_letter(
        session, now, passwords, account, uai, timedelta(days=settings.letter_validity_days)
    )
    return _letter_out(account, issued)


@router.post("/accounts/{account_id}/reset-password", summary="Reset a parent's password")
def reset_password(
    account: ScopedAccount,
    session: DbSession,
    now: Now,
    uai: School,
    settings: Settings,
    passwords: PasswordsDep,
    body: ResetIn | None = None,
) -> LetterOut:
    """A new letter; the old password stops working. Self-activated origins need `confirm`
    (the body may be left out for the others, as for a letter); a deactivated account gets no
    reset (`409` `account-deactivated`)."""
    console.check_reset_allowed(account, body is not None and body.confirm)
    issued = issue_letter(
        session,
        now,
        passwords,
        account,
        uai,
        timedelta(days=settings.letter_validity_days),
        reset=True,
    )
    return _letter_out(account, issued)


@router.post("/attachments/{attachment_id}/unblock", summary="Unblock an attachment")
def unblock(
    scoped: ScopedAttachment, session: DbSession, now: Now, settings: Settings
) -> AttachmentPublic:
    """The child is proposed again at the parent's next login."""
    attachment, child = scoped
    console.unblock(attachment, now, settings.birthdate_tries)
    session.flush()
    return attachment_public(attachment, child)


@router.post("/attachments/{attachment_id}/attach", summary="Attach a child by hand")
def attach(scoped: ScopedAttachment, session: DbSession, now: Now) -> AttachmentPublic:
    """The school attaches the child without the birth-date check."""
    attachment, child = scoped
    console.attach_by_hand(attachment, now)
    session.flush()
    return attachment_public(attachment, child)


@router.get("/stats", summary="Activation statistics of the school")
def school_stats(session: DbSession, uai: School) -> StatsOut:
    """Accounts per state and origin, attachments per status."""
    found = console.stats(session, uai)
    activated = found.by_state.get("active", 0)
    return StatsOut(
        school_uai=uai,
        accounts=found.accounts,
        activated=activated,
        activation_rate=round(activated / found.accounts, 4) if found.accounts else 0.0,
        by_state=found.by_state,
        by_origin=found.by_origin,
        attachments=found.attachments,
    )


@router.get("/accounts/{account_id}/explain", summary="Where this parent stands, and why")
def explain(account: ScopedAccount, session: DbSession, now: Now, uai: School) -> Explanation:
    """The FAQ as a diagnosis for one account of the school."""
    statements = explain_account(session, now, account, school_uai=uai)
    return Explanation(
        subject=account.identifiant,
        account=account_public(account),
        statements=[StatementOut(code=s.code, text=s.text) for s in statements],
    )
