"""The runs, newest first, one run's report lines, and the approval of held-back deactivations."""

from __future__ import annotations

import csv
import io

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from edusim_common.deps import DbSession
from edusim_common.problems import Conflict, NotFound, Problem
from edusim_common.web.forms import FlashLevel, read_form, redirect
from edusim_common.web.links import get_links
from edusim_common.web.plural import plural_fr, plural_word
from edusim_common.web.render import page
from edusim_common.web.simbar import COUNT_FR, KIND_FR, STATUS_FR, count_label
from sync_service import routes
from sync_service.models import RunStatus
from sync_service.pages import pages, router, with_bar
from sync_service.pages.wording import (
    OUTCOME_BADGE,
    OUTCOME_FR,
    STATUS_BADGE,
    busy_fr,
    reason_fr,
    seconds_fr,
)
from sync_service.remote import RemoteError
from sync_service.runner import RunBusy, SyncContext, approve
from sync_service.schemas import LineOutcome, RunLinePublic, RunPublic
from sync_service.timeline import names_of, outcome_counts

RUNS_PER_PAGE = 30
LINES_PER_PAGE = 100
MAX_ID = 2**31 - 1
SHOWN_COUNTS = (
    "created",
    "matched",
    "updated",
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

pages.templates.env.globals.update(
    KIND_FR=KIND_FR,
    STATUS_FR=STATUS_FR,
    STATUS_BADGE=STATUS_BADGE,
    COUNT_FR=COUNT_FR,
    count_label=count_label,
    plural_fr=plural_fr,
    plural_word=plural_word,
    OUTCOME_FR=OUTCOME_FR,
    OUTCOME_BADGE=OUTCOME_BADGE,
    SHOWN_COUNTS=SHOWN_COUNTS,
    reason_fr=reason_fr,
    seconds_fr=seconds_fr,
)


def _position(raw: str | None) -> int | None:
    """A run or line id from the query string; anything else is ignored."""
    # At most 10 digits: int() refuses over 4,300 (a 500).
    if raw and len(raw) <= 10 and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_ID:
        return int(raw)
    return None


def _run_id(raw: str) -> int:
    found = _position(raw)
    if found is None:
        raise NotFound(f"Aucune synchronisation n° {raw[:20]} : vérifiez le lien.")
    return found


def _read_run(session: DbSession, run_id: int) -> RunPublic:
    try:
        return routes.read_run(run_id=run_id, session=session)
    except NotFound:
        raise NotFound(f"Aucune synchronisation n° {run_id}.") from None


@router.get("/runs", response_class=HTMLResponse, dependencies=with_bar)
def runs_page(request: Request, session: DbSession) -> HTMLResponse:
    """Every run, newest first: kind, cut-off, duration, counts, status, approval."""
    before = _position(request.query_params.get("avant"))
    found = routes.list_runs(session=session, limit=RUNS_PER_PAGE + 1, before=before)
    shown = found[:RUNS_PER_PAGE]
    context = {
        "runs": shown,
        "next_before": shown[-1].id if len(found) > RUNS_PER_PAGE else None,
        "first_page": before is not None,
    }
    return page(pages.templates, request, "runs.html", context)


@router.get("/runs/{run_id}", response_class=HTMLResponse, dependencies=with_bar)
def run_page(run_id: str, request: Request, session: DbSession) -> HTMLResponse:
    """One run: its counts and its report, one line per responsable, filterable by outcome."""
    run = _read_run(session, _run_id(run_id))
    counts = outcome_counts(session, run.id)
    outcome, name, notice = _page_filters(request)
    after = _position(request.query_params.get("apres")) or 0
    filters = _line_filters(outcome, name)
    lines = [
        RunLinePublic.model_validate(line, from_attributes=True)
        for line in filters.lines(session, run.id, after, LINES_PER_PAGE + 1)
    ]
    shown = lines[:LINES_PER_PAGE]
    query = {key: value for key, value in (("resultat", outcome), ("nom", name)) if value}
    download = {key: value for key, value in (("outcome", outcome), ("name", name)) if value}
    context = {
        "run": run,
        "outcome_counts": counts,
        "outcome": outcome,
        "name": name,
        "filters": query,
        "download": download,
        "lines": shown,
        "names": names_of(session, [line.source_id for line in shown]),
        "next_after": shown[-1].id if len(lines) > LINES_PER_PAGE else None,
        "paged": after > 0,
        "notice": notice,
    }
    return page(pages.templates, request, "run.html", context)


def _page_filters(request: Request) -> tuple[str, str, str]:
    """The report's filters as the page takes them (``resultat``, ``nom``): an unknown outcome is
    ignored and said (the notice), not refused."""
    outcome = request.query_params.get("resultat", "")
    notice = ""
    if outcome and outcome not in set(LineOutcome):
        notice, outcome = "Filtre ignoré : résultat inconnu.", ""
    return outcome, request.query_params.get("nom", "").strip()[:80], notice


def _line_filters(outcome: str, name: str) -> routes.LineFilters:
    return routes.LineFilters(outcome=LineOutcome(outcome) if outcome else None, name=name or None)


SPREADSHEET_COLUMNS = (
    "Responsable (ONDE)",
    "N° ONDE",
    "École",
    "Résultat",
    "Identifiant EduConnect",
    "Raison",
)


@router.get("/runs/{run_id}/rapport.csv")
def report_spreadsheet(run_id: str, request: Request, session: DbSession) -> Response:
    """The report as the page shows it, for a spreadsheet in French: names, outcomes and reasons
    in French, filtered like the page, « ; »-separated with a byte-order mark (as French Excel
    opens a CSV: one column per field, accents intact)."""
    run = _read_run(session, _run_id(run_id))
    filters = _line_filters(*_page_filters(request)[:2])
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(SPREADSHEET_COLUMNS)
    for lines in filters.pages(session, run.id):  # the names read a page at a time
        names = names_of(session, [line.source_id for line in lines])
        for line in lines:
            writer.writerow(
                (
                    names.get(line.source_id, ""),
                    line.source_id,
                    line.school_uai or "",
                    OUTCOME_FR.get(line.outcome, line.outcome),
                    line.identifiant or "",
                    reason_fr(line.reason),
                )
            )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="synchronisation-{run.id}.csv"'},
    )


