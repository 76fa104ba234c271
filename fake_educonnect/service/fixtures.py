"""SIECLE fixtures: parents who already have an active account through a secondary-school child."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from fake_educonnect.models import Account, Attachment, AttachmentStatus, Origin, SourceKind
from fake_educonnect.schemas import (
    ChildIn,
    ImportBatch,
    ResponsableIn,
    SiecleBatch,
)
from fake_educonnect.security import Passwords
from fake_educonnect.service.imports import BatchReport, ImportPolicy, import_batch, source_key
from fake_educonnect.service.parent import activate
from fake_educonnect.service.schools import record_schools


def load_siecle(
    session: Session,
    now: datetime,
    passwords: Passwords,
    policy: ImportPolicy,
    batch: SiecleBatch,
) -> BatchReport:
    """Create (or match) the accounts, activate them, and attach their 2D children; the schools
    they name go to the directory."""
    items = [
        ResponsableIn(
            source=SourceKind.siecle,
            source_id=item.source_id,
            school_uai=item.children[0].school_uai,
            nom=item.nom,
            prenom=item.prenom,
            mobile=item.mobile,
            email=item.email,
            children=[
                ChildIn(
                    **child.model_dump(exclude={"lien", "school_name", "school_commune"}),
                    lien=child.lien,
                    autorite_parentale=True,
                    enrolled=True,
                )
                for child in item.children
            ],
        )
        for item in batch.items
    ]
    report = import_batch(session, now, ImportBatch(items=items), policy)
    named = {
        child.school_uai: (child.school_uai, child.school_name, child.school_commune)
        for item in batch.items
        for child in item.children
        if child.school_name is not None
    }
    record_schools(session, now, named.values())
    for item, result in zip(batch.items, report.results, strict=True):
        account = session.get(Account, result.account_id) if result.account_id else None
        if account is None:
            continue
        if account.activated_at is None:
            activate(account, now, Origin(item.origin))
        if (
            item.email_confirmed
            and item.email is not None
            and (account.email or "").lower() == item.email.lower()
        ):
            account.email_confirmed = True
        if item.password:
            account.password_hash = passwords.hash(item.password)
        session.execute(
            update(Attachment)
            .where(
                col(Attachment.account_id) == account.id,
                col(Attachment.source_id) == source_key(SourceKind.siecle.value, item.source_id),
                col(Attachment.status) == AttachmentStatus.proposed.value,
            )
            .values(status=AttachmentStatus.attached.value, decided_at=now, decided_by="siecle")
        )
    session.flush()
    return report
