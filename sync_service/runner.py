"""One sync run: full reconciliation and/or change-log delta, sent to EduConnect in batches.

Safety: a delta's cursor advances in the same transaction as its page's mirror rows, only after
the page's responsables were accepted by EduConnect; a full reconciliation commits its mirror page
by page (rows replaced in place, nothing deleted before the end) and moves the cursor only at its
end. EduConnect's import is idempotent, so a run that stops anywhere is taken up by the next with
nothing lost or doubled. Deactivations are held back
(``allow_deactivation=false``), recorded in ``pending_deactivation`` with the page that found them,
and applied at the end only if under the threshold; a run takes over the held-back deactivations
of failed and interrupted runs, so none is lost.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from typing import Any

import orjson
from sqlalchemy import Engine, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from edusim_common.bulk import insert_rows, one_of
from edusim_common.clock import SimClock
from edusim_common.clock_api import EARLIEST
from edusim_common.collector import collection_paused
from edusim_common.db import read_session, unit_of_work, write_session
from edusim_common.problems import Conflict, NotFound
from sync_service.config import SyncSettings
from sync_service.contract import ExportPage, ImportReport, ImportResult
from sync_service.locks import DriverLock, RunLock
from sync_service.mirror import (
    CLASSES,
    LINKS,
    PUPILS,
    RESPONSABLES,
    Touched,
    apply_changes,
    build_items,
    class_row,
    deleted_item,
    items_of_page,
    link_row,
    pupil_row,
    responsable_row,
)
from sync_service.models import (
    PendingDeactivation,
    Run,
    RunKind,
    RunLine,
    RunStatus,
    SyncState,
)
from sync_service.remote import (
    RUN_RETRIES,
    EduConnectApi,
    OndeApi,
    RemoteError,
    RetryTally,
    encode_batch,
)

log = logging.getLogger("edusim.sync.runner")
RUN_LINES = RunLine.__table__  # type: ignore[attr-defined]
PENDING = PendingDeactivation.__table__  # type: ignore[attr-defined]
LINE_COLUMNS = ("run_id", "source_id", "school_uai", "outcome", "identifiant", "reason")
#: Runs whose held-back deactivations the next run takes over.
ORPHANED = (RunStatus.failed.value, RunStatus.interrupted.value)
COUNT_KEYS = (
    "changes_read",
    "responsables_sent",
    "created",
    "matched",
    "updated",
    "unchanged",
    "excluded",
    "failed",
    "proposals_added",
    "links_removed",
    "deactivated",
    "deactivation_pending",
    "restored",
    "no_mobile",
    "retries",
)


@dataclass
class SyncContext:
    """What a run needs: its database, the two remote services, the settings and the clock."""

    engine: Engine
    onde: OndeApi
    educonnect: EduConnectApi
    settings: SyncSettings
    clock: SimClock
    #: The run started by ``run_in_background`` and still going, if any (``stop`` waits for it).
    background: threading.Thread | None = None
    #: Serialises the moves of the clock (clock routes, scheduler catch-up, snapshots) in this
    #: process and across the deployment's processes (see ``sync_service.locks``).
    driver_lock: DriverLock = field(init=False)
    #: Held by whoever carries out a run, from its claim to its recorded end, in this process and
    #: across the deployment's (see ``sync_service.locks``); also by approvals and snapshots.
    run_lock: RunLock = field(init=False)

    def __post_init__(self) -> None:
        self.driver_lock = DriverLock(self.engine)
        self.run_lock = RunLock(self.engine)


class NightAlreadyRun(Conflict):
    """The night was already claimed by a run (by the scheduler or by a clock move)."""


def get_state(session: Session) -> SyncState:
    """The one-row state, created on first use."""
    state = session.get(SyncState, 1)
    if state is None:
        state = SyncState(id=1)
        session.add(state)
        session.flush()
    return state


def running_run(session: Session) -> int | None:
    """The run marked ``running`` in the database, if any (live, or left by a dead process)."""
    return session.scalar(select(col(Run.id)).where(col(Run.status) == RunStatus.running.value))


def live_run(ctx: SyncContext) -> int | None:
    """The run in progress in the deployment, if any: a ``running`` run whose lock is held.

    A ``running`` run whose lock is free was left by a process that died: it is marked
    interrupted here, and None is returned.
    """
    with read_session(ctx.engine) as session:
        running = running_run(session)
    if running is None or not take_run_lock(ctx):
        return running
    ctx.run_lock.release()
    return None


class RunBusy(Conflict):
    """The run lock is taken: by a run (``run_id``), or by an approval or a snapshot (None)."""

    def __init__(self, run_id: int | None, detail: str | None = None) -> None:
        if detail is None and run_id is None:
            detail = (
                "a sync run, an approval or a snapshot is in progress: try again when it has ended"
            )
        elif detail is None:
            detail = f"run {run_id} is still running: runs never overlap"
        super().__init__(detail, extra={} if run_id is None else {"run_id": run_id})
        self.run_id = run_id


def take_run_lock(ctx: SyncContext, wait_here: bool = False) -> bool:
    """Take the run lock if free; whether it was taken. Runs left ``running`` by a dead process
    are then marked interrupted (holding the lock, no live run can be among them).

    ``wait_here`` waits for this process's run, approval or snapshot; another process's is
    never waited for (it may last minutes).
    """
    if not ctx.run_lock.acquire(blocking=wait_here, wait_for_others=False):
        return False
    try:
        mark_interrupted(ctx.engine)
    except BaseException:
        ctx.run_lock.release()
        raise
    return True


def hold_run_lock(ctx: SyncContext, wait_here: bool = False) -> None:
    """:func:`take_run_lock`, or raise :class:`RunBusy` naming the run in progress."""
    if not take_run_lock(ctx, wait_here):
        with read_session(ctx.engine) as session:
            raise RunBusy(running_run(session))


def claim_run(
    ctx: SyncContext,
    kind: RunKind,
    cutoff: datetime,
    dry_run: bool,
    night: date | None = None,
) -> int:
    """Record a new running run; the caller holds the run lock (:func:`hold_run_lock`).

    A nightly run claims its ``night`` (unique): a night already claimed raises
    :class:`NightAlreadyRun`, except when its run was interrupted (its process died), which the new
    claim takes over. A real run takes over the pending deactivations of failed and interrupted
    runs.
    """
    with unit_of_work(ctx.engine) as session:
        if night is not None:
            session.execute(
                update(Run)
                .where(col(Run.night) == night, col(Run.status) == RunStatus.interrupted.value)
                .values(night=None)
            )
            done = session.scalar(select(col(Run.id)).where(col(Run.night) == night))
            if done is not None:
                raise NightAlreadyRun(f"the night of {night} was already run (run {done})")
        state = get_state(session)
        run = Run(
            kind=kind.value,
            night=night,
            dry_run=dry_run,
            status=RunStatus.running.value,
            cutoff=cutoff,
            started_at=ctx.clock.now(),
            from_cursor=state.cursor,
            to_cursor=state.cursor,
            counts=orjson.dumps(dict.fromkeys(COUNT_KEYS, 0)).decode(),
        )
        session.add(run)
        try:
            session.flush()
        except IntegrityError as exc:  # another process claimed the night meanwhile
            raise NightAlreadyRun(f"the night of {night} was already run") from exc
        run_id = run.id or 0
        if not dry_run:
            _take_over_pending(session, run_id)
        return run_id


def _take_over_pending(session: Session, run_id: int) -> None:
    """Move the pending deactivations of failed and interrupted runs to ``run_id``."""
    orphaned = select(col(Run.id)).where(col(Run.status).in_(ORPHANED))
    rows = session.execute(
        select(PENDING.c.responsable_id, PENDING.c.deleted).where(PENDING.c.run_id.in_(orphaned))
    ).all()
    if not rows:
        return
    kept: dict[int, str | None] = dict(rows)
    session.execute(delete(PENDING).where(PENDING.c.run_id.in_(orphaned)))
    session.execute(
        insert(PENDING),
        [{"run_id": run_id, "responsable_id": rid, "deleted": d} for rid, d in kept.items()],
    )


def pending_of(session: Session, run_id: int) -> dict[int, dict[str, Any] | None]:
    """A run's held-back deactivations: responsable id -> last state if deleted in ONDE."""
    rows = session.execute(
        select(PENDING.c.responsable_id, PENDING.c.deleted).where(PENDING.c.run_id == run_id)
    )
    return {rid: orjson.loads(deleted) if deleted else None for rid, deleted in rows}


