"""The import API used by the sync: accounts, matching, proposals, removals, (de)activation."""

from __future__ import annotations

import gc
import re
from dataclasses import fields
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session

from fake_educonnect.schemas import (
    MAX_IMPORT_BATCH,
    ChildIn,
    ImportBatch,
    ImportReport,
    ImportResult,
    ResponsableIn,
)
from fake_educonnect.service.imports import (
    FOSTER,
    NO_AUTHORITY,
    NO_ENROLLED,
    NO_LONGER_ELIGIBLE,
    NO_MOBILE,
    BatchReport,
    import_batch,
)
from sync_service.config import SyncSettings
from tests.educonnect.factories import OTHER_SCHOOL, child, responsable
from tests.educonnect.helpers import import_items

IMPORT = "/api/v1/import/responsables"


def _import(
    client: TestClient, headers: dict[str, str], *items: dict[str, Any], **options: Any
) -> dict[str, Any]:
    response = client.post(IMPORT, json={"items": list(items), **options}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _account(client: TestClient, headers: dict[str, str], account_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/accounts/{account_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_eligible_responsable_gets_a_non_active_account_and_a_proposal(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    report = _import(educonnect, ec_service, responsable(nom="N'Diaye-Éloi", prenom="Jean-Pierre"))
    result = report["results"][0]
    assert result["outcome"] == "created"
    assert re.fullmatch(r"j\.ndiayeeloi\d{2}", result["identifiant"])
    assert result["proposals_added"] == 1
    account = _account(educonnect, ec_service, result["account_id"])
    assert account["state"] == "non_active"
    assert account["origin"] is None
    assert account["mobile"] == "+33612345678"
    assert [s["source_id"] for s in account["sources"]] == ["101"]
    assert [(a["status"], a["child"]["prenoms"]) for a in account["attachments"]] == [
        ("proposed", "Léa")
    ]


def test_re_sending_the_same_batch_changes_nothing(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    items = [
        responsable("101", children=[child("1"), child("2", prenoms="Tom")]),
        responsable("102", nom="Durand", prenom="Paul", mobile="+33700000001"),
    ]
    first = _import(educonnect, ec_service, *items)
    second = _import(educonnect, ec_service, *items)
    assert [r["outcome"] for r in first["results"]] == ["created", "created"]
    assert [r["outcome"] for r in second["results"]] == ["unchanged", "unchanged"]
    assert second["counts"]["proposals_added"] == 0
    assert [r["identifiant"] for r in first["results"]] == [
        r["identifiant"] for r in second["results"]
    ]
    listed = educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"]
    assert len(listed) == 2


def test_the_same_parent_in_two_schools_is_one_account(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    first = _import(educonnect, ec_service, responsable("101", children=[child("1")]))
    second = _import(
        educonnect,
        ec_service,
        responsable(
            "907",
            nom="MARTIN",
            prenom="sophie",
            school_uai=OTHER_SCHOOL,
            children=[child("55", prenoms="Hugo", school_uai=OTHER_SCHOOL)],
        ),
    )
    assert second["results"][0]["outcome"] == "matched"
    account_id = first["results"][0]["account_id"]
    assert second["results"][0]["account_id"] == account_id
    account = _account(educonnect, ec_service, account_id)
    assert sorted(s["school_uai"] for s in account["sources"]) == sorted(["0021593W", OTHER_SCHOOL])
    assert sorted(a["child"]["prenoms"] for a in account["attachments"]) == ["Hugo", "Léa"]


def test_matching_needs_the_same_mobile_or_email(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    _import(educonnect, ec_service, responsable("101", email="sophie@example.org"))
    by_email = _import(
        educonnect,
        ec_service,
        responsable("102", mobile="+33699999999", email="SOPHIE@example.org"),
    )
    homonym = _import(educonnect, ec_service, responsable("103", mobile="+33688888888", email=None))
    assert by_email["results"][0]["outcome"] == "matched"
    assert homonym["results"][0]["outcome"] == "created"
    first_id = by_email["results"][0]["identifiant"]
    assert homonym["results"][0]["identifiant"] != first_id
    assert homonym["results"][0]["identifiant"].startswith("s.martin")


def test_any_live_source_email_matches_a_homonym_and_a_deleted_one_does_not(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    """Matching trusts the emails of every live source of the account, not only its first."""
    first = _import(educonnect, ec_service, responsable("101", email="a@example.org"))
    account = first["results"][0]["identifiant"]
    second = responsable("201", email="b@example.org", school_uai=OTHER_SCHOOL)
    assert _import(educonnect, ec_service, second)["results"][0]["identifiant"] == account
    other_names = responsable("301", prenom="Paul", mobile="+33633333333", email="B@example.org")
    by_second = responsable("302", mobile="+33633333333", email="B@example.org")
    report = _import(educonnect, ec_service, other_names, by_second)
    assert [r["outcome"] for r in report["results"]] == ["created", "matched"]
    assert report["results"][1]["identifiant"] == account
    _import(educonnect, ec_service, {**second, "children": [], "deleted": True})
    _import(educonnect, ec_service, {**by_second, "children": [], "deleted": True})
    gone = responsable("401", mobile="+33644444444", email="b@example.org")
    assert _import(educonnect, ec_service, gone)["results"][0]["outcome"] == "created"


def test_emails_match_whatever_their_case_accents_included(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    """Python folds É to é; SQLite's lower() folds ASCII only: matching must not depend on it."""
    first = _import(educonnect, ec_service, responsable("101", email="Élodie.Martin@example.org"))
    again = responsable("102", mobile="+33655555555", email="élodie.MARTIN@example.org")
    second = _import(educonnect, ec_service, again)["results"][0]
    assert second["outcome"] == "matched"
    assert second["identifiant"] == first["results"][0]["identifiant"]


def test_two_new_homonyms_in_one_batch_get_distinct_identifiants(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    report = _import(
        educonnect,
        ec_service,
        responsable("101", mobile="+33611111111"),
        responsable("102", mobile="+33622222222"),
        responsable("103", mobile="+33611111111", school_uai=OTHER_SCHOOL),
    )
    outcomes = [r["outcome"] for r in report["results"]]
    assert outcomes == ["created", "created", "matched"]
    ids = [r["identifiant"] for r in report["results"]]
    assert ids[0] != ids[1]
    assert ids[2] == ids[0]


def test_exclusions_say_why(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    report = _import(
        educonnect,
        ec_service,
        responsable("201", children=[child(lien="famille_accueil", autorite_parentale=False)]),
        responsable("202", children=[child(lien="autre_membre_famille", autorite_parentale=False)]),
        responsable("203", children=[child(enrolled=False)]),
    )
    assert [r["outcome"] for r in report["results"]] == ["excluded"] * 3
    assert [r["reasons"] for r in report["results"]] == [[FOSTER], [NO_AUTHORITY], [NO_ENROLLED]]
    assert report["counts"]["excluded"] == 3
    assert educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"] == []


def test_no_mobile_is_reported(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    report = _import(educonnect, ec_service, responsable(mobile=None))
    assert report["results"][0]["outcome"] == "created"
    assert NO_MOBILE in report["results"][0]["reasons"]


def test_struck_off_child_removes_the_link_deactivates_then_restores(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = _import(educonnect, ec_service, responsable())["results"][0]
    gone = _import(educonnect, ec_service, responsable(children=[child(enrolled=False)]))
    result = gone["results"][0]
    assert (result["outcome"], result["links_removed"], result["deactivated"]) == (
        "updated",
        1,
        True,
    )
    assert result["reasons"] == [NO_LONGER_ELIGIBLE]  # an account exists: not "no account"
    account = _account(educonnect, ec_service, created["account_id"])
    assert account["state"] == "desactive"
    assert account["attachments"][0]["status"] == "removed"
    back = _import(educonnect, ec_service, responsable())["results"][0]
    assert (back["restored"], back["proposals_added"]) == (True, 1)
    account = _account(educonnect, ec_service, created["account_id"])
    assert account["state"] == "non_active"
    assert account["attachments"][0]["status"] == "proposed"


def test_deactivation_can_be_held_back(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    created = _import(educonnect, ec_service, responsable())["results"][0]
    held = _import(
        educonnect,
        ec_service,
        responsable(children=[child(enrolled=False)]),
        allow_deactivation=False,
    )["results"][0]
    assert (held["deactivation_pending"], held["deactivated"]) == (True, False)
    assert _account(educonnect, ec_service, created["account_id"])["state"] == "non_active"


def test_contact_changes_update_the_account(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    created = _import(educonnect, ec_service, responsable())["results"][0]
    changed = _import(educonnect, ec_service, responsable(mobile="+33798765432"))["results"][0]
    assert changed["outcome"] == "updated"
    assert _account(educonnect, ec_service, created["account_id"])["mobile"] == "+33798765432"


def test_identifiants_are_reproducible_with_the_same_seed(
    educonnect: TestClient, ec_service: dict[str, str], tmp_path: Any
) -> None:
    from fake_educonnect.config import EduConnectSettings
    from fake_educonnect.main import create_app

    items = [responsable(str(100 + i), mobile=f"+3361234{i:04d}") for i in range(5)]
    first = [r["identifiant"] for r in _import(educonnect, ec_service, *items)["results"]]
    settings = EduConnectSettings(
        database_url=f"sqlite:///{tmp_path / 'other.db'}",
        service_token="test-educonnect-token",
        argon2_time_cost=1,
        argon2_memory_kib=64,
    )
    with TestClient(create_app(settings)) as other:
        second = [r["identifiant"] for r in _import(other, ec_service, *items)["results"]]
    assert first == second
    assert len(set(first)) == 5


def test_the_import_needs_the_service_token_and_valid_items(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    refused = educonnect.post(IMPORT, json={"items": [responsable()]})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    bad = educonnect.post(
        IMPORT,
        json={"items": [responsable(mobile="0612345678", school_uai="123")]},
        headers=ec_service,
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"body.items.0.mobile", "body.items.0.school_uai"} <= fields
    assert educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"] == []


def test_a_batch_over_the_limit_is_refused_whole(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    items = [responsable(source_id=str(n)) for n in range(MAX_IMPORT_BATCH + 1)]
    refused = educonnect.post(IMPORT, json={"items": items}, headers=ec_service)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["body.items"]
    assert educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"] == []
    accepted = ImportBatch.model_validate({"items": items[:MAX_IMPORT_BATCH]})
    assert len(accepted.items) == MAX_IMPORT_BATCH


def test_the_sync_cannot_be_set_to_batches_educonnect_refuses() -> None:
    assert SyncSettings(batch_size=MAX_IMPORT_BATCH).batch_size == MAX_IMPORT_BATCH
    with pytest.raises(ValidationError, match="batch_size"):
        SyncSettings(batch_size=MAX_IMPORT_BATCH + 1)


def test_a_dry_run_answers_and_changes_nothing(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    dry = _import(educonnect, ec_service, responsable(), dry_run=True)
    assert dry["results"][0]["outcome"] == "created"
    assert educonnect.get("/api/v1/accounts", headers=ec_service).json()["items"] == []
    real = _import(educonnect, ec_service, responsable())
    assert real["results"][0]["outcome"] == "created"


def test_the_import_wants_a_json_body(educonnect: TestClient, ec_service: dict[str, str]) -> None:
    body = b'{"items": [{"source_id": "1"}]}'
    plain = educonnect.post(
        IMPORT, content=body, headers={**ec_service, "Content-Type": "text/plain"}
    )
    assert plain.status_code == 422
    assert plain.headers["content-type"] == "application/problem+json"
    assert "expected an application/json body, not text/plain" in plain.json()["detail"]
    broken = educonnect.post(
        IMPORT, content=b"{oops", headers={**ec_service, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    detail = broken.json()["detail"]
    assert detail == "body: not valid JSON: key must be a string at line 1 column 2"


def test_the_import_answer_has_the_documented_import_report_shape(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    # The import encodes its answer from dataclasses; the API documents ImportReport.
    assert [f.name for f in fields(BatchReport)] == list(ImportReport.model_fields)
    body = _import(educonnect, ec_service, responsable(), responsable("102", children=[]))
    report = ImportReport.model_validate(body)
    assert [r.outcome for r in report.results] == ["created", "excluded"]
    assert body["results"] == [orjson.loads(orjson.dumps(r)) for r in report.results]
    assert (body["counts"]["created"], body["counts"]["excluded"]) == (1, 1)
    openapi = educonnect.get("/openapi.json").json()
    answer = openapi["paths"][IMPORT]["post"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ImportReport"}
    result = openapi["components"]["schemas"]["ImportResult"]
    assert list(result["properties"]) == [f.name for f in fields(ImportResult)]
    assert result["required"] == ["source_id", "outcome"]


def test_the_import_runs_with_the_garbage_collector_paused_until_its_commit(
    educonnect: TestClient, ec_service: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, bool] = {}

    def spy_import(session: Session, *args: Any) -> BatchReport:
        seen["import"] = gc.isenabled()
        real_commit = session.commit

        def spy_commit() -> None:
            seen["commit"] = gc.isenabled()
            real_commit()

        monkeypatch.setattr(session, "commit", spy_commit)
        return import_batch(session, *args)

    monkeypatch.setattr("fake_educonnect.routes.service_api.import_batch", spy_import)
    report = _import(educonnect, ec_service, responsable())
    assert report["counts"]["created"] == 1
    assert seen == {"import": False, "commit": False}
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nom", "Martin-Durand"),
        ("prenoms", "Léa Rose"),
        ("level", "CE1"),
        ("class_label", "CE1 B"),
        ("school_uai", OTHER_SCHOOL),
        ("ine", "0000000001B"),
    ],
)
def test_a_childs_new_details_in_the_source_reach_its_attachment(
    educonnect: TestClient, ec_service: dict[str, str], field: str, value: str
) -> None:
    first = _import(educonnect, ec_service, responsable(children=[child(class_label="CP A")]))
    account_id = first["results"][0]["account_id"]
    again = _import(
        educonnect, ec_service, responsable(children=[{**child(class_label="CP A"), field: value}])
    )
    assert again["results"][0]["outcome"] == "unchanged"  # the responsable itself did not change
    (attachment,) = _account(educonnect, ec_service, account_id)["attachments"]
    assert attachment["child"][field] == value


def test_the_import_body_is_documented_with_its_items_fields_and_constraints(
    educonnect: TestClient,
) -> None:
    openapi = educonnect.get("/openapi.json").json()
    body = openapi["paths"][IMPORT]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/ImportBatch"}
    schemas = openapi["components"]["schemas"]
    items = schemas["ImportBatch"]["properties"]["items"]
    assert items["items"] == {"$ref": "#/components/schemas/ResponsableIn"}
    assert (items["minItems"], items["maxItems"]) == (1, MAX_IMPORT_BATCH)
    for model in (ResponsableIn, ChildIn):
        schema = schemas[model.__name__]
        assert list(schema["properties"]) == [f.name for f in fields(model)]
        assert schema["description"] == model.__doc__
    responsable_in, child_in = schemas["ResponsableIn"], schemas["ChildIn"]
    assert set(responsable_in["required"]) == {"source_id", "school_uai", "nom", "prenom"}
    assert responsable_in["properties"]["children"]["maxItems"] == 50
    assert responsable_in["properties"]["deleted"]["default"] is False
    assert responsable_in["properties"]["nom"]["maxLength"] == 80
    assert child_in["properties"]["ine"]["pattern"] == "^[0-9A-Z]{11}$"
    assert set(child_in["required"]) == {f.name for f in fields(ChildIn) if f.name != "class_label"}


def test_accounts_can_be_listed_by_source_alone(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    """``source`` filters by itself, not only beside ``school`` or ``source_id``."""
    results = import_items(
        educonnect,
        ec_service,
        responsable("101"),
        responsable(
            "101",
            source="siecle",
            nom="Durand",
            prenom="Paul",
            mobile="+33700000001",
            school_uai=OTHER_SCHOOL,
            children=[child("9", school_uai=OTHER_SCHOOL)],
        ),
    )
    for source, result in zip(("onde", "siecle"), results, strict=True):
        listed = educonnect.get(
            "/api/v1/accounts", params={"source": source}, headers=ec_service
        ).json()["items"]
        assert [account["id"] for account in listed] == [result["account_id"]]
