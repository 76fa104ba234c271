"""Hypothesis against every page of the three services (their ``GET`` routes outside /api), and the
downloads the pages link to.

The routes are taken from the apps (a new page is fuzzed without editing this file); the query
parameters and their plausible values from the links and the search forms the pages really show
(a crawl of each service, logged in and not), plus the ones the page code reads; the path values
from the seeded records (the director's school's and another school's) and the links.

Each generated visit mixes real path ids with hostile ones (0, -1, huge, 5,000 digits, other
scripts' digits, ``%00``, ``..``), plausible query values with hostile ones (empty, very long,
control characters, other scripts, impossible dates, numbers out of range), parameters repeated,
unknown or badly escaped, with the director's, another school's, a parent's or no cookies. Every
answer must be a French page or a redirect inside the simulation (a download: its documented
content type, or the API's problem), never a 5xx; every refusal says why, in French.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from edusim_common.problems import PROBLEM_MEDIA_TYPE
from edusim_common.web import FAVICON_PATH
from edusim_common.web.links import get_links
from fake_educonnect.main import METADATA as EC_METADATA
from fake_onde.models import OndeModel
from sync_service.main import METADATA as SYNC_METADATA
from tests.pages.fuzz_seed import (
    HTML_ACCEPT,
    derandomized,
    seed_educonnect,
    seed_onde,
    seed_sync,
)
from tests.pages.test_form_fuzz import (
    _PARAM,
    HOSTILE,
    HOSTILE_IDS,
    PLAUSIBLE,
    UNKNOWN_NAMES,
    FormRoute,
    Service,
    check_page,
    form_routes,
    local_path,
    parse_page,
    seeded_service,
    text_of,
    weighted,
)

EXAMPLES_PER_ROUTE = 30
# Path values beyond the form fuzz's: huge, other scripts, a path's own tricks.
PATH_HOSTILE: tuple[str, ...] = (
    *HOSTILE_IDS,
    "",
    "99999999999999999999",
    "-99999999999",
    "١٢",
    "..",
    "é",
    "李",
    "👪",
    "\x00",
    "<b>1</b>",
)
# Sent as they are, not escaped: bad escapes and dot segments in the address itself.
PATH_RAW: tuple[str, ...] = ("%00", "%ff", "%", "..", "%2e%2e", "%2F", "1%0A")
QUERY_HOSTILE: tuple[str, ...] = (
    *HOSTILE,
    "-99999999999",
    "4294967296",
    "1.5",
    "1 000",
    "١٢",
    "31/12/1899",
)
# Appended to the query as they are: what a hand-edited address may hold.
RAW_QUERIES: tuple[str, ...] = (
    "%ff%fe=%ff",
    "apres=%00",
    "=&&=x&",
    "%",
    "nom=%C3",
    "a=b=c",
    "%zz=1",
)
# What the page code reads from the query string (fake_onde/pages/school.py, responsable.py;
# fake_educonnect/pages/console.py, outbox.py; sync_service/pages/runs.py, timeline.py), for the
# parameters no crawled link or form shows (e.g. a filter that empties the page).
CODE_PARAMS: dict[str, tuple[str, ...]] = {
    "onde": ("classe", "etat", "nom", "apres", "eleve"),
    "educonnect": (
        "nom", "prenom", "identifiant", "etat", "origine", "classe", "email", "apres",
        "destinataire", "canal", "avant",
    ),
    "sync": ("avant", "apres", "resultat", "q"),
}  # fmt: skip
_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@dataclass(frozen=True)
class Visit:
    """One generated visit."""

    path: tuple[tuple[str, str, bool], ...]  # name, value, sent unescaped
    query: tuple[tuple[str, str], ...]
    raw_query: str
    auth: str

    def url(self, route: FormRoute) -> str:
        values = {name: value if raw else quote(value, safe="") for name, value, raw in self.path}
        query = "&".join(part for part in (urlencode(self.query), self.raw_query) if part)
        return _PARAM.sub(lambda m: values[m.group(1)], route.path) + (f"?{query}" if query else "")

    def sent(self) -> list[str]:
        return [value for _, value, _ in self.path] + [value for _, value in self.query]


@st.composite
def visits(
    draw: st.DrawFn,
    route: FormRoute,
    ids: Mapping[str, Sequence[str]],
    queries: Mapping[str, Sequence[str]],
    auths: Sequence[str],
) -> Visit:
    """Real ids or hostile ones; some of the page's parameters, plausible or spoiled."""
    path = []
    for name in route.params:
        kind = draw(st.sampled_from(("real",) * 3 + ("hostile",) * 2 + ("raw",)))
        if kind == "real":
            path.append((name, draw(st.sampled_from(ids[name])), False))
        elif kind == "hostile":
            path.append((name, draw(st.sampled_from(PATH_HOSTILE)), False))
        else:
            path.append((name, draw(st.sampled_from(PATH_RAW)), True))
    query: list[tuple[str, str]] = []
    names = sorted(queries)
    for name in draw(st.lists(st.sampled_from(names), max_size=4)) if names else []:
        value = draw(
            weighted(
                (3, st.sampled_from(queries[name])),
                (3, st.sampled_from(QUERY_HOSTILE)),
                (1, _TEXT),
            )
        )
        query.append((name, value))  # a name drawn twice: repeated, as a hand-edited link may
    unknown = draw(st.lists(st.tuples(st.sampled_from(UNKNOWN_NAMES), _TEXT), max_size=1))
    raw = draw(weighted((6, st.just("")), (1, st.sampled_from(RAW_QUERIES))))
    return Visit(tuple(path), tuple(query + unknown), raw, draw(st.sampled_from(auths)))


