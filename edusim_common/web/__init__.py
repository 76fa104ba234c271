"""What every service's pages share: layout, simulation bar, French dates, forms, error pages.

A service builds its :class:`Pages` (its template folder over the common one) and hands its page
router to ``create_service_app(pages=...)``; page routers declare ``load_simbar`` as a dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from edusim_common.problems import Forbidden
from edusim_common.web.links import get_links
from edusim_common.web.render import STATIC_DIR, STATIC_PATH, make_templates

ERROR_TITLES = {
    400: "Demande invalide",
    401: "Connexion nécessaire",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Action non permise",
    409: "Action impossible dans l'état actuel",
    422: "Saisie invalide",
    429: "Trop de tentatives",
    502: "Service injoignable",
    503: "Service momentanément indisponible",
}


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE_FR = (
    "Formulaire refusé : il a été envoyé depuis un autre site que la simulation. Rien n'a été "
    "enregistré ; recommencez depuis les pages de la simulation."
)


def same_origin_forms(request: Request) -> None:
    """Refuse a form posted from another site (CSRF), by the browser's own headers.

    Browsers send ``Origin`` (and ``Sec-Fetch-Site``) with every form POST: it must be one of
    the simulator's services (they post to each other: the simulation bar). Clients that send
    neither (curl, test clients) are not browsers acting for someone else and pass.
    """
    if request.method in SAFE_METHODS:
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    foreign = origin is not None and origin.rstrip("/") not in get_links().origins() | {own}
    if foreign or (origin is None and request.headers.get("sec-fetch-site") == "cross-site"):
        raise Forbidden(CROSS_SITE_FR)  # shown on the French error page


FAVICON = "favicon.svg"
FAVICON_PATH = "/favicon.ico"


def favicon() -> FileResponse:
    """The simulator's icon, the one the pages' ``<link rel="icon">`` names."""
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(STATIC_DIR / FAVICON, media_type="image/svg+xml", headers=headers)


@dataclass
class Pages:
    """One service's pages: its router and its templates."""

    router: APIRouter
    templates: Jinja2Templates

    @classmethod
    def create(cls, template_dir: Path, service: str) -> Pages:
        """Pages reading ``template_dir`` first, then the common layout."""
        return cls(
            router=APIRouter(include_in_schema=False, dependencies=[Depends(same_origin_forms)]),
            templates=make_templates(template_dir, service),
        )

    def install(self, app: FastAPI) -> None:
        """Mount the pages, the common static files and the French error pages on ``app``."""
        app.include_router(self.router)
        app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static-common")
        # Browsers also ask for /favicon.ico on their own (a JSON answer, an old bookmark).
        app.add_api_route(FAVICON_PATH, favicon, methods=["GET"], include_in_schema=False)
        templates = self.templates

        def error_page(request: Request, status: int, detail: str) -> Response:
            title = ERROR_TITLES.get(status, "Erreur inattendue")
            shown = detail if 400 <= status < 500 else "Rien n'a été enregistré. Réessayez."
            return templates.TemplateResponse(
                request,
                "error.html",
                {"simbar": None, "flash": None, "status": status, "title": title, "detail": shown},
                status_code=status,
            )

        app.state.error_page = error_page
