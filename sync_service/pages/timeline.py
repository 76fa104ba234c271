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
from edusim_common.web.render import page
from edusim_common.web.simbar import KIND_FR
from sync_service.pages import pages, router, with_bar
from sync_service.pages.story import educonnect_event, onde_change
from sync_service.pages.wording import ACCOUNT_STATE_FR, ATTACHMENT_FR, OUTCOME_FR, reason_fr, when
from sync_service.runner import SyncContext
from sync_service.timeline import TimelineData, search_responsables, timeline_data

MAX_ID = 2**31 - 1
SYSTEM_ORDER = {"onde": 0, "sync": 1, "educonnect": 2}

pages.templates.env.globals.update(
    ACCOUNT_STATE_FR=ACCOUNT_STATE_FR, ATTACHMENT_FR=ATTACHMENT_FR, ORIGIN_LABEL_FR=ORIGIN_LABEL_FR
)


@dataclass
class Step:
    """One line of the timeline."""

    at: datetime
    system: str
    text: str
    detail: str = ""
    run_id: int | None = None
    run_label: str = ""
    pending: bool = False
    badge: str = ""


def _run_label(run: Any) -> str:
    kind = KIND_FR.get(run.kind, run.kind)
    dry = " à blanc" if run.dry_run else ""
    return f"synchronisation {kind}{dry} n° {run.id}"


def _onde_steps(data: TimelineData) -> tuple[list[Step], dict[str, Any] | None]:
    body = data.onde.body or {}
    steps: list[Step] = []
    last: dict[tuple[str, str], dict[str, Any]] = {}
    pupils: dict[int, Any] = {}
    for item in body.get("items", []):
        key = (str(item["entity"]), str(item["entity_id"]))
        if item["entity"] == "pupil":
            pupils[int(item["entity_id"])] = item["data"]
        text = onde_change(item, last.get(key), pupils)
        last[key] = item["data"]
        carrier = data.carriers.get(int(item["seq"]))
        step = Step(at=when(item["at"]) or datetime.min, system="onde", text=text)
        if carrier is not None:
            step.run_id, step.run_label = carrier.id, _run_label(carrier)
        else:
            step.pending = True
        steps.append(step)
    return steps, body.get("responsable")


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
            )
        )
    return steps


def _educonnect_steps(data: TimelineData) -> list[Step]:
    body = data.educonnect.body or {}
    outcomes = {line.outcome for line, _ in data.lines}
    existing = "matched" in outcomes and "created" not in outcomes
    return [
        Step(
            at=when(event["at"]) or datetime.min,
            system="educonnect",
            text=educonnect_event(event, existing),
            badge=str(event["kind"]),
        )
        for event in body.get("events", [])
    ]


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
    onde_steps, responsable = _onde_steps(data)
    steps = onde_steps + _sync_steps(data) + _educonnect_steps(data)
    steps.sort(key=lambda s: (s.at, SYSTEM_ORDER[s.system]))
    context = {
        "rid": rid,
        "responsable": responsable,
        "school_uai": (data.onde.body or {}).get("school_uai"),
        "onde_error": data.onde.error,
        "onde_missing": data.onde.missing,
        "educonnect_error": data.educonnect.error,
        "steps": steps,
        "account": _dated(ec.get("account")),
        "first_login": when(ec.get("first_login_at")),
        "attachments": ec.get("attachments", []),
        "diagnosis": diagnosis_fr(
            ec.get("explanation", []), ec.get("account"), ec.get("attachments", [])
        ),
    }
    return page(pages.templates, request, "timeline.html", context)
