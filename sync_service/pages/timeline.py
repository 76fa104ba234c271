"""« Parcours d'un responsable »: from the director's entry in ONDE to each child attached.

ONDE changes → the sync run that carried each → what the run did → the EduConnect account's
life (created, activated with its origin, first login, each child proposed, attached, blocked or
unblocked), with EduConnect's « explain » diagnosis beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from edusim_common.db import read_session
from edusim_common.problems import NotFound
from edusim_common.web.explain_fr import ORIGIN_LABEL_FR, diagnosis_fr
from edusim_common.web.forms import redirect
from edusim_common.web.plural import plural_fr
from edusim_common.web.render import page
from edusim_common.web.simbar import KIND_FR
from edusim_common.web.words_fr import sex_of_civility
from sync_service.pages import pages, router, with_bar
from sync_service.pages.story import educonnect_event, onde_change
from sync_service.pages.wording import OUTCOME_FR, line_facts, reason_fr, when
from sync_service.runner import SyncContext
from sync_service.timeline import TimelineData, search_responsables, timeline_data

MAX_ID = 2**31 - 1
SYSTEM_ORDER = {"onde": 0, "sync": 1, "educonnect": 2}

pages.templates.env.globals.update(ORIGIN_LABEL_FR=ORIGIN_LABEL_FR)


@dataclass
class Step:
    """One line of the timeline."""

    at: datetime
    system: str
    text: str
    detail: str = ""
    run_id: int | None = None
    """ONDE: the run that carried it; sync: its run; EduConnect: the run that caused it."""
    run_label: str = ""
    pending: bool = False
    badge: str = ""
    seq: tuple[int, int] = (0, 0)
    """Its place in its own system's order: ONDE's change-log seq, the run, EduConnect's list."""
    about: str = ""
    """EduConnect: the attachment a child's step is about."""


@dataclass
class Instant:
    """The steps of one simulated instant, in the order known to have happened.

    ``uncertain``: the steps come from systems acting independently at the same instant (the
    simulated clock stood still), so only each system's own order is known: they are listed
    system by system, and the page says so rather than show an order nobody knows.
    """

    at: datetime
    steps: list[Step]
    uncertain: bool = False


def _run_label(run: Any) -> str:
    kind = KIND_FR.get(run.kind, run.kind)
    dry = " à blanc" if run.dry_run else ""
    return f"synchronisation {kind}{dry} n° {run.id}"


def _responsable_sex(body: dict[str, Any]) -> str | None:
    """The responsable's agreement, from their civility now or in their last recorded state."""
    civility = (body.get("responsable") or {}).get("civility")
    for item in body.get("items", []):
        if civility is None and item["entity"] == "responsable":
            civility = item["data"].get("civility")
    return sex_of_civility(civility)


def _onde_steps(data: TimelineData) -> tuple[list[Step], dict[str, Any] | None, dict[str, str]]:
    """ONDE's steps, the responsable as ONDE has them now, and each pupil's sex by ONDE id."""
    body = data.onde.body or {}
    steps: list[Step] = []
    last: dict[tuple[str, str], dict[str, Any]] = {}
    pupils: dict[int, Any] = {}
    who_sex = _responsable_sex(body)
    for item in body.get("items", []):
        key = (str(item["entity"]), str(item["entity_id"]))
        if item["entity"] == "pupil":
            pupils[int(item["entity_id"])] = item["data"]
        text = onde_change(item, last.get(key), pupils, who_sex)
        last[key] = item["data"]
        carrier = data.carriers.get(int(item["seq"]))
        step = Step(
            at=when(item["at"]) or datetime.min, system="onde", text=text, seq=(int(item["seq"]), 0)
        )
        if carrier is not None:
            step.run_id, step.run_label = carrier.id, _run_label(carrier)
        else:
            step.pending = True
        steps.append(step)
    sexes = {str(pid): str(p["sex"]) for pid, p in pupils.items() if p.get("sex") in ("F", "M")}
    return steps, body.get("responsable"), sexes


def _sync_steps(data: TimelineData) -> list[Step]:
    steps = []
    for line, run in data.lines:
        outcome = OUTCOME_FR.get(line.outcome, line.outcome)
        identifiant = f" — identifiant {line.identifiant}" if line.identifiant else ""
        steps.append(
            Step(
                at=run.started_at,
                system="sync",
                text=f"{_run_label(run).capitalize()} : {outcome}{identifiant}",
                detail=reason_fr(line.reason),
                run_id=run.id,
                badge=line.outcome,
                seq=(run.id or 0, line.id or 0),
            )
        )
    return steps


# What EduConnect does only when a run imports: its time is the run's.
CAUSED_BY_RUN = {"excluded", "account_created", "child_proposed", "child_removed", "deactivated"}
UNBLOCK_DEDUCED = (
    "Déduit : EduConnect ne garde que la dernière proposition d'un enfant, et celle-ci n'a pas "
    "été faite par une synchronisation — seul le déblocage par l'école propose de nouveau."
)