class RunTakenOver(RuntimeError):
    """The run was marked ended by another process while it went on: its run lock was lost."""


def check_still_running(session: Session, run_id: int) -> None:
    """Raise :class:`RunTakenOver` unless the run is still ``running`` (read in the transaction
    about to commit its work).

    A run's lock can vanish under it (on PostgreSQL, its lock's database session ended): another
    process then marks the run interrupted and may start the next. The run must not commit one
    more page, nor end as succeeded over that mark.
    """
    status = session.scalar(select(col(Run.status)).where(col(Run.id) == run_id))
    if status != RunStatus.running.value:
        raise RunTakenOver(
            f"run {run_id} was marked {status} by another process while it went on (its run lock "
            "was lost, e.g. its database session ended): it stopped, its last page not saved"
        )


def mark_interrupted(engine: Engine) -> int:
    """Runs left "running" by a process that died are marked interrupted (run lock held)."""
    with unit_of_work(engine) as session:
        result = session.execute(
            update(Run)
            .where(col(Run.status) == RunStatus.running.value)
            .values(status=RunStatus.interrupted.value, error="the sync process stopped mid-run")
        )
        marked = int(result.rowcount)  # type: ignore[attr-defined]
    if marked:
        log.warning("%d run(s) left running by a stopped process marked interrupted", marked)
    return marked


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


