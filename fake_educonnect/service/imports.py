"""The import used by the sync: a set-based, idempotent upsert of responsables and their children.

For each batch a fixed number of queries loads everything the batch touches (sources, children,
candidate accounts, attachments, identifiants in use); the decisions are made in memory; the ORM
flushes the inserts and updates in bulk. Re-sending the same batch changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlmodel import Session, col

from fake_educonnect.identifiant import choose_identifiant, identifiant_base
from fake_educonnect.models import (
    Account,
    AccountSource,
    AccountState,
    Attachment,
    AttachmentStatus,
    Child,
    ExcludedSource,
)
from fake_educonnect.schemas import (
    ChildIn,
    ImportBatch,
    ImportReport,
    ImportResult,
    Lien,
    Outcome,
    ResponsableIn,
)
from fake_educonnect.service.accounts_common import LIVE_ATTACHMENTS, match_key

NO_MOBILE = (
    "no mobile in ONDE: autonomous activation by SMS impossible; use FranceConnect or a "
    "letter from the school"
)
NO_SMS = "the mobile in ONDE does not accept SMS: SMS activation impossible"
FOSTER = (
    "foster family (famille d'accueil): no EduConnect account; the ENT creates a manual 'parent' "
    "account, used through its 'Personnel Collectivité et Invité' entry"
)
NO_AUTHORITY = "no parental authority over an enrolled pupil: no EduConnect account"
NO_ENROLLED = "no enrolled pupil (admis or admis_definitif) linked: no EduConnect account"
DELETED = "deleted in ONDE"


@dataclass(frozen=True)
class ImportPolicy:
    """The knobs of the import."""

    identifiant_seed: int = 0
    birthdate_tries: int = 1


def eligible(child: ChildIn) -> bool:
    """Whether this link earns the responsable an account (assumption: parental authority)."""
    return child.enrolled and child.autorite_parentale and child.lien is not Lien.famille_accueil


def exclusion_reason(item: ResponsableIn) -> str:
    """Why a responsable with no eligible link gets no account."""
    if item.deleted:
        return DELETED
    enrolled = [c for c in item.children if c.enrolled]
    if any(c.lien is Lien.famille_accueil for c in item.children) and not any(
        c.autorite_parentale and c.lien is not Lien.famille_accueil for c in enrolled
    ):
        return FOSTER
    if not enrolled:
        return NO_ENROLLED
    return NO_AUTHORITY


def source_key(source: str, source_id: str) -> str:
    """How an attachment names the source responsable that links it (``onde:101``)."""
    return f"{source}:{source_id}"


def _fingerprint(item: ResponsableIn) -> str:
    payload = item.model_dump(mode="json", exclude={"children"})
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class _Batch:
    """What one batch has loaded, kept up to date as items are applied."""

    now: datetime
    policy: ImportPolicy
    children: dict[tuple[str, str], Child]
    sources: dict[tuple[str, str], AccountSource]
    accounts: dict[int, Account]
    by_match_key: dict[str, list[Account]]
    attachments: dict[int, dict[int, Attachment]]
    taken: dict[str, set[str]]
    excluded: dict[tuple[str, str], ExcludedSource]
    touched: dict[int, ImportResult] = field(default_factory=dict)


def _upsert_children(
    session: Session, now: datetime, items: list[ResponsableIn]
) -> dict[tuple[str, str], Child]:
    wanted: dict[tuple[str, str], ChildIn] = {}
    for item in items:
        for child in item.children:
            wanted[(item.source.value, child.source_id)] = child
    found: dict[tuple[str, str], Child] = {}
    for source, ids in _group(wanted).items():
        query = select(Child).where(col(Child.source) == source, col(Child.source_id).in_(ids))
        for row in session.scalars(query):
            found[(row.source, row.source_id)] = row
    for key, data in wanted.items():
        values: dict[str, Any] = {
            "ine": data.ine,
            "nom": data.nom,
            "prenoms": data.prenoms,
            "birth_date": data.birth_date,
            "school_uai": data.school_uai,
            "level": data.level,
            "class_label": data.class_label,
            "enrolled": data.enrolled,
        }
        existing = found.get(key)
        if existing is None:
            found[key] = Child(
                source=key[0],
                source_id=key[1],
                degree="2D" if key[0] == "siecle" else "1D",
                updated_at=now,
                **values,
            )
            session.add(found[key])
        elif any(getattr(existing, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(existing, name, value)
            existing.updated_at = now
    session.flush()
    return found


def _group(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for source, source_id in keys:
        grouped[source].append(source_id)
    return grouped


def _load(session: Session, now: datetime, batch: ImportBatch, policy: ImportPolicy) -> _Batch:
    items = batch.items
    children = _upsert_children(session, now, items)
    sources: dict[tuple[str, str], AccountSource] = {}
    for source, ids in _group((i.source.value, i.source_id) for i in items).items():
        query_src = select(AccountSource).where(
            col(AccountSource.source) == source, col(AccountSource.source_id).in_(ids)
        )
        for row in session.scalars(query_src):
            sources[(row.source, row.source_id)] = row
    keys = {match_key(i.nom, i.prenom) for i in items}
    accounts: dict[int, Account] = {}
    known_ids = {s.account_id for s in sources.values()}
    query = select(Account).where(col(Account.match_key).in_(keys) | col(Account.id).in_(known_ids))
    for account in session.scalars(query):
        accounts[account.id or 0] = account
    by_match_key: dict[str, list[Account]] = defaultdict(list)
    for account in sorted(accounts.values(), key=lambda a: a.id or 0):
        by_match_key[account.match_key].append(account)
    attachments: dict[int, dict[int, Attachment]] = defaultdict(dict)
    if accounts:
        query_att = select(Attachment).where(col(Attachment.account_id).in_(list(accounts)))
        for attachment in session.scalars(query_att):
            attachments[attachment.account_id][attachment.child_id] = attachment
    bases = {identifiant_base(i.prenom, i.nom) for i in items}
    taken: dict[str, set[str]] = defaultdict(set)
    query_ids = select(col(Account.identifiant_base), col(Account.identifiant)).where(
        col(Account.identifiant_base).in_(bases)
    )
    for base, identifiant in session.execute(query_ids):
        taken[base].add(identifiant)
    excluded: dict[tuple[str, str], ExcludedSource] = {}
    for source, ids in _group((i.source.value, i.source_id) for i in items).items():
        query_exc = select(ExcludedSource).where(
            col(ExcludedSource.source) == source, col(ExcludedSource.source_id).in_(ids)
        )
        for refused in session.scalars(query_exc):
            excluded[(refused.source, refused.source_id)] = refused
    return _Batch(
        now, policy, children, sources, accounts, by_match_key, attachments, taken, excluded
    )


def _remember_exclusion(session: Session, state: _Batch, item: ResponsableIn, reason: str) -> None:
    key = (item.source.value, item.source_id)
    row = state.excluded.get(key)
    if row is None:
        row = ExcludedSource(
            source=key[0],
            source_id=key[1],
            school_uai=item.school_uai,
            nom=item.nom,
            prenom=item.prenom,
            reason=reason,
            at=state.now,
        )
        session.add(row)
        state.excluded[key] = row
    elif (row.reason, row.nom, row.prenom, row.school_uai) != (
        reason,
        item.nom,
        item.prenom,
        item.school_uai,
    ):
        row.reason, row.nom, row.prenom, row.school_uai = (
            reason,
            item.nom,
            item.prenom,
            item.school_uai,
        )
        row.at = state.now


def _find_match(state: _Batch, item: ResponsableIn) -> Account | None:
    email = item.email.lower() if item.email else None
    for account in state.by_match_key.get(match_key(item.nom, item.prenom), []):
        same_mobile = item.mobile is not None and account.mobile == item.mobile
        same_email = email is not None and (account.email or "").lower() == email
        if same_mobile or same_email:
            return account
    return None


def _create_account(session: Session, state: _Batch, item: ResponsableIn) -> Account:
    base = identifiant_base(item.prenom, item.nom)
    identifiant = choose_identifiant(state.policy.identifiant_seed, base, state.taken[base])
    account = Account(
        identifiant=identifiant,
        identifiant_base=base,
        nom=item.nom,
        prenom=item.prenom,
        match_key=match_key(item.nom, item.prenom),
        mobile=item.mobile,
        email=item.email,
        state=AccountState.non_active.value,
        created_at=state.now,
        updated_at=state.now,
    )
    session.add(account)
    session.flush()
    state.accounts[account.id or 0] = account
    state.by_match_key[account.match_key].append(account)
    return account


def _apply_contact(account: Account, item: ResponsableIn, now: datetime) -> bool:
    changed = False
    updates: dict[str, object] = {"nom": item.nom, "prenom": item.prenom}
    if item.mobile is not None:
        updates["mobile"] = item.mobile
    if item.email is not None:
        updates["email"] = item.email
    for name, value in updates.items():
        if getattr(account, name) != value:
            if name == "email":
                account.email_confirmed = False
            setattr(account, name, value)
            changed = True
    if changed:
        account.match_key = match_key(account.nom, account.prenom)
        account.updated_at = now
    return changed


def _apply_links(
    session: Session, state: _Batch, account: Account, item: ResponsableIn, result: ImportResult
) -> bool:
    account_id = account.id or 0
    current = state.attachments[account_id]
    link_key = source_key(item.source.value, item.source_id)
    wanted: dict[int, ChildIn] = {}
    for child in item.children:
        if eligible(child):
            wanted[state.children[(item.source.value, child.source_id)].id or 0] = child
    changed = False
    for child_id, child in wanted.items():
        attachment = current.get(child_id)
        if attachment is None:
            attachment = Attachment(
                account_id=account_id,
                child_id=child_id,
                source_id=link_key,
                lien=child.lien.value,
                status=AttachmentStatus.proposed.value,
                tries_left=state.policy.birthdate_tries,
                proposed_at=state.now,
            )
            session.add(attachment)
            current[child_id] = attachment
            result.proposals_added += 1
            changed = True
        elif attachment.status == AttachmentStatus.removed.value:
            attachment.status = AttachmentStatus.proposed.value
            attachment.source_id = link_key
            attachment.tries_left = state.policy.birthdate_tries
            attachment.proposed_at = state.now
            attachment.presented_at = None
            attachment.decided_at = None
            attachment.decided_by = None
            attachment.reason = None
            result.proposals_added += 1
            changed = True
    for child_id, attachment in current.items():
        if (
            attachment.source_id == link_key
            and child_id not in wanted
            and attachment.status in LIVE_ATTACHMENTS
        ):
            attachment.status = AttachmentStatus.removed.value
            attachment.decided_at = state.now
            attachment.decided_by = "sync"
            attachment.reason = "link gone in ONDE, or pupil no longer enrolled"
            result.links_removed += 1
            changed = True
    return changed


def _apply_item(session: Session, state: _Batch, item: ResponsableIn) -> ImportResult:
    key = (item.source.value, item.source_id)
    source = state.sources.get(key)
    has_eligible = not item.deleted and any(eligible(c) for c in item.children)
    result = ImportResult(source_id=item.source_id, outcome=Outcome.unchanged)
    if source is None and not has_eligible:
        result.outcome = Outcome.excluded
        result.reasons.append(exclusion_reason(item))
        _remember_exclusion(session, state, item, result.reasons[0])
        return result
    if key in state.excluded:
        refused = state.excluded.pop(key)
        # Excluded earlier in this same batch: not in the database yet, nothing to delete.
        if refused in session.new:
            session.expunge(refused)
        else:
            session.delete(refused)
    if source is None:
        account = _find_match(state, item)
        if account is None:
            account = _create_account(session, state, item)
            result.outcome = Outcome.created
        else:
            result.outcome = Outcome.matched
        source = AccountSource(
            account_id=account.id or 0,
            source=item.source.value,
            source_id=item.source_id,
            school_uai=item.school_uai,
            civility=item.civility,
            nom=item.nom,
            prenom=item.prenom,
            mobile=item.mobile,
            accepts_sms=item.accepts_sms,
            email=item.email,
            fingerprint=_fingerprint(item),
            updated_at=state.now,
        )
        session.add(source)
        state.sources[key] = source
        _apply_contact(account, item, state.now)
    else:
        account = state.accounts[source.account_id]
        fingerprint = _fingerprint(item)
        if source.fingerprint != fingerprint:
            for name in ("school_uai", "civility", "nom", "prenom", "mobile", "accepts_sms"):
                setattr(source, name, getattr(item, name))
            source.email = item.email
            source.fingerprint = fingerprint
            source.updated_at = state.now
            result.outcome = Outcome.updated
        if not item.deleted and _apply_contact(account, item, state.now):
            result.outcome = Outcome.updated
        if not has_eligible:
            result.reasons.append(exclusion_reason(item))
    if _apply_links(session, state, account, item, result) and result.outcome is Outcome.unchanged:
        result.outcome = Outcome.updated
    if has_eligible and item.mobile is None:
        result.reasons.append(NO_MOBILE)
    elif has_eligible and not item.accepts_sms:
        result.reasons.append(NO_SMS)
    result.account_id = account.id
    result.identifiant = account.identifiant
    state.touched[account.id or 0] = result
    return result


def _settle_states(session: Session, state: _Batch, allow_deactivation: bool) -> None:
    """Deactivate accounts left with no live attachment of an enrolled child; restore the others."""
    child_ids = {
        child_id for account_id in state.touched for child_id in state.attachments[account_id]
    }
    known = {c.id: c for c in state.children.values()}
    missing = [cid for cid in child_ids if cid not in known]
    if missing:
        for child in session.scalars(select(Child).where(col(Child.id).in_(missing))):
            known[child.id] = child
    for account_id, result in state.touched.items():
        account = state.accounts[account_id]
        live = any(
            a.status in LIVE_ATTACHMENTS and known[child_id].enrolled
            for child_id, a in state.attachments[account_id].items()
        )
        if account.state == AccountState.desactive.value and live:
            account.state = (
                AccountState.active.value if account.activated_at else AccountState.non_active.value
            )
            account.deactivated_at = None
            account.updated_at = state.now
            result.restored = True
            if result.outcome is Outcome.unchanged:
                result.outcome = Outcome.updated
        elif account.state != AccountState.desactive.value and not live:
            if not allow_deactivation:
                result.deactivation_pending = True
                continue
            account.state = AccountState.desactive.value
            account.deactivated_at = state.now
            account.updated_at = state.now
            result.deactivated = True
            if result.outcome is Outcome.unchanged:
                result.outcome = Outcome.updated


def import_batch(
    session: Session, now: datetime, batch: ImportBatch, policy: ImportPolicy
) -> ImportReport:
    """Upsert a batch of responsables; one result per item, in order."""
    state = _load(session, now, batch, policy)
    results = [_apply_item(session, state, item) for item in batch.items]
    _settle_states(session, state, batch.allow_deactivation)
    session.flush()
    counts: dict[str, int] = {outcome.value: 0 for outcome in Outcome}
    for result in results:
        counts[result.outcome.value] += 1
    counts["proposals_added"] = sum(r.proposals_added for r in results)
    counts["links_removed"] = sum(r.links_removed for r in results)
    counts["deactivated"] = sum(r.deactivated for r in results)
    counts["deactivation_pending"] = sum(r.deactivation_pending for r in results)
    counts["restored"] = sum(r.restored for r in results)
    return ImportReport(results=results, counts=counts)
