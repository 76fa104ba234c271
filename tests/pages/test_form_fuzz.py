"""Hypothesis against every form of the three services' pages (their ``POST`` routes outside /api).

The forms are not in the OpenAPI documents, so schemathesis never posts them. Here the routes are
taken from the apps themselves (a new form is fuzzed without editing this file), and the field
names and their plausible values are read from the forms the pages really show: a crawl of each
service's pages, logged in and not, plus the pages the seeding steps land on (the code forms that
only follow a first ``POST``). A route whose form no page shows is fuzzed with every field name of
its service.

Each generated submission starts from plausible values and spoils some: hostile values (empty,
very long, NUL and control characters, other scripts and digits, impossible dates, numbers out of
range), fields dropped, repeated or unknown, other encodings (multipart, JSON, text, broken and
oversized bodies), with and without the director's or parent's cookies, from the site or from
another one. Every answer must be a French page (or a redirect to one), never a 5xx; and every
refusal (4xx) must leave the database as it was, apart from the tries a refusal counts on purpose.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import fastapi.routing
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, MetaData, Table, select

from edusim_common.problems import NOT_PAGES
from edusim_common.web.links import get_links
from fake_educonnect.main import METADATA as EC_METADATA
from fake_onde.models import OndeModel
from sync_service.main import METADATA as SYNC_METADATA
from tests.conftest import DEMO_UAI
from tests.educonnect.factories import OTHER_SCHOOL
from tests.pages.fuzz_seed import (
    HTML_ACCEPT,
    OTHER_UAI,
    Seeded,
    derandomized,
    seed_educonnect,
    seed_onde,
    seed_sync,
)

EXAMPLES_PER_ROUTE = 25
CRAWL_LIMIT = 40
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")

# ------------------------------------------------------------------ what is posted

HOSTILE: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "Mar\x00tin",
    "\x01\x02\x1b[31m\x7f",
    "\t\n\r",
    "\u200b\u202e\ufeff",
    "x" * 5000,
    "é" * 300,
    "Ωμέγα",
    "李小龙",
    "محمد",
    "👪",
    "١٢٣٤٥٦",
    "０６１２３４５６７８",
    "²",
    "2026-02-30",
    "30/02/2026",
    "31/04/2019",
    "00/00/0000",
    "99/99/9999",
    "0000-01-01",
    "9999-12-31",
    "2019-13-01",
    "1900-01-01",
    "3000-01-01",
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "9" * 30,
    "1" * 5000,
    "1e309",
    "NaN",
    "+1",
    "0x1F",
    "on",
    "null",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "%00",
    "%",
    "../../etc/passwd",
    "//evil.example",
    "http://evil.example/",
    "javascript:alert(1)",
    "\r\nSet-Cookie: x=1",
    " Martin ",
)
HOSTILE_IDS: tuple[str, ...] = (
    "0",
    "-1",
    "abc",
    "999999",
    "2147483648",
    "99999999999",
    "1" * 5000,
    "²",
    "١",
    "１",
    " 1",
    "1.0",
    "%00",
)
UNKNOWN_NAMES: tuple[str, ...] = (
    "",
    "x",
    "nom[]",
    "__proto__",
    "r3_nom",
    "birth_date_99",
    "a" * 300,
)
# Plausible values by field name (``r1_nom`` and ``birth_date_12`` read as ``nom``, ``birth_date``).
PLAUSIBLE: dict[str, tuple[str, ...]] = {
    "uai": (DEMO_UAI, DEMO_UAI.lower(), OTHER_UAI, OTHER_SCHOOL),
    "uai_autre": (DEMO_UAI, "0021593w", OTHER_SCHOOL, "0021593X"),
    "nom": ("Martin", "Lefèvre", "N'Diaye-Éloi"),
    "prenoms": ("Léa", "Jean-Pierre"),
    "prenom": ("Sophie", "Paul", "Marc"),
    "sex": ("F", "M"),
    "birth_date": ("03/02/2019", "2019-02-03", "06/05/2017", "2018-12-31"),
    "birth_place": ("59350", "2A004"),
    "level": ("CP", "CE1", "CM2"),
    "state": ("admis", "inscrit", "en_attente"),
    "etat": ("admis", "admis_definitif", "radie", "inscrit", "en_attente"),
    "civility": ("M", "MME"),
    "lien": ("mere", "pere", "tuteur", "ase", "famille_accueil"),
    "autorite": ("on", ""),
    "accepts_sms": ("on", ""),
    "mobile": ("06 12 34 56 78", "+33 6 11 22 33 44", "0698765432", ""),
    "home_phone": ("03 20 12 34 56", ""),
    "work_phone": ("03 20 12 34 56", ""),
    "email": ("sophie.martin@example.org", "anne.petit@example.org", ""),
    "password": ("Soleil2026", "Lune2027ok"),
    "password2": ("Soleil2026", "Lune2027ok"),
    "current_password": ("Soleil2026",),
    "identifiant": ("s.martin01",),
    "code": ("123456", "000000"),
    "request_id": ("a" * 20,),
    "channel": ("sms", "email"),
    "confirm": ("1", ""),
    "next": ("/", "/runs", "http://127.0.0.1:8001/"),
}
_ENCODINGS = (
    *(["urlencoded"] * 12),
    *(["multipart"] * 4),
    "json",
    "text",
    "empty",
    "latin-1",
    "bad-bytes",
    "multipart-no-boundary",
    "multipart-garbage",
    "oversized",
)
_EVIL_ORIGINS = ("https://evil.example", "null", "cross-site")
_ORIGINS: tuple[str | None, ...] = (*([None] * 12), *(["own"] * 6), *_EVIL_ORIGINS)
_BOUNDARY = "edusim-fuzz-7f3a9c"


def base_name(name: str) -> str:
    """``r1_nom`` → ``nom``, ``birth_date_12`` → ``birth_date``: the key of :data:`PLAUSIBLE`."""
    return re.sub(r"_[0-9]+$", "", re.sub(r"^r[0-9]_", "", name))


@dataclass(frozen=True)
class Attempt:
    """One generated submission."""

    params: tuple[tuple[str, str], ...]
    pairs: tuple[tuple[str, str], ...]
    encoding: str
    auth: str
    origin: str | None

    def short(self) -> str:
        """For failure messages: long values cut."""
        pairs = [(k[:30], v[:60]) for k, v in self.pairs]
        params = [(k, v[:30]) for k, v in self.params]
        return f"params={params} pairs={pairs} encoding={self.encoding} auth={self.auth} " + (
            f"origin={self.origin}"
        )


_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
_SPOILED = st.one_of(st.sampled_from(HOSTILE), _TEXT)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of ``choices``, each drawn about ``weight`` times in ``sum(weights)``."""
    slots = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(range(len(slots))).flatmap(lambda at: slots[at])