#: A batch sent, EduConnect's results for it, and whether it was sent again (``_Sender.send``).
_Answer = tuple[list[dict[str, Any]], list[ImportResult], bool]


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)


class _Sender:
    """Sends items to EduConnect in batches, isolating invalid items, and records report lines."""

    def __init__(self, ctx: SyncContext, run_id: int, dry_run: bool, tally: _Tally) -> None:
        self.ctx = ctx
        self.run_id = run_id
        self.dry_run = dry_run
        self.tally = tally
        # A dry run rolls its transaction back: its lines are kept aside and written afterwards.
        self.held_lines: list[dict[str, Any]] = []
        # While ``exchange`` runs: the answers, recorded later by ``record_answers``.
        self._answers: list[_Answer] | None = None

    def exchange(
        self,
        session: Session,
        items: Sequence[dict[str, Any]],
        allow: bool = False,
        again: bool = False,
    ) -> list[_Answer]:
        """Send ``items`` as :meth:`send` does, but write nothing: the answers, to be recorded by
        :meth:`record_answers` (the caller need hold no transaction meanwhile)."""
        self._answers = []
        try:
            self.send(session, items, allow, again)
            return self._answers
        finally:
            self._answers = None

    def record_answers(self, session: Session, answers: list[_Answer]) -> None:
        """Record what :meth:`exchange` kept: report lines, counts, held-back deactivations."""
        for batch, results, again in answers:
            self._record(session, batch, results, again)

    def send(
        self,
        session: Session,
        items: Sequence[dict[str, Any]],
        allow: bool = False,
        again: bool = False,
    ) -> None:
        """Send ``items`` in batches and record one line per item.

        ``again``: these responsables were already sent by this run (their deactivation held
        back): their new answer completes their line instead of counting them twice.
        """
        size = self.ctx.settings.batch_size
        self.send_batches(session, (list(b) for b in _chunks(items, size)), allow, again)

    def send_batches(
        self,
        session: Session,
        batches: Iterable[list[dict[str, Any]]],
        allow: bool = False,
        again: bool = False,
        before_wait: Callable[[], None] | None = None,
    ) -> None:
        """Send batches one after the other, overlapping our work with EduConnect's.

        One batch at a time is in flight (its HTTP call, on a worker thread); meanwhile this
        thread builds and encodes the next batch (``batches`` may be a lazy generator), then reads
        the previous answer and records its lines once the next batch is on its way, so that
        EduConnect waits for nothing of ours but the transfer. A batch is sent only once the
        previous one has been answered, and a batch refused as invalid (422) is bisected before
        anything else is sent, so EduConnect sees the same calls in the same order as without the
        overlap. ``before_wait`` is called each time before an answer is waited for (the full
        reconciliation commits there: no transaction stays open while EduConnect works).
        """
        pending = chain(batches, [None])  # None: the last answer is still to be read
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-send") as pool:
            flying: tuple[list[dict[str, Any]], Future[bytes]] | None = None
            while True:
                # One batch's work with the garbage collector paused (edusim_common.collector).
                with collection_paused():
                    batch = next(pending)
                    body = encode_batch(batch, allow, self.dry_run) if batch is not None else b""
                    answered = None
                    if flying:
                        if before_wait is not None:
                            before_wait()
                        answered = self._settle(session, *flying, allow, again, before_wait)
                    flying = None
                    if batch is not None:
                        flying = (
                            batch,
                            pool.submit(copy_context().run, self.ctx.educonnect.post_batch, body),
                        )
                    if answered is not None:
                        report = ImportReport.model_validate_json(answered[1])
                        self._record(session, answered[0], report.results, again)
                if batch is None:
                    return

    def _settle(
        self,
        session: Session,
        batch: list[dict[str, Any]],
        future: Future[bytes],
        allow: bool,
        again: bool,
        before_wait: Callable[[], None] | None,
    ) -> tuple[list[dict[str, Any]], bytes] | None:
        """Wait for a batch's answer: (batch, answer), or None once a refused batch is dealt with.

        A batch refused as invalid (422) was not applied at all: it is bisected at once.
        """
        try:
            return batch, future.result()
        except RemoteError as exc:
            if exc.status != 422:
                raise
            self._refused(session, batch, exc, allow, again, before_wait)
            return None

    def _refused(
        self,
        session: Session,
        batch: list[dict[str, Any]],
        error: RemoteError,
        allow: bool,
        again: bool,
        before_wait: Callable[[], None] | None,
    ) -> None:
        """A batch refused as invalid: one item is reported failed, more are sent in halves."""
        if len(batch) == 1:  # one invalid item: report it, go on with the others
            self._record(session, batch, [_failed(batch[0], str(error))], again)
            return
        middle = len(batch) // 2
        self._send_batch(session, batch[:middle], allow, again, before_wait)
        self._send_batch(session, batch[middle:], allow, again, before_wait)

    def _send_batch(
        self,
        session: Session,
        batch: list[dict[str, Any]],
        allow: bool,
        again: bool,
        before_wait: Callable[[], None] | None,
    ) -> None:
        if before_wait is not None:
            before_wait()
        try:
            report = self.ctx.educonnect.import_batch(batch, allow, dry_run=self.dry_run)
        except RemoteError as exc:
            if exc.status != 422:
                raise
            self._refused(session, batch, exc, allow, again, before_wait)
            return
        self._record(session, batch, report.results, again)

    def _earlier_lines(self, session: Session, batch: list[dict[str, Any]]) -> dict[str, Any]:
        """This run's lines of ``batch``'s responsables, taken out of the report and the counts."""
        ids = [str(item["source_id"]) for item in batch]
        where = (RUN_LINES.c.run_id == self.run_id, RUN_LINES.c.source_id.in_(ids))
        earlier = {row.source_id: row for row in session.execute(select(RUN_LINES).where(*where))}
        for row in earlier.values():
            self.tally.counts["responsables_sent"] -= 1
            self.tally.counts[row.outcome] -= 1
            if any(part.startswith("no mobile") for part in row.reason.split("; ")):
                self.tally.counts["no_mobile"] -= 1
        if earlier:
            session.execute(delete(RUN_LINES).where(*where))
        return earlier

    def _record(
        self,
        session: Session,
        batch: list[dict[str, Any]],
        results: list[ImportResult],
        again: bool = False,
    ) -> None:
        if self._answers is not None:
            self._answers.append((batch, results, again))
            return
        counts = self.tally.counts
        earlier = self._earlier_lines(session, batch) if again and not self.dry_run else {}
        lines = []
        answered: list[int] = []
        held: list[dict[str, Any]] = []
        for item, result in zip(batch, results, strict=True):
            outcome, reasons = result.outcome, _line_reasons(result)
            first = earlier.get(result.source_id)
            if first is not None:  # one line per responsable: what both answers said
                outcome = first.outcome if outcome == "unchanged" else outcome
                kept = [r for r in first.reason.split("; ") if r and not r.startswith(HELD)]
                reasons = kept + [r for r in reasons if r not in kept]
            counts["responsables_sent"] += 1
            counts[outcome] += 1
            counts["proposals_added"] += result.proposals_added
            counts["links_removed"] += result.links_removed
            counts["deactivated"] += int(result.deactivated)
            counts["restored"] += int(result.restored)
            if result.outcome != "failed":
                answered.append(int(item["source_id"]))
            if result.deactivation_pending:
                held.append(_pending_row(self.run_id, item))
            if any(reason.startswith("no mobile") for reason in result.reasons):
                counts["no_mobile"] += 1
            lines.append(
                {
                    "run_id": self.run_id,
                    "source_id": result.source_id,
                    "school_uai": item.get("school_uai"),
                    "outcome": outcome,
                    "identifiant": result.identifiant,
                    "reason": "; ".join(reasons),
                }
            )
        if self.dry_run:
            self.held_lines.extend(lines)
        elif lines:
            insert_rows(session, RUN_LINES, lines, LINE_COLUMNS)
        # The latest answer for a responsable decides whether its deactivation is still pending.
        # (A dry run writes these rows too, only to count them: its transaction is rolled back.)
        if answered:
            session.execute(
                delete(PENDING).where(
                    PENDING.c.run_id == self.run_id,
                    one_of(session, PENDING.c.responsable_id, answered),
                )
            )
        if held:
            session.execute(insert(PENDING), held)