#: Files a page offers to save (the run report for a spreadsheet): a file when given, a French
#: error page when refused.
PAGE_DOWNLOADS = (".csv",)
PAGE_DOWNLOADS_TYPE = "text/csv"


@dataclass
class RouteStats:
    statuses: Counter[int] = field(default_factory=Counter)
    logged_in_ok: int = 0
    hostile_path_refused: int = 0


@dataclass
class Pages:
    """The page routes of a crawled service, the values its pages use, what the fuzz saw."""

    service: Service
    ids: Mapping[str, Sequence[str]]
    code_params: Sequence[str]
    stats: dict[str, RouteStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        app: FastAPI = self.service.client.app  # type: ignore[assignment]
        # The browsers' /favicon.ico is an image, not a page (test_wording_fr.py checks it).
        self.routes = [r for r in form_routes(app, "GET") if r.path != FAVICON_PATH]
        self.downloads: dict[str, tuple[str, ...]] = {}  # API routes the pages link to
        self.path_values: dict[str, set[str]] = {}
        # What the code reads: the form fuzz's plausible values by name, positions to page from.
        self.query_values: dict[str, set[str]] = {
            name: {"", "1", "2", *PLAUSIBLE.get(name, ())} for name in self.code_params
        }
        documented = app.openapi()["paths"]
        api_routes = form_routes(app, "GET", api=True)
        for page in self.service.pages:
            parsed = parse_page(page)
            for form in parsed.forms:
                if form.method == "get":
                    for name, values in form.fields.items():
                        self.query_values.setdefault(name, {""}).update(values)
            for link in parsed.links:
                path = local_path(link.split("#")[0], self.service.origin)
                if path is None:
                    continue
                parts = urlsplit(path)
                for name, value in parse_qsl(parts.query, keep_blank_values=True):
                    self.query_values.setdefault(name, {""}).add(value)
                for route in self.routes + api_routes:
                    matched = route.regex.match(parts.path)
                    if matched is None:
                        continue
                    for name, value in matched.groupdict().items():
                        self.path_values.setdefault(name, set()).add(value)
                    if route in api_routes and route.path in documented:
                        answers = documented[route.path]["get"]["responses"]["200"]
                        self.downloads[route.path] = tuple(answers.get("content", {}))
        self.routes += [r for r in api_routes if r.path in self.downloads]
        self.stats = {route.path: RouteStats() for route in self.routes}

    def fuzz(self, examples: int = EXAMPLES_PER_ROUTE) -> None:
        queries = {name: sorted(values) for name, values in self.query_values.items()}
        for route in self.routes:
            ids = {
                name: sorted(self.path_values.get(name, set()) | set(self.ids.get(name, ())))
                or ["1"]
                for name in route.params
            }

            self.fuzz_route(route, ids, queries, examples)

    def fuzz_route(
        self,
        route: FormRoute,
        ids: Mapping[str, Sequence[str]],
        queries: Mapping[str, Sequence[str]],
        examples: int,
    ) -> None:
        """``examples`` visits of one route, the same ones on every run (derandomized)."""

        @given(visit=visits(route, ids, queries, self.service.auths))
        @derandomized(examples)
        def run(visit: Visit) -> None:
            self.visit(route, visit)

        run()

    def visit(self, route: FormRoute, visit: Visit) -> None:
        """Ask for the page as a browser would; check the answer (and where it redirects)."""
        service, client = self.service, self.service.client
        client.cookies.clear()
        for name, value in service.cookies(visit.auth).items():
            client.cookies.set(name, value)
        url = visit.url(route)
        answer = client.get(url, headers={"accept": HTML_ACCEPT}, follow_redirects=False)
        status = answer.status_code
        where = f"GET {url[:160]!r} as {visit.auth} -> {status}\n{text_of(answer.text)[:400]}"
        stats = self.stats[route.path]
        stats.statuses[status] += 1
        assert status < 500, where
        hostile_path = any(raw or value not in self.ids_of(name) for name, value, raw in visit.path)
        if hostile_path and status in (404, 422):
            stats.hostile_path_refused += 1
        if visit.auth in service.logged_in and status < 400 and not hostile_path:
            stats.logged_in_ok += 1
        content_type = answer.headers.get("content-type", "")
        if route.path in self.downloads:
            if status < 300:
                assert content_type.split(";")[0] in self.downloads[route.path], where
            else:  # the API's refusal, for a script as for a browser
                assert content_type.startswith(PROBLEM_MEDIA_TYPE), where
            return
        if route.path.endswith(PAGE_DOWNLOADS) and status < 300:  # a page's own file to save
            assert content_type.split(";")[0] == PAGE_DOWNLOADS_TYPE, where
            assert answer.headers["content-disposition"].startswith("attachment;"), where
            return  # refused, it is a French error page like any page's
        if 300 <= status < 400:
            location = answer.headers.get("location", "")
            assert location, where
            # Starlette's trailing-slash redirect names the host the request was sent to.
            own = str(client.base_url).rstrip("/")
            path = local_path(location, service.origin) or local_path(location, own)
            if path is None:  # only to another service of the simulation (no open redirect)
                parts = urlsplit(location)
                assert f"{parts.scheme}://{parts.netloc}" in get_links().origins(), where
                return
            shown = client.get(path, headers={"accept": HTML_ACCEPT})
            where += f"\nthen GET {path[:160]!r} -> {shown.status_code}"
            assert shown.status_code < 500, where
            check_page(shown.text, shown.headers, shown.status_code, visit.sent(), where)
        else:
            check_page(answer.text, answer.headers, status, visit.sent(), where)

    def ids_of(self, name: str) -> set[str]:
        return self.path_values.get(name, set()) | set(self.ids.get(name, ()))

    def check_coverage(self, minimum_routes: int, downloads: int = 0) -> None:
        """Every page was shown to its user at least once, and refused a forged id at least once."""
        print(self.service.name, {n: len(v) for n, v in self.query_values.items()})
        for path, stats in self.stats.items():  # shown with -s
            print(f"{self.service.name} GET {path}: {sorted(stats.statuses.items())}")
        assert len(self.routes) - len(self.downloads) >= minimum_routes, self.routes
        assert len(self.downloads) >= downloads, self.downloads
        for route in self.routes:
            stats = self.stats[route.path]
            assert stats.logged_in_ok > 0, (route.path, stats)
            if route.params:
                assert stats.hostile_path_refused > 0, (route.path, stats)
        used = {name for name, values in self.query_values.items() if len(values) > 1}
        assert used, self.query_values  # the crawl found the pages' links and search forms


def test_onde_pages(onde: TestClient) -> None:
    seeded = seed_onde(onde)
    service = seeded_service("onde", onde, get_links().onde_url, seeded, OndeModel.metadata)
    pages = Pages(service, seeded.ids, CODE_PARAMS["onde"])
    pages.fuzz()
    pages.check_coverage(minimum_routes=5)


def test_educonnect_pages(educonnect: TestClient) -> None:
    seeded = seed_educonnect(educonnect)
    origin = get_links().educonnect_url
    service = seeded_service("educonnect", educonnect, origin, seeded, EC_METADATA)
    pages = Pages(service, seeded.ids, CODE_PARAMS["educonnect"])
    pages.fuzz()
    pages.check_coverage(minimum_routes=20)


def test_sync_pages(sync: TestClient, onde: TestClient, director: dict[str, str]) -> None:
    seeded = seed_sync(sync, onde, director)
    service = seeded_service("sync", sync, get_links().sync_url, seeded, SYNC_METADATA)
    service.crawl(["/timeline"], "none")
    pages = Pages(service, seeded.ids, CODE_PARAMS["sync"])
    pages.fuzz()
    pages.check_coverage(minimum_routes=5, downloads=2)
