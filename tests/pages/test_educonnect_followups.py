"""EduConnect pages after review: the console's search in one query, the account's phone in the
national format and its diagnosis in French, counts that agree with their number, ASCII digits
only, and a deactivated parent's session refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.educonnect.factories import child, responsable
from tests.educonnect.helpers import activate_by_sms, bearer, import_items
from tests.pages.ec_steps import (
    activate_by_sms_pages,
    console_login,
    field_error,
    flash,
    input_value,
    proposal_ids,
    text_of,
)


@contextmanager
def _statements(ec: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app runs meanwhile."""
    engine = ec.app.state.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _family(n: int) -> dict[str, Any]:
    return responsable(
        str(100 + n),
        nom=f"Famille{'abcdefghij'[n]}",
        prenom="Anne",
        mobile=f"+3361234560{n}",
        children=[child(str(n), nom="Petit", prenoms=f"Enfant{'abcdefghij'[n]}")],
    )


def test_the_console_search_reads_the_children_in_one_query(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, *(_family(n) for n in range(2)))
    console_login(ec)
    with _statements(ec) as few:
        page = ec.get("/console")
    assert "Enfanta Petit" in text_of(page.text)
    import_items(ec, ec_service, *(_family(n) for n in range(2, 8)))
    with _statements(ec) as many:
        page = ec.get("/console")
    assert "Enfanth Petit" in text_of(page.text)
    reading_children = [s for s in many if "JOIN child" in s and "attachment" in s]
    assert len(reading_children) == 1, reading_children
    assert len(many) == len(few)  # as many queries for 8 accounts as for 2


def test_the_account_page_shows_the_phone_nationally_and_the_diagnosis_in_french(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    (sophie,) = import_items(
        ec, ec_service, responsable(children=[child("1"), child("2", prenoms="Tom")])
    )
    session = activate_by_sms(ec, ec_service)
    proposals = {
        p["prenoms"]: p["attachment_id"]
        for p in ec.get("/api/v1/me/proposals", headers=bearer(session)).json()
    }
    ec.post(
        f"/api/v1/me/proposals/{proposals['Tom']}/confirm",
        json={"birth_date": "2000-01-01"},
        headers=bearer(session),
    )
    console_login(ec)
    page = ec.get(f"/console/comptes/{sophie['account_id']}")
    assert page.status_code == 200
    assert re.search(r'id="detail-mobile">06 12 34 56 78<', page.text)
    assert "+33612345678" not in page.text
    diagnosis = page.text[page.text.index('id="diagnosis"') :]
    diagnosis = diagnosis[: diagnosis.index("</section>")]
    words = text_of(f"<main>{diagnosis}</main>")
    assert "Diagnostic" in words
    assert (
        "Compte activé le 01/09/2026 par le parent lui-même (code par SMS), origine "
        "« Responsable » ; dernière connexion le 01/09/2026 à 08:00." in words
    )
    assert "Ce parent a activé son compte seul" in words
    assert "Léa Martin a été proposé(e) à une connexion et laissé(e) en attente" in words
    assert "Rattachement de Tom Martin bloqué après une mauvaise date de naissance" in words
    assert 'class="diag-blocked"' in diagnosis
    assert " is " not in words  # nothing left in English


def test_the_statistics_agree_with_their_count(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable(), _family(3), _family(4))
    console_login(ec)
    none = text_of(ec.get("/console/statistiques").text)
    assert "0 compte activé sur 3" in none
    activate_by_sms(ec, ec_service)
    one = text_of(ec.get("/console/statistiques").text)
    assert "1 compte activé sur 3" in one


def test_the_simulation_bar_counts_agree_with_their_number(ec: TestClient) -> None:
    async def after_a_night(request: Any) -> dict[str, Any]:
        clock = {"now": "2026-09-02T06:00:00+00:00", "mode": "frozen"}
        run = {
            "id": 1,
            "kind": "nightly",
            "status": "succeeded",
            "dry_run": False,
            "counts": {"created": 1, "proposals_added": 2, "links_removed": 0, "no_mobile": 1},
        }
        return {"clock": clock, "last_run": run}

    ec.app.state.simbar_source = after_a_night  # type: ignore[attr-defined]
    bar = ec.get("/").text
    assert "1 compte créé<" in bar
    assert "2 enfants proposés<" in bar
    assert "1 sans mobile<" in bar
    assert "lien retiré" not in bar  # a zero count is not shown


def test_unicode_digits_are_not_a_birth_date_and_cost_no_try(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    activate_by_sms_pages(ec)
    (lea,) = proposal_ids(ec.get("/rattachement").text)
    field = f"birth_date_{lea}"
    for typed in ("٠٣/٠٢/٢٠١٩", "०३/०२/२०१९", "２０１９-０２-０３", "3/2/２０１９"):
        bad = ec.post(f"/rattachement/{lea}/confirmer", data={field: typed})
        assert bad.status_code == 422, typed
        assert field_error(bad.text, field) == "Date invalide : utilisez le format JJ/MM/AAAA."
        assert input_value(bad.text, field) == typed
    right = ec.post(f"/rattachement/{lea}/confirmer", data={field: "03/02/2019"})
    assert flash(right.text) == "Léa est rattaché(e) à votre compte."


def test_unicode_digits_are_no_uai_nor_id(ec: TestClient, ec_service: dict[str, str]) -> None:
    import_items(ec, ec_service, responsable())
    arabic = ec.post("/console/connexion", data={"uai_autre": "٠٠٢١٥٩٣W"})
    assert arabic.status_code == 422
    assert field_error(arabic.text, "uai_autre") == (
        "Un UAI compte 7 chiffres suivis d'une lettre (exemple : 0021593W)."
    )
    assert ec.cookies.get("ec_console") is None
    console_login(ec)
    for garbage in ("²", "١", "①", "1²"):
        page = ec.get(f"/console/comptes/{garbage}")
        assert page.status_code == 404, garbage
        assert ec.post(f"/console/rattachements/{garbage}/rattacher").status_code == 404
    code = ec.post("/activation/sms/code", data={"request_id": "x", "code": "١٢٣٤٥٦"})
    assert code.status_code == 422
    assert field_error(code.text, "code") == "Le code compte 6 chiffres."


def test_a_deactivated_parent_is_sent_back_to_the_login_page(
    ec: TestClient, ec_service: dict[str, str]
) -> None:
    import_items(ec, ec_service, responsable())
    activate_by_sms_pages(ec)
    assert ec.get("/me").url.path == "/me"
    import_items(ec, ec_service, responsable(children=[child(enrolled=False)]))
    page = ec.get("/me")
    assert page.url.path == "/login"
    assert flash(page.text) == "Connectez-vous pour continuer (session absente ou expirée)."


def test_the_sync_pages_take_ascii_digits_only(sync: TestClient) -> None:
    html = {"accept": "text/html"}
    for garbage in ("²", "١٢", "①"):
        page = sync.get(f"/timeline/{garbage}", headers=html)
        assert page.status_code == 404, garbage
        assert sync.get("/timeline", params={"q": garbage}, headers=html).status_code == 200
        assert sync.get("/runs", params={"avant": garbage}, headers=html).status_code == 200