def _pending_row(run_id: int, item: dict[str, Any]) -> dict[str, Any]:
    deleted = None
    if item.get("deleted"):
        last = {key: item.get(key) for key in ("school_uai", "nom", "prenom")}
        deleted = orjson.dumps(last).decode()
    return {"run_id": run_id, "responsable_id": int(item["source_id"]), "deleted": deleted}


HELD = "deactivation held back"


def _line_reasons(result: ImportResult) -> list[str]:
    reasons = list(result.reasons)
    if result.proposals_added:
        reasons.append(f"{result.proposals_added} child(ren) proposed")
    if result.links_removed:
        reasons.append(f"{result.links_removed} link(s) removed")
    if result.deactivated:
        reasons.append("account deactivated: no enrolled child left")
    if result.deactivation_pending:
        reasons.append(f"{HELD}: waiting for the threshold check")
    if result.restored:
        reasons.append("account restored: a child is enrolled again")
    return reasons


def _failed(item: dict[str, Any], reason: str) -> ImportResult:
    return ImportResult(source_id=str(item["source_id"]), outcome="failed", reasons=[reason])


def _export_pages(ctx: SyncContext, entity: str, embed: str | None) -> Iterator[ExportPage]:
    """ONDE's export of ``entity`` page by page; the next page is read while this one is used.

    Closed early (the run failed), it waits for the page being read: the run has rolled back
    first, so no write lock is held meanwhile (``_full``).
    """
    size = ctx.settings.page_size
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-export") as pool:
        coming = pool.submit(copy_context().run, ctx.onde.export, entity, 0, size, embed)
        while True:
            page = coming.result()
            if page.next_after is not None:
                coming = pool.submit(
                    copy_context().run, ctx.onde.export, entity, page.next_after, size, embed
                )
            yield page
            if page.next_after is None:
                return