@st.composite
def attempts(
    draw: st.DrawFn,
    params: Mapping[str, Sequence[str]],
    fields: Mapping[str, Sequence[str]],
    auths: Sequence[str],
) -> Attempt:
    """Plausible values for every field; often some spoiled, or fields dropped or repeated."""
    chosen = tuple(
        (name, draw(weighted((4, st.sampled_from(known)), (1, st.sampled_from(HOSTILE_IDS)))))
        for name, known in params.items()
    )
    pairs = [(name, draw(st.sampled_from(values))) for name, values in fields.items()]
    mode = draw(st.sampled_from((*["plausible"] * 3, *["spoiled"] * 4, *["shape"] * 2)))
    if pairs and mode == "spoiled":
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(pairs) - 1))
            pairs[at] = (pairs[at][0], draw(_SPOILED))
    if pairs and mode == "shape":
        for _ in range(draw(st.integers(0, 2))):  # repeated: the last one counts
            name = pairs[draw(st.integers(0, len(pairs) - 1))][0]
            pairs.append((name, draw(st.one_of(st.sampled_from(fields[name]), _SPOILED))))
        for _ in range(draw(st.integers(1, 2))):
            if pairs:
                del pairs[draw(st.integers(0, len(pairs) - 1))]
    unknown = draw(st.lists(st.tuples(st.sampled_from(UNKNOWN_NAMES), _SPOILED), max_size=2))
    return Attempt(
        params=chosen,
        pairs=tuple(pairs + unknown),
        encoding=draw(st.sampled_from(_ENCODINGS)),
        auth=draw(st.sampled_from(auths)),
        origin=draw(st.sampled_from(_ORIGINS)),
    )


