"""« Instantanés »: save the whole simulation, rewind it to a snapshot, delete one (trainers).

The page calls the snapshot API's own functions (``sync_service/snapshot_routes.py``) in-process:
the same name rules, run lock, clock push and refusals, said here in French. Restoring and
deleting go through a confirmation page (a ``GET`` that changes nothing), then a form ``POST``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from edusim.snapshot_format import DEMO_SNAPSHOT, NAME_PATTERN
from edusim_common.clock import PARIS
from edusim_common.problems import InvalidInput, NotFound, Problem
from edusim_common.web.forms import FlashLevel, FormErrors, read_form, redirect, validate
from edusim_common.web.render import date_fr, page
from sync_service import snapshot_routes as api
from sync_service.pages import pages, router, with_bar
from sync_service.runner import SyncContext

LIST_PATH = "/instantanes"
DEMO_LABEL = "début de la démonstration"
NAME_RULE = (
    "Nom refusé : lettres sans accent, chiffres, « . », « _ » ou « - », 64 caractères au plus, "
    "en commençant par une lettre ou un chiffre (par exemple debut-formation)."
)
NAME_MISSING = "Donnez un nom à l'instantané (par exemple debut-formation)."
NAME_TAKEN = (
    "Un instantané porte déjà ce nom. Cochez « Remplacer » pour l'écraser, ou choisissez un "
    "autre nom."
)
UNAVAILABLE = (
    "Les instantanés ne sont pas disponibles : le service de synchronisation ne sait pas où sont "
    "les bases de données d'ONDE et d'EduConnect. Lancez la simulation avec « edusim up » (ou "
    "donnez-lui ONDE_DATABASE_URL et EDUCONNECT_DATABASE_URL)."
)
CLOCK_MOVING = (
    "La date simulée est en train d'avancer (« Jour suivant » ou rattrapage des nuits en "
    "cours) : réessayez dans un instant, quand elle sera arrêtée. Rien n'a été modifié."
)
RUN_RUNNING = (
    "Une synchronisation est en cours : réessayez quand elle sera terminée. Rien n'a été modifié."
)
UNREADABLE = (
    "Le fichier de cet instantané est illisible, incomplet ou d'une autre version : "
    "rien n'a été modifié."
)
UNSAVABLE = (
    "Instantané non enregistré : les bases de données contiennent une valeur qu'un instantané "
    "ne sait pas garder. Rien n'a été modifié."
)
BUSY = "Action impossible pour l'instant : rien n'a été modifié. Réessayez dans un instant."
CHOOSE = "Choisissez un instantané dans la liste."


@dataclass(frozen=True)
class Shown:
    """A snapshot as the page shows it."""

    name: str
    label: str
    is_demo: bool
    simulated_now: datetime | None
    saved_at: datetime
    size: str

    @classmethod
    def of(cls, snapshot: api.SnapshotOut) -> Shown:
        """The demo's snapshot is « début de la démonstration »; the others go by their name."""
        is_demo = snapshot.name == DEMO_SNAPSHOT
        return cls(
            name=snapshot.name,
            label=DEMO_LABEL if is_demo else snapshot.name,
            is_demo=is_demo,
            simulated_now=snapshot.simulated_now,
            saved_at=snapshot.saved_at,
            size=size_fr(snapshot.size),
        )

    @property
    def when(self) -> str:
        """« mardi 1er septembre 2026 »: the simulated day it was taken on."""
        return date_fr(self.simulated_now, "full")