@router.post("/runs/{run_id}/approuver")
async def approve_page(run_id: str, request: Request) -> RedirectResponse:
    """« Approuver les désactivations » of a run awaiting approval; back where the button was."""
    form = await read_form(request)
    back = get_links().safe_next(form.get("next"), "/runs")
    ctx: SyncContext = request.app.state.sync
    number = _position(run_id)
    if number is None:
        return redirect(back, f"Aucune synchronisation n° {run_id[:20]}.", FlashLevel.error)
    try:
        run = await run_in_threadpool(approve, ctx, number)
    except NotFound:
        return redirect(back, f"Aucune synchronisation n° {number}.", FlashLevel.error)
    except RunBusy as exc:
        return redirect(
            back,
            f"Approbation impossible pour l'instant : {busy_fr(exc.run_id)}",
            FlashLevel.warning,
        )
    except Conflict:
        return redirect(
            back,
            f"La synchronisation n° {number} n'attend pas d'approbation : rien n'a été fait.",
            FlashLevel.warning,
        )
    except (Problem, RemoteError):
        return redirect(
            back,
            "Approbation impossible pour l'instant (EduConnect ne répond pas) : réessayez.",
            FlashLevel.error,
        )
    public = RunPublic.of(run)
    label = STATUS_FR.get(public.status, public.status)
    deactivated = public.counts.get("deactivated", 0)
    done = "réussie" if public.status == RunStatus.succeeded.value else label
    return redirect(
        back,
        f"Désactivations approuvées : synchronisation n° {number} {done}, "
        f"{plural_fr(deactivated, 'compte désactivé', 'comptes désactivés')} au total.",
    )