def _part(name: str, extra: str = "") -> bytes:
    """The head of one multipart part (names quoted as browsers do)."""
    quoted = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    head = f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="{quoted}"{extra}\r\n\r\n'
    return head.encode()


def encode(pairs: Sequence[tuple[str, str]], encoding: str) -> tuple[bytes, str | None]:
    """The body and its content type; some encodings are wrong on purpose."""
    if encoding == "urlencoded":
        return urlencode(pairs).encode(), "application/x-www-form-urlencoded"
    if encoding == "latin-1":
        latin = urlencode(pairs, encoding="latin-1", errors="replace")
        return latin.encode(), "application/x-www-form-urlencoded"
    if encoding == "multipart":
        chunks = [_part(name) + value.encode() + b"\r\n" for name, value in pairs]
        if pairs:  # a file where a text field is expected
            chunks.append(_part(pairs[0][0], '; filename="a.txt"') + b"fichier\r\n")
        body = b"".join(chunks) + f"--{_BOUNDARY}--\r\n".encode()
        return body, f"multipart/form-data; boundary={_BOUNDARY}"
    if encoding == "json":
        return json.dumps(dict(pairs)).encode(), "application/json"
    if encoding == "text":
        return urlencode(pairs).encode(), "text/plain"
    if encoding == "empty":
        return b"", None
    if encoding == "bad-bytes":
        return b"nom=%FF%FE%00&\xff\xfe=\x00&=&&%&code=%C3", "application/x-www-form-urlencoded"
    if encoding == "multipart-no-boundary":
        return urlencode(pairs).encode(), "multipart/form-data"
    if encoding == "oversized":  # over the 1 MiB a form field may hold
        return _part(pairs[0][0] if pairs else "x") + b"x" * 1_100_000 + b"\r\n", (
            f"multipart/form-data; boundary={_BOUNDARY}"
        )
    assert encoding == "multipart-garbage", encoding
    nameless = f"--{_BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nsans nom\r\n--{_BOUNDARY}"
    return nameless.encode(), f"multipart/form-data; boundary={_BOUNDARY}"


# ------------------------------------------------------------------ routes and forms


@dataclass(frozen=True)
class FormRoute:
    """A ``POST`` route of the pages."""

    path: str
    regex: re.Pattern[str]
    params: tuple[str, ...]

    def url(self, values: Mapping[str, str]) -> str:
        return _PARAM.sub(lambda m: quote(values[m.group(1)], safe=""), self.path)


def form_routes(app: FastAPI, method: str = "POST", api: bool = False) -> list[FormRoute]:
    """Every ``method`` route of ``app`` (outside the API unless ``api``): by default, the forms
    of its pages."""
    # FastAPI 0.16x keeps included routers nested; iter_route_contexts flattens them.
    walk: Callable[[Any], Iterable[Any]] | None = getattr(
        fastapi.routing, "iter_route_contexts", None
    )
    found: dict[str, FormRoute] = {}
    for route in walk(app.routes) if walk is not None else app.routes:
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None) or set()
        if not isinstance(path, str) or method not in methods or path.startswith(NOT_PAGES) != api:
            continue
        pattern = "^" + _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", path) + "$"
        found[path] = FormRoute(path, re.compile(pattern), tuple(_PARAM.findall(path)))
    return sorted(found.values(), key=lambda r: r.path)


@dataclass
class _Form:
    method: str
    action: str
    fields: dict[str, set[str]] = field(default_factory=dict)