#: The full reconciliation's first batch; each next one is twice as big, up to the batch size.
FIRST_BATCH = 2000


def _full(ctx: SyncContext, session: Session, sender: _Sender, tally: _Tally) -> int:
    """Bring the mirror to ONDE's export and send every responsable; the watermark.

    Classes come first. Then responsables, each with its links, and pupils are read side by
    side, both in id order: before a page of responsables is built, the pupils are read up to
    the highest pupil its links name, so EduConnect starts importing after the first pages
    instead of after every pupil (a pupil and their responsables are recorded together, so both
    exports move at the same pace). Each page goes into the mirror and is sent at once, so
    EduConnect imports while the sync reads and stores the next page (responsables are sent in
    id order, in batches that double up to the batch size). The pupils left are read at the end;
    responsables that vanished from ONDE are sent last, as deleted.

    Each page's rows replace those with the same ids in the mirror, and the rows the export no
    longer gives are deleted at the end (vanished responsables once EduConnect has their
    deletion). Except in a dry run, what is written is committed before each wait for ONDE or
    EduConnect, so no transaction stays open meanwhile. A run that stops half-way leaves a mirror
    that holds every row it held before, some of them newer, and the cursor where it was: the
    next run reads the change log from there (or, on a first sync, reconciles in full again, and
    still finds every vanished responsable).

    A link to a pupil created after the pupils were read has no pupil in the mirror yet: its
    responsable goes without that child, and the change log from the watermark (this run's
    deltas, or the next night's if it came after the cut-off) sends it again with the child.
    """
    before = {row["id"]: dict(row) for row in session.execute(select(RESPONSABLES)).mappings()}
    mirror = {
        table.name: _Replaced(session, table, set(before) if table is RESPONSABLES else None)
        for table in (CLASSES, PUPILS, RESPONSABLES, LINKS)
    }
    watermark: int | None = None

    def commit() -> None:
        """Commit what is written (not in a dry run): called before each wait for ONDE or
        EduConnect. A run taken over by another process rolls back and stops (RunTakenOver)."""
        if sender.dry_run:
            return
        try:
            check_still_running(session, sender.run_id)
        except RunTakenOver:
            session.rollback()  # its write lock released now, not once the threads are done
            raise
        session.commit()

    def load(
        table: Table, entity: str, shape: Any, embed: str | None = None
    ) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        """Each page's mirror rows, once stored: (rows, the links they embed)."""
        nonlocal watermark
        pages = _export_pages(ctx, entity, embed)
        while True:
            commit()  # before each page is waited for, the first one included
            page = next(pages, None)
            if page is None:
                return
            if watermark is None:
                watermark = page.watermark
            if page.items:
                rows = [shape(item) for item in page.items]
                mirror[table.name].put(rows)
                tally.counts["changes_read"] += len(rows)
                links: list[dict[str, Any]] = []
                if embed == "links":
                    links = [link_row(link) for item in page.items for link in item["links"]]
                    mirror[LINKS.name].put(links)
                    tally.counts["changes_read"] += len(links)
                yield rows, links

    for _ in load(CLASSES, "classes", class_row):
        pass
    pupils = load(PUPILS, "pupils", pupil_row)
    pupils_read: float = 0  # the highest pupil id in the mirror; infinite once all are read

    def read_pupils(up_to: float = math.inf) -> None:
        """Read pupils until ``up_to`` is past (by default: all of them)."""
        nonlocal pupils_read
        while pupils_read < up_to:
            page = next(pupils, None)
            pupils_read = math.inf if page is None else page[0][-1]["id"]

    def batches() -> Iterator[list[dict[str, Any]]]:
        # Small batches first, doubling up to the batch size: EduConnect starts as soon as a few
        # pages are read instead of waiting for a whole batch of 50,000, and the sync, faster per
        # responsable than the import, stays ahead.
        size = min(FIRST_BATCH, ctx.settings.batch_size)
        waiting: list[dict[str, Any]] = []
        for rows, links in load(RESPONSABLES, "responsables", responsable_row, embed="links"):
            read_pupils(max((link["pupil_id"] for link in links), default=0))
            # Built from the page's own rows: only the linked pupils are read back.
            waiting.extend(items_of_page(session, rows, links))
            while len(waiting) >= size:
                yield waiting[:size]
                waiting = waiting[size:]
                size = min(2 * size, ctx.settings.batch_size)
        read_pupils()  # the pupils no responsable named: the mirror holds them all
        if waiting:
            yield waiting

    try:
        sender.send_batches(session, batches(), before_wait=commit)
        for name in (LINKS.name, PUPILS.name, CLASSES.name):
            mirror[name].delete_the_rest()
        # Each batch of vanished responsables leaves the mirror in the transaction that records
        # EduConnect's answers for it: stopped before, the next run finds them vanished again.
        vanished = sorted(mirror[RESPONSABLES.name].left)
        for chunk in _chunks(vanished, ctx.settings.batch_size):
            commit()
            answers = sender.exchange(session, [deleted_item(rid, before[rid]) for rid in chunk])
            sender.record_answers(session, answers)
            _delete_ids(session, RESPONSABLES, chunk)
        commit()
    except BaseException:
        # Rolled back before the export and send threads are waited for (the generators close
        # as this frame unwinds): no write lock held while an ONDE page or a batch finishes.
        session.rollback()
        raise
    return watermark or 0