def _applied_runs(data: TimelineData) -> list[Any]:
    """The runs that changed EduConnect for this responsable (dry runs change nothing)."""
    seen: dict[int, Any] = {}
    for line, run in data.lines:
        if not run.dry_run and line.outcome != "failed":
            seen.setdefault(run.id or 0, run)
    return list(seen.values())


def _run_at(runs: list[Any], at: datetime) -> Any | None:
    for run in runs:
        if run.started_at <= at <= (run.finished_at or run.started_at):
            return run
    return None


def _educonnect_steps(data: TimelineData, sexes: dict[str, str]) -> list[Step]:
    body = data.educonnect.body or {}
    outcomes = {line.outcome for line, _ in data.lines}
    existing = "matched" in outcomes and "created" not in outcomes
    runs = _applied_runs(data)
    steps = []
    for index, event in enumerate(body.get("events", [])):
        at = when(event["at"]) or datetime.min
        kind, details = str(event["kind"]), dict(event.get("details") or {})
        cause = _run_at(runs, at) if kind in CAUSED_BY_RUN else None
        if kind == "child_removed" and details.get("by") != "sync":
            cause = None
        detail = ""
        if (
            kind == "child_proposed"
            and cause is None
            and runs
            and details.get("via_this_source")
            and details.get("child_source") == "onde"
        ):
            # Only the sync's import and the school's unblocking write a proposal's time.
            kind, detail = "child_unblocked", UNBLOCK_DEDUCED
        shown = {"kind": kind, "details": details}
        steps.append(
            Step(
                at=at,
                system="educonnect",
                text=educonnect_event(shown, existing, sexes),
                detail=detail,
                run_id=cause.id if cause is not None else None,
                badge=kind,
                seq=(index, 0),
                about=str(details.get("attachment_id", "")),
            )
        )
    _place_deduced_unblocks(steps)
    return steps + _answered_steps(data, steps, body, sexes)


#: What ends a child's story at an instant: a deduced unblocking comes just before these.
_DECISIONS = frozenset({"child_attached", "child_refused", "child_removed", "deactivated"})


def _place_deduced_unblocks(steps: list[Step]) -> None:
    """Move each unblocking deduced from a proposal to where it happened within its instant.

    EduConnect dates a proposal, and sorts it early among the events of its instant; a proposal
    the school made by unblocking comes after the parent's activation, logins and presentations
    of that instant (the block it lifts happened at one of them), before the decisions. Under a
    manual clock a whole day's steps share one instant: the unblocking came first, before the
    SMS and the activation it follows.
    """

    def rank(step: Step) -> int:
        if step.badge == "child_unblocked" and step.detail == UNBLOCK_DEDUCED:
            return 1
        return 2 if step.badge in _DECISIONS else 0

    by_at: dict[datetime, list[Step]] = {}
    for step in steps:
        by_at.setdefault(step.at, []).append(step)
    for group in by_at.values():
        ordered = sorted(group, key=rank)  # stable: EduConnect's own order otherwise
        seqs = sorted(step.seq for step in group)
        for step, seq in zip(ordered, seqs, strict=True):
            step.seq = seq


