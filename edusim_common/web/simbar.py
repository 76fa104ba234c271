"""The simulation bar shown on every page: simulated date, « Jour suivant », last run.

The sync service owns the clock and the runs: the other services read its public
``GET /api/v1/status`` (one loopback call per page, short timeout) and fall back to their own
clock when it does not answer. The bar's buttons are plain forms posting to the sync's pages,
which act and redirect back (no JavaScript needed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request

from edusim_common.web.links import get_links
from edusim_common.web.plural import plural_word

StatusSource = Callable[[Request], Awaitable[dict[str, Any] | None]]

KIND_FR = {"nightly": "nocturne", "manual": "manuelle", "full": "réconciliation complète"}
# A run's counts, in French: (singular, plural), the form chosen by the value.
COUNT_FR: dict[str, tuple[str, str]] = {
    "changes_read": ("changement lu", "changements lus"),
    "responsables_sent": ("responsable envoyé", "responsables envoyés"),
    "created": ("compte créé", "comptes créés"),
    "matched": ("rapproché d'un compte existant", "rapprochés d'un compte existant"),
    "updated": ("mis à jour", "mis à jour"),
    "unchanged": ("inchangé", "inchangés"),
    "excluded": ("exclu", "exclus"),
    "failed": ("en échec", "en échec"),
    "proposals_added": ("enfant proposé", "enfants proposés"),
    "links_removed": ("lien retiré", "liens retirés"),
    "deactivated": ("compte désactivé", "comptes désactivés"),
    "deactivation_pending": ("désactivation retenue", "désactivations retenues"),
    "restored": ("compte restauré", "comptes restaurés"),
    "no_mobile": ("sans mobile", "sans mobile"),
    "retries": (
        "nouvel essai après une panne passagère",
        "nouveaux essais après des pannes passagères",
    ),
}


def count_label(name: str, value: int) -> str:
    """The words of a run's count, agreeing with its value: « compte créé » for 1."""
    forms = COUNT_FR.get(name)
    return plural_word(value, *forms) if forms else name


STATUS_FR = {
    "running": "en cours",
    "succeeded": "réussie",
    "failed": "échouée",
    "awaiting_approval": "en attente d'approbation",
    "interrupted": "interrompue",
}


@dataclass
class SimBar:
    """What the bar shows."""

    now: datetime
    mode: str
    reachable: bool
    here: str
    last_run: dict[str, Any] | None = None
    counts: list[tuple[str, int]] = field(default_factory=list)

    @property
    def last_run_label(self) -> str:
        """« Synchronisation nocturne n° 3 : réussie »."""
        run = self.last_run
        if run is None:
            return "Aucune synchronisation pour l'instant"
        kind = KIND_FR.get(str(run.get("kind")), str(run.get("kind")))
        status = STATUS_FR.get(str(run.get("status")), str(run.get("status")))
        dry = " (simulation à blanc)" if run.get("dry_run") else ""
        return f"Synchronisation {kind} n° {run.get('id')}{dry} : {status}"


async def _remote_status(request: Request) -> dict[str, Any] | None:
    app: FastAPI = request.app
    client: httpx.AsyncClient | None = getattr(app.state, "simbar_client", None)
    if client is None:
        client = httpx.AsyncClient(timeout=httpx.Timeout(1.5))
        app.state.simbar_client = client
    try:
        answer = await client.get(get_links().sync_url.rstrip("/") + "/api/v1/status")
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError):
        return None
    return body


async def load_simbar(request: Request) -> None:
    """Page dependency: put the bar in ``request.state.simbar``."""
    source: StatusSource = getattr(request.app.state, "simbar_source", _remote_status)
    status = await source(request)
    clock = request.app.state.clock
    here = str(request.url)
    if status is None:
        request.state.simbar = SimBar(now=clock.now(), mode=clock.mode, reachable=False, here=here)
        return
    run = status.get("last_run")
    counts = [
        (count_label(name, int(value)), int(value))
        for name, value in sorted((run or {}).get("counts", {}).items())
        if value and name != "changes_read"
    ]
    request.state.simbar = SimBar(
        now=datetime.fromisoformat(status["clock"]["now"]),
        mode=str(status["clock"]["mode"]),
        reachable=True,
        here=here,
        last_run=run,
        counts=counts,
    )