class _Replaced:
    """A mirror table that a full reconciliation replaces page by page.

    ``left``: the ids the mirror held at the start (read then, or given) that no page has given
    yet; on a first sync, none. A page's rows replace those with the same ids; what is left at
    the end is no longer in ONDE.
    """

    def __init__(self, session: Session, table: Table, ids: set[int] | None = None) -> None:
        self.session = session
        self.table = table
        self.left = set(session.scalars(select(table.c.id))) if ids is None else ids

    def put(self, rows: list[dict[str, Any]]) -> None:
        """Store a page's rows in place of those with their ids."""
        ids = [row["id"] for row in rows]
        if self.left:  # else no id of the page can be in the mirror (ONDE's ids are not reused)
            self.left.difference_update(ids)
            _delete_ids(self.session, self.table, ids)
        insert_rows(self.session, self.table, rows)

    def delete_the_rest(self) -> None:
        """Delete the rows no page gave."""
        _delete_ids(self.session, self.table, sorted(self.left))
        self.left = set()


def _delete_ids(session: Session, table: Table, ids: Sequence[int]) -> None:
    """Delete the rows of ``table`` with these ids."""
    for chunk in _chunks(ids, 50_000):
        session.execute(delete(table).where(one_of(session, table.c.id, chunk)))


def _deltas(
    ctx: SyncContext,
    session: Session,
    sender: _Sender,
    state: SyncState,
    cutoff: datetime,
    commit_each_page: bool,
) -> None:
    """Apply the change log from the cursor up to the cut-off, page by page."""
    if cutoff < EARLIEST:  # the night of 1 January 1900: no change is recorded before the range
        return
    cursor = state.cursor
    while True:
        if commit_each_page:
            session.commit()  # no transaction open while ONDE, then EduConnect, are waited for
        page = ctx.onde.changes(cursor, cutoff, ctx.settings.page_size)
        if not page.items:
            return
        touched: Touched = apply_changes(session, page.items)
        sender.tally.counts["changes_read"] += len(page.items)
        items = build_items(session, touched.responsables, touched.deleted)
        if commit_each_page:
            # EduConnect is waited for outside any transaction: on SQLite an open write holds
            # the database's lock, and a clock move would wait as long as EduConnect (its
            # latency, its retries). The page is applied again once it has answered.
            session.rollback()
            answers = sender.exchange(session, items)
            apply_changes(session, page.items)
            sender.record_answers(session, answers)
        else:
            sender.send(session, items)
        state.cursor = cursor = page.next_after
        if commit_each_page:
            check_still_running(session, sender.run_id)
            session.commit()  # mirror + cursor + report lines of this page, together
        if not page.has_more:
            return