def size_fr(size: int | None) -> str:
    """« 850 octets », « 12,4 ko », « 3,1 Mo »."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} octet" if size < 2 else f"{size} octets"
    if size < 1024**2:
        return f"{size / 1024:.1f} ko".replace(".", ",")
    if size < 1024**3:
        return f"{size / 1024**2:.1f} Mo".replace(".", ",")
    return f"{size / 1024**3:.1f} Go".replace(".", ",")


def hour_fr(value: datetime | None) -> str:
    """« 08:00 » in Paris time."""
    return value.astimezone(PARIS).strftime("%H:%M") if value else ""


def refusal_fr(problem: Problem) -> str:
    """Why the API refused to save or restore, in French."""
    if isinstance(problem, api.ClockMoving):
        return CLOCK_MOVING
    if isinstance(problem, api.RunRunning):
        return RUN_RUNNING
    if isinstance(problem, api.SnapshotUnreadable):
        return UNREADABLE
    if isinstance(problem, api.SnapshotsUnavailable):
        return UNAVAILABLE
    return BUSY


def _unavailable(request: Request) -> str | None:
    try:
        api.database_urls(request)
    except api.SnapshotsUnavailable:
        return UNAVAILABLE
    return None


def _listing(request: Request) -> tuple[list[Shown], str | None]:
    store = api.get_store(request)
    return [Shown.of(found) for found in api.list_snapshots(store)], _unavailable(request)


async def _list_page(
    request: Request,
    values: Mapping[str, str] | None = None,
    errors: FormErrors | None = None,
    offer_overwrite: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    snapshots, unavailable = await run_in_threadpool(_listing, request)
    context = {
        "snapshots": snapshots,
        "unavailable": unavailable,
        "values": dict(values or {}),
        "errors": errors or FormErrors(),
        "offer_overwrite": offer_overwrite,
        "hour_fr": hour_fr,
    }
    return page(pages.templates, request, "snapshots.html", context, status_code)


def _find(request: Request, name: str | None) -> Shown | str | None:
    """The snapshot named ``name``, or why there is none (a French message; ``None``: no name).

    No name at all comes back to the list without a message of its own: it is where the bar's
    « Jour suivant » lands from a re-shown confirmation, and its message must stay.
    """
    if not name:
        return None
    if not NAME_PATTERN.match(name):
        return f"Cet instantané n'existe pas. {CHOOSE}"
    store = api.get_store(request)
    try:
        info = api.snapshot_info(store, name)
    except NotFound:
        return f"Aucun instantané « {name} » : il a peut-être été supprimé. {CHOOSE}"
    except api.SnapshotUnreadable:
        return f"Instantané « {name} » : {UNREADABLE}"
    return Shown.of(api.SnapshotOut.of(info))


def _confirm_page(
    request: Request, action: str, snapshot: Shown, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    errors = FormErrors()
    if error:
        errors.add("_form", error)
    context = {
        "action": action,
        "restoring": action == "revenir",
        "snapshot": snapshot,
        "errors": errors,
        "unavailable": _unavailable(request) if action == "revenir" else None,
        "hour_fr": hour_fr,
    }
    return page(pages.templates, request, "snapshot_confirm.html", context, status_code)


@router.get(LIST_PATH, response_class=HTMLResponse, dependencies=with_bar)
async def snapshots_page(request: Request) -> HTMLResponse:
    """The snapshots, oldest first, and the form to save the current state."""
    return await _list_page(request)


@router.post(LIST_PATH, response_class=HTMLResponse, dependencies=with_bar)
async def save_page(request: Request) -> Response:
    """Save the whole simulation under a name; replacing one needs « Remplacer » ticked."""
    form = await read_form(request)
    name = form.get("name", "")
    values = {"name": name}
    body, errors = validate(
        api.SnapshotSave, {"name": name, "overwrite": form.get("overwrite") == "oui"}
    )
    if body is None:
        errors = FormErrors(name=NAME_RULE if name else NAME_MISSING)
        return await _list_page(request, values, errors, status_code=422)
    try:
        saved = await run_in_threadpool(api.save_snapshot, body, request, api.get_store(request))
    except api.SnapshotExists:
        errors.add("name", NAME_TAKEN)
        return await _list_page(request, values, errors, offer_overwrite=True, status_code=409)
    except InvalidInput:  # the databases hold what a snapshot cannot store
        errors.add("_form", UNSAVABLE)
        return await _list_page(request, values, errors, status_code=422)
    except Problem as exc:
        errors.add("_form", f"Instantané non enregistré. {refusal_fr(exc)}")
        return await _list_page(request, values, errors, status_code=409)
    shown = Shown.of(saved)
    replaced = " (l'ancien a été remplacé)" if body.overwrite else ""
    return redirect(
        LIST_PATH,
        f"Instantané « {shown.label} » enregistré{replaced} : la simulation telle qu'elle est "
        f"le {shown.when}.",
    )


def _asked(request: Request, action: str) -> Response:
    """The confirmation page of ``action`` for the snapshot named in the query (``nom``)."""
    found = _find(request, request.query_params.get("nom"))
    if not isinstance(found, Shown):
        return redirect(LIST_PATH, found, FlashLevel.error)
    return _confirm_page(request, action, found)


async def _posted(request: Request) -> Shown | Response:
    """The snapshot a confirmation page's form names, or the way back to the list."""
    form = await read_form(request)
    found = await run_in_threadpool(_find, request, form.get("nom"))
    if not isinstance(found, Shown):
        return redirect(LIST_PATH, found, FlashLevel.error)
    return found