def _children_via_source(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The children this source responsable links to the account, by attachment id."""
    children: dict[str, dict[str, Any]] = {}
    for event in body.get("events", []):
        details = event.get("details") or {}
        if details.get("via_this_source") and details.get("attachment_id") is not None:
            children[str(details["attachment_id"])] = details
    return children


def _answered_steps(
    data: TimelineData, real: list[Step], body: dict[str, Any], sexes: dict[str, str]
) -> list[Step]:
    """What EduConnect answered each run (the report line) and no longer shows in its rows.

    EduConnect keeps states: a child proposed again since, or a deactivated account restored,
    loses the earlier proposal, removal or deactivation. The run's report line kept EduConnect's
    answer: those steps are shown from it, named when the children can only be those ones.
    """
    children = _children_via_source(body)
    added: list[Step] = []
    for run in _applied_runs(data):
        reasons = "; ".join(line.reason for line, r in data.lines if r.id == run.id)
        proposed, removed, deactivated, restored = line_facts(reasons)
        mine = [s for s in real if s.run_id == run.id]
        at = max((s.at for s in mine), default=run.started_at)
        after = max((s.seq[0] for s in real if s.at == at), default=-1)
        detail = (
            f"Connu par la réponse d'EduConnect à la synchronisation n° {run.id} : EduConnect ne "
            "garde que l'état actuel, où cette étape n'apparaît plus."
        )
        facts: list[tuple[str, dict[str, Any], str]] = []
        for kind, count, words in (
            ("child_proposed", proposed, ("enfant proposé", "enfants proposés")),
            ("child_removed", removed, ("lien retiré", "liens retirés")),
        ):
            missing = count - sum(1 for s in mine if s.badge == kind)
            if missing <= 0:
                continue
            shown_here = {s.about for s in mine if s.badge == kind}
            candidates = [c for about, c in children.items() if about not in shown_here]
            if len(candidates) == missing:
                facts.extend((kind, {**c, "before": None}, "") for c in candidates)
            else:
                tail = " au rattachement" if kind == "child_proposed" else " par la synchronisation"
                text = plural_fr(missing, *words) + tail
                facts.append((kind, {}, text))
        if deactivated and not any(s.badge == "deactivated" for s in mine):
            facts.append(("deactivated", {}, ""))
        if restored:
            facts.append(("restored", {}, ""))
        for rank, (kind, details, said) in enumerate(facts, start=1):
            text = said or educonnect_event({"kind": kind, "details": details}, False, sexes)
            added.append(
                Step(
                    at=at,
                    system="educonnect",
                    text=text,
                    detail=detail,
                    run_id=run.id,
                    badge=kind,
                    seq=(after, rank),
                )
            )
    return added


def _chain_of(step: Step, runs_here: set[int]) -> int | None:
    """The run of this instant a step is causally tied to: carried by it, it, or caused by it."""
    return step.run_id if step.run_id in runs_here else None


def instants(steps: list[Step]) -> list[Instant]:
    """The steps grouped by simulated instant, each group in the order known to be true.

    Across instants, time says the order. Within one, each system's own sequence does (ONDE's
    change-log seq, the runs' ids, EduConnect's own order), and so do causes: a run comes after
    the ONDE changes it read and before what it did in EduConnect. When independent actors met at
    the same instant (a director in ONDE, a parent in EduConnect, a run), nothing says who came
    first: the group is listed system by system and marked ``uncertain``.
    """
    by_at: dict[datetime, list[Step]] = {}
    for step in steps:
        by_at.setdefault(step.at, []).append(step)
    result = []
    for at in sorted(by_at):
        group = by_at[at]
        runs_here = {s.run_id for s in group if s.system == "sync" and s.run_id is not None}
        free = {s.system for s in group if _chain_of(s, runs_here) is None}
        streams = len(free) + (1 if runs_here else 0)
        if streams <= 1:
            group.sort(key=lambda s: (_chain_of(s, runs_here) or 0, SYSTEM_ORDER[s.system], s.seq))
            result.append(Instant(at, group))
        else:
            group.sort(key=lambda s: (SYSTEM_ORDER[s.system], s.seq))
            result.append(Instant(at, group, uncertain=True))
    return result


def _dated(account: dict[str, Any] | None) -> dict[str, Any] | None:
    """The account with its timestamps as datetimes (the templates format them)."""
    if account is None:
        return None
    names = ("created_at", "activated_at", "last_login_at")
    return account | {name: when(account.get(name)) for name in names}


def _parse_id(raw: str) -> int:
    # At most 10 digits: int() refuses over 4,300 (a 500).
    if not (len(raw) <= 10 and raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        raise NotFound(f"Aucun responsable n° {raw[:20]} : vérifiez le lien.")
    return int(raw)


@router.get("/timeline", response_class=HTMLResponse, dependencies=with_bar)
def search_page(request: Request) -> Response:
    """Find a responsable by name (ONDE, every school) or go straight to an id."""
    query = request.query_params.get("q", "").strip()
    if query.isascii() and query.isdigit():
        return redirect(f"/timeline/{_parse_id(query)}")
    results: list[dict[str, Any]] = []
    error = ""
    if len(query) > 80 or "\x00" in query:
        error = "Recherche trop longue ou invalide : tapez le début d'un nom ou d'un prénom."
    elif query:
        ctx: SyncContext = request.app.state.sync
        found = search_responsables(ctx, query)
        if found.error is not None:
            error = "ONDE ne répond pas : la recherche est impossible pour l'instant."
        else:
            results = list((found.body or {}).get("items", []))
    context = {"query": query, "results": results, "error": error, "searched": bool(query)}
    return page(pages.templates, request, "timeline_search.html", context)


@router.get("/timeline/{responsable_id}", response_class=HTMLResponse, dependencies=with_bar)
def timeline_page(responsable_id: str, request: Request) -> HTMLResponse:
    """The life of one ONDE responsable, step by step, with EduConnect's diagnosis."""
    rid = _parse_id(responsable_id)
    ctx: SyncContext = request.app.state.sync
    with read_session(ctx.engine) as session:
        data = timeline_data(ctx, session, rid)
    ec = data.educonnect.body or {}
    if data.onde.missing and not data.lines and ec.get("account") is None:
        raise NotFound(f"Aucun responsable n° {rid} dans ONDE, ni dans les synchronisations.")
    onde_steps, responsable, sexes = _onde_steps(data)
    steps = onde_steps + _sync_steps(data) + _educonnect_steps(data, sexes)
    context = {
        "rid": rid,
        "responsable": responsable,
        "school_uai": (data.onde.body or {}).get("school_uai"),
        "onde_error": data.onde.error,
        "onde_missing": data.onde.missing,
        "educonnect_error": data.educonnect.error,
        "steps": steps,
        "instants": instants(steps),
        "account": _dated(ec.get("account")),
        "first_login": when(ec.get("first_login_at")),
        "attachments": ec.get("attachments", []),
        "diagnosis": diagnosis_fr(
            ec.get("explanation", []), ec.get("account"), ec.get("attachments", [])
        ),
    }
    return page(pages.templates, request, "timeline.html", context)
