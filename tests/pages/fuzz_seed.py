"""Data and users the fuzz tests of the pages share (forms in test_form_fuzz, pages in
test_page_fuzz): each service seeded with records of the director's school and of another one,
and the cookies of each kind of visitor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, delete

from edusim_common.db import unit_of_work
from edusim_common.school_tokens import school_token
from fake_educonnect.deps import DIRECTOR_PREFIX
from fake_educonnect.models import RateEvent
from fake_onde.auth import director_token
from tests.conftest import DEMO_UAI, EC_SECRET_KEY, EC_SERVICE_TOKEN, SECRET_KEY, make_school
from tests.educonnect.factories import OTHER_SCHOOL, child, responsable
from tests.educonnect.helpers import (
    activate_by_sms,
    add_identity,
    import_items,
    last_code,
    reopen_parent_session,
)
from tests.educonnect.helpers import letter_for as print_letter
from tests.pages.ec_steps import hidden, no_sync
from tests.sync.onde_steps import add_parent, admit_pupil, set_state

EC_SERVICE = {"Authorization": f"Bearer {EC_SERVICE_TOKEN}"}
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
OTHER_UAI = "0000001B"


@dataclass
class Seeded:
    """A seeded service: its visitors, where to crawl from, and the values worth trying.

    ``cookies(auth)`` prepares one visitor (e.g. a fresh parent session) and returns their
    cookies; ``auths`` is the mix to draw from, ``logged_in`` the visitors past the guards.
    ``ids`` are path values (the director's records and another school's), ``values`` field values
    only known after the seeding (codes, request ids), ``pages`` pages the seeding landed on.
    """

    cookies: Callable[[str], dict[str, str]]
    auths: tuple[str, ...]
    logged_in: frozenset[str]
    starts: Sequence[tuple[Sequence[str], str]]
    ids: Mapping[str, Sequence[str]] = field(default_factory=dict)
    values: Mapping[str, Sequence[str]] = field(default_factory=dict)
    pages: list[str] = field(default_factory=list)


def seed_onde(onde: TestClient) -> Seeded:
    """Two pupils with their parents in a class of the demo school; a pupil of another school."""
    onde.app.state.simbar_source = no_sync  # type: ignore[attr-defined]
    director = make_school(onde)
    made = onde.post(
        f"/api/v1/schools/{DEMO_UAI}/classes",
        json={"label": "CP Mme Durand", "levels": ["CP"]},
        headers=director,
    ).json()
    lea = admit_pupil(onde, director, class_id=made["id"])
    mother = add_parent(onde, director, lea["id"])
    tom = admit_pupil(onde, director, prenoms="Tom", sex="M", birth_date="2017-05-06", level="CE1")
    add_parent(onde, director, tom["id"], civility="M", prenom="Marc", lien="pere", mobile=None)
    stranger = make_school(onde, OTHER_UAI, name="École du Centre")
    body = {"nom": "Roux", "prenoms": "Lou", "sex": "F", "birth_date": "2018-08-08"}
    body |= {"birth_place": "59350", "level": "CE1", "state": "admis"}
    theirs = onde.post(f"/api/v1/schools/{OTHER_UAI}/pupils", json=body, headers=stranger).json()
    their_parent = onde.post(
        f"/api/v1/schools/{OTHER_UAI}/responsables",
        json={"civility": "M", "nom": "Roux", "prenom": "Jean"},
        headers=stranger,
    ).json()
    cookies = {
        "none": {},
        "director": {"onde_director": director_token(SECRET_KEY, DEMO_UAI)},
        "other-school": {"onde_director": director_token(SECRET_KEY, OTHER_UAI)},
        "forged": {"onde_director": "onde-dir-0021593W-forged"},
    }
    # The confirmation pages of the destructive buttons (reached by a POST that writes nothing):
    # their forms carry ``confirm``, so the fuzz reaches the action itself too.
    pages: list[str] = []
    for url, data in (
        (f"/eleves/{lea['id']}/etat", {"etat": "radie"}),
        (f"/eleves/{lea['id']}/responsables/{mother['id']}/retirer", {}),
    ):
        onde.cookies.clear()
        onde.cookies.set("onde_director", cookies["director"]["onde_director"])
        answer = onde.post(url, data=data, headers={"accept": HTML_ACCEPT})
        assert answer.status_code == 200, url
        assert 'name="confirm"' in answer.text, url
        pages.append(answer.text)
    onde.cookies.clear()
    return Seeded(
        lambda auth: dict(cookies[auth]),
        auths=("director",) * 5 + ("none", "other-school", "forged"),
        logged_in=frozenset({"director"}),
        starts=((["/"], "none"), (["/", "/eleves/admettre"], "director")),
        ids={"pupil_id": [str(theirs["id"])], "responsable_id": [str(their_parent["id"])]},
        pages=pages,
    )


def seed_educonnect(ec: TestClient) -> Seeded:
    """Accounts of the demo school (one active, one with its letter, one FranceConnect identity)
    and of another school; code requests pending, reached through the pages."""
    ec.app.state.simbar_source = no_sync  # type: ignore[attr-defined]
    results = import_items(
        ec,
        EC_SERVICE,
        responsable(children=[child("1"), child("2", prenoms="Tom", birth_date="2017-05-06")]),
        responsable("102", nom="Durand", prenom="Paul", mobile="+33611111101",
                    children=[child("3", nom="Durand", prenoms="Hugo")]),
        responsable("103", nom="Petit", prenom="Anne", mobile="+33611111103",
                    children=[child("4", nom="Petit", prenoms="Inès")]),
        responsable("901", nom="Lemoine", prenom="Claire", mobile="+33677777777",
                    school_uai=OTHER_SCHOOL,
                    children=[child("9", nom="Lemoine", prenoms="Jules", school_uai=OTHER_SCHOOL)]),
    )  # fmt: skip
    sophie_id, paul_id, anne_id, claire_id = (r["account_id"] for r in results)
    sophie = activate_by_sms(ec, EC_SERVICE)
    letter = print_letter(ec, EC_SERVICE, paul_id)
    add_identity(ec, EC_SERVICE, sub="fc-anne", given_name="Anne", family_name="PETIT",
                 phone_number="+33611111103", email="anne.petit@example.org")  # fmt: skip
    console = school_token(DIRECTOR_PREFIX, EC_SECRET_KEY, DEMO_UAI)
    other_console = school_token(DIRECTOR_PREFIX, EC_SECRET_KEY, OTHER_SCHOOL)

    engine: Engine = ec.app.state.engine  # type: ignore[attr-defined]

    def cookies(auth: str) -> dict[str, str]:
        with unit_of_work(engine) as session:
            session.execute(delete(RateEvent))  # else every form is « trop de tentatives »
        made: dict[str, str] = {}
        if auth in ("parent", "both"):
            now = ec.app.state.clock.now()  # type: ignore[attr-defined]
            made["ec_session"] = reopen_parent_session(engine, now, sophie_id)
        if auth in ("console", "both"):
            made["ec_console"] = console
        if auth == "other-console":
            made["ec_console"] = other_console
        if auth == "forged":
            made |= {"ec_session": "x" * 300, "ec_console": f"ec-dir-{DEMO_UAI}-forged"}
        return made

    # Code requests pending, reached through the pages: their code forms are seen, their codes
    # known; and the console's confirmation form (Sophie activated alone).
    request_ids: set[str] = set()
    codes: set[str] = set()
    pages: list[str] = []
    steps: tuple[tuple[str, dict[str, str], str, str | None], ...] = (
        ("/activation/sms", {"nom": "Durand", "prenom": "Paul", "mobile": "0611111101"},
         "none", "+33611111101"),
        ("/franceconnect", {"sub": "fc-anne"}, "none", "+33611111103"),
        ("/mot-de-passe-oublie", {"identifiant": sophie["identifiant"], "channel": "sms"},
         "none", "+33612345678"),
        ("/me/email", {"email": "sophie.martin@example.org"}, "parent",
         "sophie.martin@example.org"),
        (f"/console/comptes/{sophie_id}/courrier", {}, "console", None),
    )  # fmt: skip
    for url, data, auth, recipient in steps:
        ec.cookies.clear()
        for name, value in cookies(auth).items():
            ec.cookies.set(name, value)
        answer = ec.post(url, data=data, headers={"accept": HTML_ACCEPT})
        assert answer.status_code == 200, (url, answer.text[-600:])
        pages.append(answer.text)
        if recipient is not None:
            request_ids.add(hidden(answer.text, "request_id"))
            codes.add(last_code(ec, EC_SERVICE, recipient))
    attachments = [
        str(a["id"])
        for account_id in (sophie_id, claire_id)
        for a in ec.get(f"/api/v1/accounts/{account_id}", headers=EC_SERVICE).json()["attachments"]
    ]
    # « Ce n'est pas mon enfant » asks first: its confirmation form carries ``confirm``.
    ec.cookies.clear()
    for name, value in cookies("parent").items():
        ec.cookies.set(name, value)
    asked = ec.post(f"/rattachement/{attachments[0]}/refuser", headers={"accept": HTML_ACCEPT})
    assert asked.status_code == 200, asked.text[-600:]
    assert 'name="confirm"' in asked.text, asked.text[-600:]
    pages.append(asked.text)
    return Seeded(
        cookies,
        auths=("parent",) * 3 + ("console",) * 3 + ("both", "none", "other-console", "forged"),
        logged_in=frozenset({"parent", "console", "both"}),
        starts=(
            (["/", "/console"], "none"),
            (["/me", "/rattachement", "/me/email", "/me/ajouter", "/mot-de-passe"], "parent"),
            (["/console", f"/console/comptes/{sophie_id}"], "console"),
        ),
        ids={
            "account_id": [str(n) for n in (sophie_id, paul_id, anne_id, claire_id)],
            "attachment_id": attachments,
        },
        values={
            "request_id": sorted(request_ids),
            "code": sorted(codes),
            "identifiant": [sophie["identifiant"], letter["identifiant"]],
            "password": [letter["temporary_password"]],
        },
        pages=pages,
    )


def seed_sync(sync: TestClient, onde: TestClient, director: dict[str, str]) -> Seeded:
    """Two nights, the second one's deactivation held back: its approval form shows."""
    sync.app.state.sync.settings.deactivation_max_count = 0  # type: ignore[attr-defined]
    pupil = admit_pupil(onde, director)
    add_parent(onde, director, pupil["id"])
    for step in ("admitted", "struck off"):
        if step == "struck off":
            set_state(onde, director, pupil["id"], "radie")
        moved = sync.post("/sim/next-day", data={"next": "/runs"}, headers={"accept": HTML_ACCEPT})
        assert moved.status_code == 200, step
    return Seeded(
        lambda auth: {},  # the simulation's controls need no login
        auths=("none",),
        logged_in=frozenset({"none"}),
        starts=((["/", "/runs", "/runs/2"], "none"),),
    )


def derandomized(examples: int) -> settings:
    """The fuzz tests' hypothesis settings: ``examples`` cases, the same on every run."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