@router.get(f"{LIST_PATH}/revenir", response_class=HTMLResponse, dependencies=with_bar)
def restore_confirm_page(request: Request) -> Response:
    """« Revenir à cet instantané ? »: says what will be lost; changes nothing."""
    return _asked(request, "revenir")


@router.post(f"{LIST_PATH}/revenir", response_class=HTMLResponse, dependencies=with_bar)
async def restore_page(request: Request) -> Response:
    """Rewind the three databases and the clock; back to the list, saying the simulated date."""
    found = await _posted(request)
    if not isinstance(found, Shown):
        return found
    try:
        restored = await run_in_threadpool(
            api.restore_snapshot, found.name, request, api.get_store(request)
        )
    except NotFound:
        return redirect(
            LIST_PATH, f"Aucun instantané « {found.label} » : il a été supprimé.", FlashLevel.error
        )
    except api.ClockNotPushed:  # the databases were restored, the clock set: say so
        ctx: SyncContext = request.app.state.sync
        return redirect(
            LIST_PATH,
            f"Données restaurées : la simulation est revenue au "
            f"{date_fr(ctx.clock.now(), 'full')}, mais ONDE ou EduConnect n'a pas répondu : il "
            "reprendra cette date dans sa base à sa prochaine requête, ou à son redémarrage.",
            FlashLevel.warning,
        )
    except Problem as exc:
        error = f"Retour impossible. {refusal_fr(exc)}"
        return _confirm_page(request, "revenir", found, error, status_code=409)
    return redirect(
        LIST_PATH,
        f"La simulation est revenue au {date_fr(restored.clock.now, 'full')} (instantané "
        f"« {found.label} ») : les saisies faites depuis ont été effacées.",
    )


@router.get(f"{LIST_PATH}/supprimer", response_class=HTMLResponse, dependencies=with_bar)
def delete_confirm_page(request: Request) -> Response:
    """« Supprimer cet instantané ? »: changes nothing."""
    return _asked(request, "supprimer")


@router.post(f"{LIST_PATH}/supprimer", response_class=HTMLResponse, dependencies=with_bar)
async def delete_page(request: Request) -> Response:
    """Delete the snapshot's file; the simulation itself does not change."""
    found = await _posted(request)
    if not isinstance(found, Shown):
        return found
    try:
        await run_in_threadpool(api.delete_snapshot, found.name, api.get_store(request))
    except NotFound:
        return redirect(
            LIST_PATH,
            f"Aucun instantané « {found.label} » : il a déjà été supprimé.",
            FlashLevel.warning,
        )
    return redirect(
        LIST_PATH,
        f"Instantané « {found.label} » supprimé. La simulation elle-même n'a pas changé.",
    )