def _over_threshold(ctx: SyncContext, session: Session, pending: int) -> bool:
    """Whether ``pending`` deactivations are too many: over the count, or over the share.

    The share is of the responsables in the mirror. It is over ``max_percent`` exactly when the
    mirror holds fewer than ``pending * 100 / max_percent`` of them, so no more than that many
    are counted: the check reads in proportion to the night's deactivations, not to the mirror
    (at 1 M pupils a full count took 35 ms with the file cached, 420 ms without).
    """
    settings = ctx.settings
    if pending > settings.deactivation_max_count:
        return True
    if pending < settings.deactivation_percent_min_count:
        return False
    if settings.deactivation_max_percent <= 0:
        return True
    enough = math.floor(100.0 * pending / settings.deactivation_max_percent) + 1
    some = select(RESPONSABLES.c.id).limit(enough).subquery()
    total = session.scalar(select(func.count()).select_from(some)) or 0
    return 100.0 * pending / max(total, 1) > settings.deactivation_max_percent


#: Schools asked of ONDE at a time: its largest page, and the most EduConnect takes in one call.
SCHOOL_PAGE = 5000


def _push_schools(ctx: SyncContext) -> None:
    """ONDE's schools to EduConnect's directory, one call per page, so that its pages and letters
    name them (a few thousand at 1 M pupils: one page). Idempotent: EduConnect writes only the
    names that changed."""
    cursor: str | None = None
    while True:
        page = ctx.onde.schools(cursor, SCHOOL_PAGE)
        if page.items:
            ctx.educonnect.put_schools(page.items)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def execute_run(ctx: SyncContext, run_id: int, full: bool) -> Run:
    """Carry out a claimed run; it ends succeeded, failed, or awaiting approval."""
    started = time.perf_counter()
    tally = _Tally()
    retries = RetryTally()
    counting = RUN_RETRIES.set(retries)
    session = write_session(ctx.engine)
    try:
        run = session.get(Run, run_id)
        assert run is not None
        dry_run = run.dry_run
        session.commit()  # no transaction open (so no write lock held) while the schools go
        if not dry_run:  # a dry run changes nothing in EduConnect, its directory included
            _push_schools(ctx)
        sender = _Sender(ctx, run_id, dry_run, tally)
        state = get_state(session)
        if full or not state.mirror_ready:
            watermark = _full(ctx, session, sender, tally)
            state.cursor = watermark
            state.mirror_ready = True
            if not dry_run:
                check_still_running(session, run_id)
                session.commit()
        _deltas(ctx, session, sender, state, run.cutoff, commit_each_page=not dry_run)
        status = RunStatus.succeeded
        pending = pending_of(session, run_id)
        if pending and not dry_run:
            if _over_threshold(ctx, session, len(pending)):
                status = RunStatus.awaiting_approval
            else:
                _apply_deactivations(session, sender, pending)
                pending = {}
        to_cursor = state.cursor
        if dry_run:
            session.rollback()
            to_cursor = run.from_cursor
            if sender.held_lines:
                insert_rows(session, RUN_LINES, sender.held_lines, LINE_COLUMNS)
        tally.counts["retries"] = retries.count
        check_still_running(session, run_id)
        _finish(session, ctx, run_id, status, tally, sorted(pending), to_cursor, started, None)
        session.commit()
    except Exception as exc:
        session.rollback()
        log.exception("run %s failed", run_id)
        tally.counts["retries"] = retries.count
        with unit_of_work(ctx.engine) as fresh:
            cursor = get_state(fresh).cursor
            # What the committed pages held back stays recorded: the next run takes it over.
            kept = sorted(pending_of(fresh, run_id))
            _finish(fresh, ctx, run_id, RunStatus.failed, tally, kept, cursor, started, str(exc))
    finally:
        session.close()
        RUN_RETRIES.reset(counting)
    with unit_of_work(ctx.engine) as fresh:
        done = fresh.get(Run, run_id)
        assert done is not None
        return done