class _PageParser(HTMLParser):
    """The links and the forms of a page (field names with the values the page offers)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[_Form] = []
        self._form: _Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = _Form(a.get("method", "get").lower(), a.get("action", ""))
        elif self._form is not None and tag in ("input", "select", "textarea", "button"):
            name = a.get("name")
            if not name:
                return
            values = self._form.fields.setdefault(name, set())
            if tag == "select":
                self._select = name
            elif tag == "input":
                checkable = a.get("type") in ("checkbox", "radio")
                value = a.get("value", "on" if checkable else "")
                if value or a.get("type") == "hidden":  # not the blank of an empty text field
                    values.add(value)
            elif tag == "button":
                values.add(a.get("value", ""))
        elif tag == "option" and self._form is not None and self._select is not None:
            # Not the blank « — » of a required choice: blanks come with the spoiled values.
            self._form.fields[self._select].update({a.get("value", "")} - {""})

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def parse_page(page: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(page)
    parser.close()
    return parser


def local_path(url: str, origin: str) -> str | None:
    """The path of ``url`` if it is a page of this service (relative, or at its public origin)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        if f"{parts.scheme}://{parts.netloc}" != origin:
            return None
    elif not url.startswith("/") or url.startswith("//"):
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


# ------------------------------------------------------------------ one service under fuzz


@dataclass
class RouteStats:
    statuses: Counter[int] = field(default_factory=Counter)
    past_the_guards: int = 0
    unchanged_checked: int = 0


