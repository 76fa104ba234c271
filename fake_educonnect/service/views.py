"""Public shapes of accounts and attachments."""

from __future__ import annotations

from sqlmodel import Session

from fake_educonnect.models import Account, Attachment, AttachmentStatus, Child
from fake_educonnect.schemas import (
    AccountDetail,
    AccountPublic,
    AttachmentPublic,
    ChildPublic,
    SourcePublic,
)
from fake_educonnect.service.accounts import attachments_of, sources_of


def account_public(account: Account) -> AccountPublic:
    """The public shape of an account."""
    return AccountPublic.model_validate(account, from_attributes=True)


def attachment_public(attachment: Attachment, child: Child) -> AttachmentPublic:
    """The public shape of an attachment."""
    return AttachmentPublic(
        id=attachment.id or 0,
        child=ChildPublic.model_validate(child, from_attributes=True),
        status=AttachmentStatus(attachment.status),
        lien=attachment.lien,
        tries_left=attachment.tries_left,
        proposed_at=attachment.proposed_at,
        presented_at=attachment.presented_at,
        decided_at=attachment.decided_at,
        decided_by=attachment.decided_by,
        reason=attachment.reason,
    )


def account_detail(
    session: Session, account: Account, school_uai: str | None = None
) -> AccountDetail:
    """An account with its sources and attachments (only one school's live ones, if given)."""
    account_id = account.id or 0
    sources = [
        SourcePublic.model_validate(s, from_attributes=True)
        for s in sources_of(session, account_id)
        if school_uai is None or (s.school_uai == school_uai and s.deleted_at is None)
    ]
    attachments = [
        attachment_public(a, c)
        for a, c in attachments_of(session, account_id)
        if school_uai is None or c.school_uai == school_uai
    ]
    return AccountDetail(
        **account_public(account).model_dump(), sources=sources, attachments=attachments
    )