def _apply_deactivations(
    session: Session, sender: _Sender, pending: dict[int, dict[str, Any] | None]
) -> None:
    """Send the held-back responsables again, rebuilt from the mirror, deactivation allowed.

    Responsables deleted in ONDE are no longer in the mirror: they go from their last state. Each
    answer is in the report (an item refused as invalid is a `failed` line): none stays pending.
    """
    deleted = {rid: last for rid, last in pending.items() if last is not None}
    items = build_items(session, pending, deleted)
    session.commit()  # nothing written yet: no transaction open while EduConnect works
    answers = sender.exchange(session, items, allow=True, again=True)
    sender.record_answers(session, answers)
    session.execute(delete(PENDING).where(PENDING.c.run_id == sender.run_id))


def _finish(
    session: Session,
    ctx: SyncContext,
    run_id: int,
    status: RunStatus,
    tally: _Tally,
    pending: list[int],
    to_cursor: int,
    started: float,
    error: str | None,
) -> None:
    run = session.get(Run, run_id)
    assert run is not None
    counts = dict.fromkeys(COUNT_KEYS, 0) | dict(tally.counts)
    counts["deactivation_pending"] = len(pending)
    run.status = status.value
    run.counts = orjson.dumps(counts).decode()
    run.pending_deactivations = orjson.dumps(pending).decode()
    run.to_cursor = to_cursor
    run.finished_at = ctx.clock.now()
    run.wall_seconds = round(time.perf_counter() - started, 3)
    run.error = error


def run_now(
    ctx: SyncContext,
    kind: RunKind,
    cutoff: datetime,
    *,
    full: bool = False,
    dry_run: bool = False,
) -> Run:
    """Claim and carry out a run in this thread (one at a time in the deployment): a run in
    progress here or in another process is a :class:`RunBusy`. (Nightly runs: ``driver``.)"""
    hold_run_lock(ctx)
    try:
        return execute_run(ctx, claim_run(ctx, kind, cutoff, dry_run), full)
    finally:
        ctx.run_lock.release()


def run_in_background(
    ctx: SyncContext, kind: RunKind, cutoff: datetime, *, full: bool = False, dry_run: bool = False
) -> Run:
    """Claim a run here, carry it out in a thread of its own; the run as claimed (``running``).

    For a client that will not hold a request open for a long run (``Prefer: respond-async``):
    it reads the run's progress and outcome with ``GET /runs/{id}``. The same rules as
    :func:`run_now`: one run at a time (a :class:`Conflict` otherwise).
    """
    hold_run_lock(ctx)
    try:
        run_id = claim_run(ctx, kind, cutoff, dry_run)
        with read_session(ctx.engine) as session:
            claimed = session.get(Run, run_id)
        assert claimed is not None
    except BaseException:
        ctx.run_lock.release()
        raise

    def carry_out() -> None:
        try:
            execute_run(ctx, run_id, full)
        except Exception:  # execute_run records the failure in the run; this is the rest
            log.exception("run %s ended with an error", run_id)
        finally:
            ctx.background = None
            ctx.run_lock.release()

    thread = threading.Thread(target=carry_out, name=f"sync-run-{run_id}", daemon=True)
    ctx.background = thread
    try:
        thread.start()
    except BaseException as exc:  # no thread to be had: the run ends here, failed
        ctx.background = None
        try:
            with unit_of_work(ctx.engine) as session:
                run = session.get(Run, run_id)
                assert run is not None
                run.status = RunStatus.failed.value
                run.finished_at = ctx.clock.now()
                run.error = f"the run could not start: {exc}"
        finally:
            ctx.run_lock.release()
        raise
    return claimed


def approve(ctx: SyncContext, run_id: int) -> Run:
    """Apply the deactivations a run held back (rebuilt from the current mirror)."""
    hold_run_lock(ctx, wait_here=True)
    try:
        return _approve(ctx, run_id)
    finally:
        ctx.run_lock.release()


def _approve(ctx: SyncContext, run_id: int) -> Run:
    with unit_of_work(ctx.engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFound(f"no run {run_id}")
        if run.status != RunStatus.awaiting_approval.value or run.dry_run:
            raise Conflict(f"run {run_id} is {run.status}: nothing to approve")
        tally = _Tally(counts=Counter(orjson.loads(run.counts)))
        sender = _Sender(ctx, run_id, run.dry_run, tally)
        # A run held back by an older version has its ids only in the run row.
        pending = pending_of(session, run_id) or dict.fromkeys(
            orjson.loads(run.pending_deactivations)
        )
        _apply_deactivations(session, sender, pending)
        tally.counts["deactivation_pending"] = 0
        run.counts = orjson.dumps(dict(tally.counts)).decode()
        run.pending_deactivations = "[]"
        run.status = RunStatus.succeeded.value
        session.flush()
        return run