@dataclass
class Service:
    """A running service, its forms, the cookies of its users, and how to compare its database.

    ``cookies(auth)`` prepares one user (e.g. a fresh parent session) and returns their cookies;
    ``counted`` names the columns a refusal writes on purpose (``None``: the whole table).
    """

    name: str
    client: TestClient
    origin: str
    cookies: Callable[[str], dict[str, str]]
    auths: tuple[str, ...]
    logged_in: frozenset[str]
    metadata: MetaData
    counted: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    pages: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.routes = form_routes(self.client.app)  # type: ignore[arg-type]
        engine: Engine = self.client.app.state.engine  # type: ignore[attr-defined]
        self.engine = engine
        self.tables: list[Table] = [
            t
            for t in self.metadata.sorted_tables
            if self.counted.get(t.name, frozenset()) is not None
        ]
        self.stats = {route.path: RouteStats() for route in self.routes}

    def crawl(self, starts: Sequence[str], auth: str) -> None:
        """Visit the pages reachable from ``starts`` as ``auth`` would, keeping their HTML."""
        queue, seen = list(starts), set(starts)
        while queue and len(seen) <= CRAWL_LIMIT:
            url = queue.pop(0)
            self.client.cookies.clear()
            for name, value in self.cookies(auth).items():
                self.client.cookies.set(name, value)
            answer = self.client.get(url, headers={"accept": HTML_ACCEPT})
            if answer.status_code != 200 or "text/html" not in answer.headers["content-type"]:
                continue
            self.pages.append(answer.text)
            for link in parse_page(answer.text).links:
                path = local_path(link.split("#")[0], self.origin)
                skip = path is None or path.startswith(NOT_PAGES) or path.startswith("/static")
                if path is not None and not skip and path not in seen:
                    seen.add(path)
                    queue.append(path)

    def forms(self) -> tuple[dict[str, dict[str, set[str]]], dict[str, dict[str, set[str]]]]:
        """By route: the fields its forms show (with their values), and the path values seen."""
        fields: dict[str, dict[str, set[str]]] = {}
        params: dict[str, dict[str, set[str]]] = {
            r.path: {p: set() for p in r.params} for r in self.routes
        }
        for page in self.pages:
            for form in parse_page(page).forms:
                path = local_path(form.action, self.origin)
                if form.method != "post" or path is None:
                    continue
                for route in self.routes:
                    matched = route.regex.match(path.split("?")[0])
                    if matched is None:
                        continue
                    mine = fields.setdefault(route.path, {})
                    for name, values in form.fields.items():
                        mine.setdefault(name, set()).update(values)
                    for name, value in matched.groupdict().items():
                        params[route.path][name].add(value)
        return fields, params

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, but the columns a refused try counts on purpose."""
        rows: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for table in self.tables:
                skipped = self.counted.get(table.name) or frozenset()
                columns = [c for c in table.columns if c.name not in skipped]
                order = list(table.primary_key.columns) or columns
                rows[table.name] = [
                    tuple(r) for r in conn.execute(select(*columns).order_by(*order))
                ]
        return rows

    def fuzz(
        self,
        examples: int = EXAMPLES_PER_ROUTE,
        extra_params: Mapping[str, Sequence[str]] | None = None,
        extra_values: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Post generated submissions to every form route; check each answer."""
        shown, seen_params = self.forms()
        everything = {name for fields in shown.values() for name in fields}
        for route in self.routes:
            names = shown.get(route.path)
            if names is None:  # a form no page showed: every field name of the service
                names = {name: set() for name in everything}
            fields = {
                name: sorted(
                    values
                    | set(PLAUSIBLE.get(base_name(name), ()))
                    | set((extra_values or {}).get(base_name(name), ()))
                    or {"Martin"}
                )
                for name, values in sorted(names.items())
            }
            params = {
                name: sorted(
                    seen_params[route.path][name] | set((extra_params or {}).get(name, ())) | {"1"}
                )
                for name in route.params
            }

            self.fuzz_route(route, params, fields, examples)

    def fuzz_route(
        self,
        route: FormRoute,
        params: Mapping[str, Sequence[str]],
        fields: Mapping[str, Sequence[str]],
        examples: int,
    ) -> None:
        """``examples`` submissions to one route, the same ones on every run (derandomized)."""

        @given(attempt=attempts(params, fields, self.auths))
        @derandomized(examples)
        def run(attempt: Attempt) -> None:
            self.post(route, attempt)

        run()

    def post(self, route: FormRoute, attempt: Attempt) -> None:
        """Send one submission as a browser would; check the answer and, if refused, the data."""
        client = self.client
        client.cookies.clear()
        for name, value in self.cookies(attempt.auth).items():
            client.cookies.set(name, value)
        before = self.snapshot()
        body, content_type = encode(attempt.pairs, attempt.encoding)
        headers = {"accept": HTML_ACCEPT}
        if content_type is not None:
            headers["content-type"] = content_type
        if attempt.origin == "cross-site":
            headers["sec-fetch-site"] = "cross-site"
        elif attempt.origin == "own":
            headers["origin"] = "http://testserver"
        elif attempt.origin is not None:
            headers["origin"] = attempt.origin
        url = route.url(dict(attempt.params))
        answer = client.post(url, content=body, headers=headers, follow_redirects=False)
        status = answer.status_code
        where = f"POST {url[:120]} -> {status}\n{attempt.short()}\n{text_of(answer.text)[:400]}"
        stats = self.stats[route.path]
        stats.statuses[status] += 1
        if attempt.auth in self.logged_in and attempt.origin not in _EVIL_ORIGINS:
            stats.past_the_guards += 1
        assert status < 500, where
        sent = [value for _, value in attempt.pairs] + [value for _, value in attempt.params]
        if 300 <= status < 400:
            location = answer.headers.get("location", "")
            assert location, where
            path = local_path(location, self.origin)
            if path is None:  # only to another service of the simulation (no open redirect)
                parts = urlsplit(location)
                assert f"{parts.scheme}://{parts.netloc}" in get_links().origins(), where
            else:
                shown = client.get(path, headers={"accept": HTML_ACCEPT})
                assert shown.status_code < 500, f"{where}\nthen GET {path}: {shown.status_code}"
                check_page(
                    shown.text, shown.headers, shown.status_code, sent, f"{where}\nthen GET {path}"
                )
        else:
            check_page(answer.text, answer.headers, status, sent, where)
        if 400 <= status < 500:
            after = self.snapshot()
            assert after == before, f"{where}\nrefused, yet written: {changes(before, after)}"
            stats.unchanged_checked += 1

    def check_coverage(self, minimum_routes: int) -> None:
        """Each route was reached with a user past the guards; refusals and successes were seen."""
        shown = self.forms()[0]
        for path, stats in self.stats.items():  # shown with -s
            found = "form found" if path in shown else "no form found"
            print(f"{self.name} {path} ({found}): {sorted(stats.statuses.items())}")
        assert len(self.routes) >= minimum_routes, [r.path for r in self.routes]
        for path, stats in self.stats.items():
            assert stats.past_the_guards > 0, (path, stats)
            assert sum(stats.statuses.values()) > 0, path
        every = sum((s.statuses for s in self.stats.values()), Counter[int]())
        assert sum(n for status, n in every.items() if status < 400) > 0, every
        assert sum(n for status, n in every.items() if status >= 400) > 0, every
        assert sum(s.unchanged_checked for s in self.stats.values()) > 0


