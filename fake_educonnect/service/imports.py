"""The import used by the sync: a set-based, idempotent upsert of responsables and their children.

For each batch a fixed number of queries loads everything the batch touches (sources, children,
the accounts an item may match, attachments, identifiant walk positions, earlier exclusions) as
plain rows, each through an index, so that a batch costs the same whatever the size of
EduConnect; the decisions are made in memory; each table is then written with one INSERT and one
UPDATE (``executemany``). Re-sending the same batch changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter

import orjson
from sqlalchemy import Table, bindparam, func, select, update
from sqlmodel import Session

from edusim_common.bulk import executemany, insert_rows, one_of, pairs_in
from fake_educonnect.identifiant import IdentifiantPicker, identifiant_base
from fake_educonnect.models import (
    CONFIRMED_EMAIL,
    LIVE_EMAIL,
    Account,
    AccountSource,
    AccountState,
    Attachment,
    AttachmentStatus,
    Child,
    ExcludedSource,
    IdentifiantWalk,
    table_of,
)
from fake_educonnect.schemas import (
    ChildIn,
    ImportBatch,
    ImportResult,
    Lien,
    Outcome,
    ResponsableIn,
)
from fake_educonnect.service.accounts_common import LIVE_ATTACHMENTS, match_key
from fake_educonnect.service.rowstore import Row, RowStore, flush_all

LIVE = frozenset(status.value for status in LIVE_ATTACHMENTS)
# The stored values, read once: an enum member's ``.value`` is a Python-level property, and the
# import reads these a dozen times per responsable.
PROPOSED = AttachmentStatus.proposed.value
REMOVED = AttachmentStatus.removed.value
NON_ACTIVE = AccountState.non_active.value
DESACTIVE = AccountState.desactive.value

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
NO_LONGER_ELIGIBLE = (
    "no longer linked to an enrolled pupil with parental authority through this record: "
    "the account keeps its other children (deactivated if none is left)"
)


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


_FINGERPRINTED = attrgetter(*(f.name for f in fields(ResponsableIn) if f.name != "children"))


def _fingerprint(item: ResponsableIn) -> str:
    """A hash of what the source says of the responsable itself (its children aside)."""
    return hashlib.sha256(orjson.dumps(_FINGERPRINTED(item))).hexdigest()


@dataclass(slots=True)
class BatchReport:
    """The answer for a batch (the API's ``ImportReport``): one result per item, the totals."""

    results: list[ImportResult]
    counts: dict[str, int]

    def json(self) -> bytes:
        """The ``ImportReport`` JSON body, encoded by orjson (dataclasses and enums natively)."""
        return orjson.dumps(self)


@dataclass
class _Batch:
    """What one batch has loaded, kept up to date as items are applied."""

    now: datetime
    policy: ImportPolicy
    accounts_store: RowStore
    sources_store: RowStore
    children_store: RowStore
    attachments_store: RowStore
    excluded_store: RowStore
    children: dict[tuple[str, str], Row]
    sources: dict[tuple[str, str], Row]
    by_account: dict[int, list[Row]]
    accounts: dict[int, Row]
    by_match_key: dict[str, list[Row]]
    attachments: dict[int, dict[int, Row]]
    excluded: dict[tuple[str, str], Row]
    picker: IdentifiantPicker
    touched: dict[int, ImportResult] = field(default_factory=dict)

    def stores(self) -> list[RowStore]:
        """In the order they must be written (parents first)."""
        return [
            self.accounts_store,
            self.sources_store,
            self.children_store,
            self.attachments_store,
            self.excluded_store,
        ]


def _group(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for source, source_id in keys:
        grouped[source].append(source_id)
    return grouped


def _by_source(store: RowStore, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Row]:
    """Rows of a (source, source_id) keyed table, for these keys."""
    table = store.table
    found: dict[tuple[str, str], Row] = {}
    for source, ids in _group(keys).items():
        for row in store.load(
            table.c.source == source, one_of(store.session, table.c.source_id, ids)
        ):
            found[(row["source"], row["source_id"])] = row
    return found


def _accounts_of(session: Session, keys: Iterable[tuple[str, str]]) -> list[int]:
    """The accounts of these source records (only the ids: their rows are read with the others)."""
    table = table_of(AccountSource)
    found: set[int] = set()
    for source, ids in _group(keys).items():
        query = select(table.c.account_id).where(
            table.c.source == source, one_of(session, table.c.source_id, ids)
        )
        found.update(session.scalars(query))
    return sorted(found)


# What the source says of a child: a change to any of them is stored.
_CHILD_FIELDS = (
    "ine",
    "nom",
    "prenoms",
    "birth_date",
    "school_uai",
    "level",
    "class_label",
    "enrolled",
)
_child_values = attrgetter(*_CHILD_FIELDS)


def _upsert_children(
    store: RowStore, now: datetime, items: list[ResponsableIn]
) -> dict[tuple[str, str], Row]:
    wanted: dict[tuple[str, str], ChildIn] = {}
    for item in items:
        source = item.source.value
        for child in item.children:
            wanted[(source, child.source_id)] = child
    found = _by_source(store, wanted)
    for key, data in wanted.items():
        values: Row = dict(zip(_CHILD_FIELDS, _child_values(data), strict=True))
        values["updated_at"] = now
        existing = found.get(key)
        if existing is None:
            values["source"], values["source_id"] = key
            values["degree"] = "2D" if key[0] == "siecle" else "1D"
            found[key] = store.add(values)
        elif any(existing[name] != values[name] for name in _CHILD_FIELDS):
            existing.update(values)
            store.changed(existing)
    return found


def _load(session: Session, now: datetime, batch: ImportBatch, policy: ImportPolicy) -> _Batch:
    items = batch.items
    stores = {
        model: RowStore(session, table_of(model))
        for model in (Account, AccountSource, Child, Attachment, ExcludedSource)
    }
    children = _upsert_children(stores[Child], now, items)
    item_keys = [(i.source.value, i.source_id) for i in items]
    known_ids = _accounts_of(session, item_keys)
    accounts_table = stores[Account].table
    candidates = _candidates(session, items)
    accounts: dict[int, Row] = {}
    # Three queries, not one with OR: PostgreSQL reads the whole table for the OR of the three.
    for where in (
        pairs_in(session, (accounts_table.c.match_key, accounts_table.c.mobile), candidates.pairs),
        one_of(session, accounts_table.c.id, sorted(candidates.ids | set(known_ids))),
        one_of(session, accounts_table.c.match_key, candidates.keys) if candidates.keys else None,
    ):
        if where is not None:
            for row in stores[Account].load(where):
                accounts.setdefault(row["id"], row)
    by_match_key: dict[str, list[Row]] = defaultdict(list)
    for account_id in sorted(accounts):
        by_match_key[accounts[account_id]["match_key"]].append(accounts[account_id])
    # Every source and attachment of these accounts (the batch's own among them): matching looks
    # at the emails the sources give, and a cleared mobile or email falls back on another's.
    account_ids = sorted(accounts)
    sources: dict[tuple[str, str], Row] = {}
    by_account: dict[int, list[Row]] = defaultdict(list)
    sources_table = stores[AccountSource].table
    for row in stores[AccountSource].load(one_of(session, sources_table.c.account_id, account_ids)):
        sources[(row["source"], row["source_id"])] = row
        by_account[row["account_id"]].append(row)
    attachments: dict[int, dict[int, Row]] = defaultdict(dict)
    attachments_table = stores[Attachment].table
    for row in stores[Attachment].load(
        one_of(session, attachments_table.c.account_id, account_ids)
    ):
        attachments[row["account_id"]][row["child_id"]] = row
    # Only an item with no source record yet may create an account (and a deleted one never).
    creating = [
        i for i, key in zip(items, item_keys, strict=True) if key not in sources and not i.deleted
    ]
    picker = _picker(session, policy, creating, accounts_table)
    excluded = _by_source(stores[ExcludedSource], item_keys)
    return _Batch(
        now,
        policy,
        stores[Account],
        stores[AccountSource],
        stores[Child],
        stores[Attachment],
        stores[ExcludedSource],
        children,
        sources,
        by_account,
        accounts,
        by_match_key,
        attachments,
        excluded,
        picker,
    )


@dataclass
class _Candidates:
    """Where the accounts an item may match are: (names, mobile) pairs, and account ids."""

    pairs: list[tuple[str, str]]
    ids: set[int]
    keys: list[str]  # names whose homonyms are all read: see ``_candidates``


def _candidates(session: Session, items: list[ResponsableIn]) -> _Candidates:
    """The accounts some item of the batch could match (see ``_find_match``), through indexes.

    Matching wants the same names and the same mobile, or the item's email among those the
    account trusts: confirmed by the parent, or given by a live source (case aside). Each is an
    index look-up, so a batch never reads the homonyms it cannot match (with 1 M pupils a batch's
    names have ~5 accounts each), nor the accounts of other names that share an item's email.
    The database's ``lower()`` may fold ASCII letters only, unlike Python's: for an email with
    other characters, every homonym is read, as matching always did.
    """
    keyed = [(match_key(i.nom, i.prenom), i) for i in items]
    pairs = sorted({(key, i.mobile) for key, i in keyed if i.mobile is not None})
    # An account found by an email is kept only if an item has both its names and that email:
    # a shared address alone (a family's, homonyms' generated ones) reads no account. (Each
    # email found is one of ``emails``, as given: the pairs compare equal strings.)
    wanted = {(key, i.email.lower()) for key, i in keyed if i.email}
    emails = sorted({email for _, email in wanted})
    ids: set[int] = set()
    if emails:
        sources = table_of(AccountSource)
        accounts = table_of(Account)
        source_email = func.lower(sources.c.email)
        given = (
            select(sources.c.account_id, accounts.c.match_key, source_email)
            .join(accounts, accounts.c.id == sources.c.account_id)
            .where(one_of(session, source_email, emails), LIVE_EMAIL)
        )
        account_email = func.lower(accounts.c.email)
        confirmed = select(accounts.c.id, accounts.c.match_key, account_email).where(
            one_of(session, account_email, emails), CONFIRMED_EMAIL
        )
        for query in (given, confirmed):
            found = session.execute(query)
            ids.update(account_id for account_id, *pair in found if tuple(pair) in wanted)
    keys = sorted({key for key, i in keyed if i.email and not i.email.isascii()})
    return _Candidates(pairs, ids, keys)


def _picker(
    session: Session, policy: ImportPolicy, items: list[ResponsableIn], accounts: Table
) -> IdentifiantPicker:
    """The batch's identifiant picker: its bases' walk positions, their next candidates checked.

    ``items`` are those that may create an account (no source record yet): the picker knows the
    walk of their bases only. Point lookups only (the walk table's key, the identifiant's unique
    index), one per base and per candidate: nothing here grows with the number of accounts
    sharing a base.
    """
    wanted: dict[str, int] = defaultdict(int)
    for item in items:
        wanted[identifiant_base(item.prenom, item.nom)] += 1
    bases = sorted(wanted)
    walks = table_of(IdentifiantWalk)
    query = select(walks.c.base, walks.c.position).where(one_of(session, walks.c.base, bases))
    positions: dict[str, int] = {row[0]: row[1] for row in session.execute(query)}

    def is_taken(candidates: list[str]) -> set[str]:
        query = select(accounts.c.identifiant).where(
            one_of(session, accounts.c.identifiant, candidates)
        )
        return set(session.scalars(query))

    picker = IdentifiantPicker(policy.identifiant_seed, positions, is_taken)
    picker.prefetch(wanted)
    return picker


def _save_walks(session: Session, picker: IdentifiantPicker) -> None:
    """Store the positions the batch moved: new bases inserted, the others updated."""
    walks = table_of(IdentifiantWalk)
    rows = [{"base": b, "position": picker.positions[b]} for b in sorted(picker.moved)]
    insert_rows(session, walks, [r for r in rows if r["base"] not in picker.stored])
    statement = update(walks).where(walks.c.base == bindparam("b")).values(position=bindparam("p"))
    binds = {"b": "base", "p": "position"}
    executemany(session, walks, statement, binds, [r for r in rows if r["base"] in picker.stored])


def _remember_exclusion(state: _Batch, item: ResponsableIn, reason: str) -> None:
    key = (item.source.value, item.source_id)
    values = {
        "school_uai": item.school_uai,
        "nom": item.nom,
        "prenom": item.prenom,
        "reason": reason,
    }
    row = state.excluded.get(key)
    if row is None:
        state.excluded[key] = state.excluded_store.add(
            {"source": key[0], "source_id": key[1], "at": state.now, **values}
        )
    elif any(row[name] != value for name, value in values.items()):
        row.update(values)
        row["at"] = state.now
        state.excluded_store.changed(row)


def _trusted_emails(state: _Batch, account: Row) -> set[str]:
    """The emails an account can be matched on: confirmed by the parent, or given by a source.

    An email the parent typed but never confirmed proves nothing: it is not used.
    """
    emails = {
        source["email"].lower()
        for source in state.by_account[account["id"]]
        if source["email"] and source["deleted_at"] is None
    }
    if account["email"] and account["email_confirmed"]:
        emails.add(account["email"].lower())
    return emails


def _find_match(state: _Batch, item: ResponsableIn, key: str) -> Row | None:
    """The account ``item`` (whose ``match_key`` is ``key``) belongs to, if it has one already."""
    email = item.email.lower() if item.email else None
    for account in state.by_match_key.get(key, []):
        same_mobile = item.mobile is not None and account["mobile"] == item.mobile
        same_email = email is not None and email in _trusted_emails(state, account)
        if same_mobile or same_email:
            return account
    return None


def _create_account(state: _Batch, item: ResponsableIn, key: str) -> Row:
    base = identifiant_base(item.prenom, item.nom)
    identifiant = state.picker.choose(base)
    account = state.accounts_store.add(
        {
            "identifiant": identifiant,
            "identifiant_base": base,
            "nom": item.nom,
            "prenom": item.prenom,
            "match_key": key,
            "mobile": item.mobile,
            "email": item.email,
            "email_confirmed": False,
            "state": NON_ACTIVE,
            "origin": None,
            "password_hash": None,
            "must_change_password": False,
            "franceconnect_sub": None,
            "created_at": state.now,
            "activated_at": None,
            "last_login_at": None,
            "deactivated_at": None,
            "updated_at": state.now,
        }
    )
    state.accounts[account["id"]] = account
    state.by_match_key[key].append(account)
    return account


@dataclass(frozen=True)
class _Given:
    """What a source record gives its account: names, mobile, email (nothing once deleted)."""

    nom: str
    prenom: str
    mobile: str | None
    email: str | None


def _given(source: Row) -> _Given:
    if source["deleted_at"] is not None:
        return _Given(source["nom"], source["prenom"], None, None)
    return _Given(source["nom"], source["prenom"], source["mobile"], source["email"])


def _fallback(state: _Batch, account: Row, source: Row, name: str) -> str | None:
    """The ``name`` (mobile or email) that the account's other live sources give, latest first."""
    others = [
        other
        for other in state.by_account[account["id"]]
        if other is not source and other["deleted_at"] is None and other[name]
    ]
    if not others:
        return None
    value: str = max(others, key=lambda other: (other["updated_at"], other["id"]))[name]
    return value


def _follow(
    state: _Batch, account: Row, source: Row, name: str, before: str | None, after: str | None
) -> bool:
    """Apply one contact field that the source changed since the last import.

    A new value replaces the account's; a cleared one clears it when the account holds what this
    source gave (another live source's value then takes over), and leaves alone a value that came
    from elsewhere.
    """
    if before == after:
        return False
    if after is not None:
        value: str | None = after
    elif account[name] == before:
        value = _fallback(state, account, source, name)
    else:
        return False
    if account[name] == value:
        return False
    account[name] = value
    return True


def _apply_contact(state: _Batch, account: Row, source: Row, before: _Given | None) -> bool:
    """Bring the account up to date with what ``source`` changed since the last import.

    ``before`` is what the source gave at the last import (None for a new source: it only fills
    what the account lacks). Values that did not change in the source are never re-applied, so a
    re-sent responsable does not undo what happened since; an email the parent confirmed is
    theirs, and the import never replaces nor clears it.
    """
    after = _given(source)
    changed = False
    if before is None:
        for name, value in (("mobile", after.mobile), ("email", after.email)):
            if account[name] is None and value is not None:
                account[name] = value
                changed = True
    else:
        names = (after.nom, after.prenom)
        if (
            source["deleted_at"] is None
            and (before.nom, before.prenom) != names
            and (account["nom"], account["prenom"]) != names
        ):
            state.by_match_key[account["match_key"]].remove(account)
            account["nom"], account["prenom"] = after.nom, after.prenom
            account["match_key"] = match_key(after.nom, after.prenom)
            state.by_match_key[account["match_key"]].append(account)
            changed = True
        changed |= _follow(state, account, source, "mobile", before.mobile, after.mobile)
        if not account["email_confirmed"]:
            changed |= _follow(state, account, source, "email", before.email, after.email)
    if changed:
        account["updated_at"] = state.now
        state.accounts_store.changed(account)
    return changed


def _propose(state: _Batch, attachment: Row, link_key: str) -> None:
    attachment.update(
        status=PROPOSED,
        source_id=link_key,
        tries_left=state.policy.birthdate_tries,
        proposed_at=state.now,
        presented_at=None,
        presented_session_id=None,
        decided_at=None,
        decided_by=None,
        reason=None,
    )


def _apply_links(
    state: _Batch,
    account: Row,
    item: ResponsableIn,
    source: str,
    eligible_children: list[ChildIn],
    result: ImportResult,
) -> bool:
    """Propose the children ``item`` now gives, remove those it gave and no longer does."""
    current = state.attachments[account["id"]]
    link_key = source_key(source, item.source_id)
    wanted: dict[int, ChildIn] = {}
    for child in eligible_children:
        wanted[state.children[(source, child.source_id)]["id"]] = child
    changed = False
    for child_id, child in wanted.items():
        attachment = current.get(child_id)
        if attachment is None:
            attachment = state.attachments_store.add(
                {"account_id": account["id"], "child_id": child_id, "lien": child.lien.value}
            )
            _propose(state, attachment, link_key)
            current[child_id] = attachment
        elif attachment["status"] == REMOVED:
            _propose(state, attachment, link_key)
            state.attachments_store.changed(attachment)
        else:
            continue
        result.proposals_added += 1
        changed = True
    for child_id, attachment in current.items():
        if (
            attachment["source_id"] == link_key
            and child_id not in wanted
            and attachment["status"] in LIVE
        ):
            attachment.update(
                status=REMOVED,
                decided_at=state.now,
                decided_by="sync",
                reason="link gone in ONDE, or pupil no longer enrolled",
            )
            state.attachments_store.changed(attachment)
            result.links_removed += 1
            changed = True
    return changed


def _new_source(state: _Batch, account: Row, item: ResponsableIn, kind: str) -> Row:
    source = state.sources_store.add(
        {
            "account_id": account["id"],
            "source": kind,
            "source_id": item.source_id,
            "school_uai": item.school_uai,
            "civility": item.civility,
            "nom": item.nom,
            "prenom": item.prenom,
            "mobile": item.mobile,
            "accepts_sms": item.accepts_sms,
            "email": item.email,
            "fingerprint": _fingerprint(item),
            "updated_at": state.now,
            "deleted_at": None,
        }
    )
    state.by_account[account["id"]].append(source)
    return source


def _apply_item(state: _Batch, item: ResponsableIn) -> ImportResult:
    kind = item.source.value
    key = (kind, item.source_id)
    source = state.sources.get(key)
    eligible_children = [] if item.deleted else [c for c in item.children if eligible(c)]
    has_eligible = bool(eligible_children)
    result = ImportResult(item.source_id, Outcome.unchanged)
    if source is None and not has_eligible:
        result.outcome = Outcome.excluded
        result.reasons.append(exclusion_reason(item))
        _remember_exclusion(state, item, result.reasons[0])
        return result
    if key in state.excluded:
        state.excluded_store.remove(state.excluded.pop(key))
    if source is None:
        names = match_key(item.nom, item.prenom)
        account = _find_match(state, item, names)
        if account is None:
            account = _create_account(state, item, names)
            result.outcome = Outcome.created
        else:
            result.outcome = Outcome.matched
        state.sources[key] = _new_source(state, account, item, kind)
        _apply_contact(state, account, state.sources[key], None)
    else:
        account = state.accounts[source["account_id"]]
        before = _given(source)
        fingerprint = _fingerprint(item)
        if source["fingerprint"] != fingerprint:
            for name in ("school_uai", "civility", "nom", "prenom", "mobile", "accepts_sms"):
                source[name] = getattr(item, name)
            source["email"] = item.email
            source["fingerprint"] = fingerprint
            source["updated_at"] = state.now
            if not item.deleted:
                source["deleted_at"] = None
            elif source["deleted_at"] is None:
                source["deleted_at"] = state.now
            state.sources_store.changed(source)
            result.outcome = Outcome.updated
        if _apply_contact(state, account, source, before):
            result.outcome = Outcome.updated
        if not has_eligible:  # the account exists: it is not "no account", it loses a child
            result.reasons.append(DELETED if item.deleted else NO_LONGER_ELIGIBLE)
    changed_links = _apply_links(state, account, item, kind, eligible_children, result)
    if changed_links and result.outcome is Outcome.unchanged:
        result.outcome = Outcome.updated
    if has_eligible and item.mobile is None:
        result.reasons.append(NO_MOBILE)
    elif has_eligible and not item.accepts_sms:
        result.reasons.append(NO_SMS)
    result.account_id = account["id"]
    result.identifiant = account["identifiant"]
    state.touched[account["id"]] = result
    return result


def _enrolled(state: _Batch) -> dict[int, bool]:
    """Whether each child of the touched accounts' attachments is enrolled."""
    known = {row["id"]: bool(row["enrolled"]) for row in state.children.values()}
    missing = sorted(
        {
            child_id
            for account_id in state.touched
            for child_id in state.attachments[account_id]
            if child_id not in known
        }
    )
    table = state.children_store.table
    session = state.children_store.session
    query = select(table.c.id, table.c.enrolled).where(one_of(session, table.c.id, missing))
    known.update((cid, bool(enrolled)) for cid, enrolled in session.execute(query))
    return known


def _settle_states(state: _Batch, allow_deactivation: bool) -> None:
    """Deactivate accounts left with no live attachment of an enrolled child; restore the others."""
    enrolled = _enrolled(state)
    for account_id, result in state.touched.items():
        account = state.accounts[account_id]
        live = any(
            a["status"] in LIVE and enrolled[child_id]
            for child_id, a in state.attachments[account_id].items()
        )
        if account["state"] == DESACTIVE and live:
            restored = AccountState.active if account["activated_at"] else AccountState.non_active
            account.update(state=restored.value, deactivated_at=None, updated_at=state.now)
            result.restored = True
        elif account["state"] != DESACTIVE and not live:
            if not allow_deactivation:
                result.deactivation_pending = True
                continue
            account.update(state=DESACTIVE, deactivated_at=state.now, updated_at=state.now)
            result.deactivated = True
        else:
            continue
        state.accounts_store.changed(account)
        if result.outcome is Outcome.unchanged:
            result.outcome = Outcome.updated


def import_batch(
    session: Session, now: datetime, batch: ImportBatch, policy: ImportPolicy
) -> BatchReport:
    """Upsert a batch of responsables; one result per item, in order."""
    state = _load(session, now, batch, policy)
    results = [_apply_item(state, item) for item in batch.items]
    _settle_states(state, batch.allow_deactivation)
    flush_all(state.stores())
    _save_walks(session, state.picker)
    counts: dict[str, int] = {outcome.value: 0 for outcome in Outcome}
    for result in results:
        counts[result.outcome.value] += 1
    counts["proposals_added"] = sum(r.proposals_added for r in results)
    counts["links_removed"] = sum(r.links_removed for r in results)
    counts["deactivated"] = sum(r.deactivated for r in results)
    counts["deactivation_pending"] = sum(r.deactivation_pending for r in results)
    counts["restored"] = sum(r.restored for r in results)
    return BatchReport(results, counts)