def changes(
    before: Mapping[str, list[tuple[Any, ...]]], after: Mapping[str, list[tuple[Any, ...]]]
) -> str:
    out = []
    for table in before:
        gone = [r for r in before[table] if r not in after[table]]
        new = [r for r in after[table] if r not in before[table]]
        if gone or new:
            out.append(f"{table}: -{gone[:3]} +{new[:3]}")
    return "; ".join(out)


# ------------------------------------------------------------------ is it French?


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


_MESSAGES = (
    re.compile(r'<section class="card error-page">(.*?)</section>', re.S),
    re.compile(r'<p class="field-error"[^>]*>(.*?)</p>', re.S),
    re.compile(r'<p class="form-error"[^>]*>(.*?)</p>', re.S),
    re.compile(r'<p class="flash[ "][^>]*>(.*?)</p>', re.S),
)
ENGLISH = re.compile(
    r"\b(the|is|are|should|must|field|required|invalid|missing|refused|error|not found|value|"
    r"input|unexpected|internal|forbidden|unauthorized|method|allowed|posted|string|characters)\b",
    re.I,
)


def messages(page: str) -> list[str]:
    """What the page says to the user about their submission (errors, one-time message)."""
    return [text_of(found) for pattern in _MESSAGES for found in pattern.findall(page)]


def check_page(
    page: str, headers: Mapping[str, str], status: int, sent: Sequence[str], where: str
) -> None:
    """A French HTML page; a refusal says what is wrong, in French."""
    assert headers.get("content-type", "").startswith("text/html"), where
    assert '<html lang="fr">' in page, where
    assert "Traceback" not in page, where
    said = messages(page)
    if status >= 400:
        assert said, f"{where}\nrefused without a message"
    for message in said:
        plain = message
        for value in sorted((v.strip() for v in sent), key=len, reverse=True):
            if len(value) >= 2:
                plain = plain.replace(value, "…")
        assert not ENGLISH.search(plain), f"{where}\nnot French: {message}"


# ------------------------------------------------------------------ the three services


def seeded_service(
    name: str,
    client: TestClient,
    origin: str,
    seeded: Seeded,
    metadata: MetaData,
    counted: Mapping[str, frozenset[str] | None] | None = None,
) -> Service:
    """The service of a seeded app, its pages crawled as each visitor would see them."""
    service = Service(
        name,
        client,
        origin.rstrip("/"),
        seeded.cookies,
        seeded.auths,
        seeded.logged_in,
        metadata,
        counted or {},
    )
    service.pages.extend(seeded.pages)
    for starts, auth in seeded.starts:
        service.crawl(starts, auth)
    return service


def test_onde_forms(onde: TestClient) -> None:
    seeded = seed_onde(onde)
    service = seeded_service("onde", onde, get_links().onde_url, seeded, OndeModel.metadata)
    service.fuzz(extra_params=seeded.ids)
    service.check_coverage(minimum_routes=7)


def test_educonnect_forms(educonnect: TestClient) -> None:
    seeded = seed_educonnect(educonnect)
    # A refused try still counts (rate limits, a code's tries): on purpose, not half-written.
    counted = {"rate_event": None, "one_time_code": frozenset({"tries_left"})}
    service = seeded_service(
        "educonnect", educonnect, get_links().educonnect_url, seeded, EC_METADATA, counted
    )
    service.fuzz(extra_params=seeded.ids, extra_values=seeded.values)
    service.check_coverage(minimum_routes=22)


def test_sync_forms(sync: TestClient, onde: TestClient, director: dict[str, str]) -> None:
    seeded = seed_sync(sync, onde, director)
    service = seeded_service("sync", sync, get_links().sync_url, seeded, SYNC_METADATA)
    service.fuzz(examples=15)
    service.check_coverage(minimum_routes=3)
