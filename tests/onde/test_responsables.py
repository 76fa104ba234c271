"""Responsables: contact data, validation, links to pupils, deletion, filters, scoping."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from fake_onde.models import Lien
from fake_onde.service import responsables as responsables_service
from tests.conftest import DEMO_UAI, make_school

OTHER_UAI = "0000001B"
RESPONSABLES = f"/api/v1/schools/{DEMO_UAI}/responsables"
ADDRESS = {"line1": "12 rue des Tilleuls", "postal_code": "59000", "city": "Lille"}


def parent_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"civility": "MME", "nom": "Lefèvre", "prenom": "Sophie"}
    body.update(fields)
    return body


def new_parent(
    client: TestClient, headers: dict[str, str], uai: str = DEMO_UAI, **fields: Any
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/schools/{uai}/responsables", json=parent_body(**fields), headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def new_pupil(
    client: TestClient, headers: dict[str, str], uai: str = DEMO_UAI, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nom": "Lefèvre",
        "prenoms": "Léa",
        "sex": "F",
        "birth_date": "2019-02-03",
        "birth_place": "59350",
        "level": "CP",
    }
    body.update(fields)
    response = client.post(f"/api/v1/schools/{uai}/pupils", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def link(
    client: TestClient, headers: dict[str, str], pupil_id: int, responsable_id: int, **fields: Any
) -> Any:
    body = {"responsable_id": responsable_id, "lien": "mere", **fields}
    return client.post(f"/api/v1/pupils/{pupil_id}/responsables", json=body, headers=headers)


def log(client: TestClient, service: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(
        "/api/v1/changes", params={"limit": 500}, headers=service
    ).json()["items"]
    return items


# ---------------------------------------------------------------- create / validation


def test_create_normalises_phones_and_keeps_contact_data(
    onde: TestClient, director: dict[str, str]
) -> None:
    parent = new_parent(
        onde,
        director,
        mobile="+33 6 12 34 56 78",
        home_phone="03.20.12.34.56",
        work_phone="0033 1 23 45 67 89",
        email="sophie.lefevre@example.org",
        accepts_sms=False,
        address=ADDRESS,
    )
    assert parent["mobile"] == "+33612345678"
    assert parent["home_phone"] == "+33320123456"
    assert parent["work_phone"] == "+33123456789"
    assert parent["email"] == "sophie.lefevre@example.org"
    assert parent["accepts_sms"] is False
    assert parent["address"] == {**ADDRESS, "line2": None, "country": "France"}
    assert parent["school_uai"] == DEMO_UAI
    assert parent["created_at"] == parent["updated_at"] == "2026-09-01T06:00:00Z"
    assert onde.get(f"/api/v1/responsables/{parent['id']}", headers=director).json() == parent


def test_a_responsable_without_mobile_is_accepted(
    onde: TestClient, director: dict[str, str]
) -> None:
    parent = new_parent(onde, director)
    assert parent["mobile"] is None
    assert parent["accepts_sms"] is True
    assert parent["address"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mobile": "06 12 34"}, "body.mobile"),
        ({"mobile": "hello"}, "body.mobile"),
        ({"mobile": "03 20 12 34 56"}, "body.mobile"),
        ({"home_phone": "12"}, "body.home_phone"),
        ({"work_phone": "06 12 34 56 78 99"}, "body.work_phone"),
        ({"email": "not-an-email"}, "body.email"),
        ({"email": "a@b"}, "body.email"),
        ({"address": {**ADDRESS, "postal_code": "5900"}}, "body.address.postal_code"),
        ({"address": {**ADDRESS, "postal_code": "59 000"}}, "body.address.postal_code"),
        ({"address": {"line1": "x", "city": "Lille"}}, "body.address.postal_code"),
        ({"civility": "DR"}, "body.civility"),
        ({"nom": "L3fèvre"}, "body.nom"),
        ({"prenom": ""}, "body.prenom"),
    ],
)
def test_invalid_responsable_is_422_naming_the_field(
    onde: TestClient,
    director: dict[str, str],
    service: dict[str, str],
    fields: dict[str, Any],
    field: str,
) -> None:
    before = log(onde, service)
    response = onde.post(RESPONSABLES, json=parent_body(**fields), headers=director)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert log(onde, service) == before
    assert onde.get("/api/v1/responsables", headers=service).json()["items"] == []


def test_landline_as_mobile_says_why(onde: TestClient, director: dict[str, str]) -> None:
    response = onde.post(RESPONSABLES, json=parent_body(mobile="0320123456"), headers=director)
    assert "mobile" in response.json()["errors"][0]["reason"]


# ---------------------------------------------------------------- PATCH


def test_patch_null_clears_the_mobile_and_other_optional_fields(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    parent = new_parent(onde, director, mobile="0612345678", email="a@example.org", address=ADDRESS)
    onde.post("/api/v1/clock/advance", json={"seconds": 60}, headers=service)
    response = onde.patch(
        f"/api/v1/responsables/{parent['id']}",
        json={"mobile": None, "email": None, "address": None},
        headers=director,
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert (after["mobile"], after["email"], after["address"]) == (None, None, None)
    assert after["updated_at"] == "2026-09-01T06:01:00Z"
    assert after["nom"] == parent["nom"]
    last = log(onde, service)[-1]
    assert (last["entity"], last["op"], last["data"]) == ("responsable", "update", after)
    no_mobile = onde.get("/api/v1/responsables", params={"has_mobile": False}, headers=director)
    assert [r["id"] for r in no_mobile.json()["items"]] == [parent["id"]]


def test_patch_normalises_and_validates(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    parent = new_parent(onde, director)
    url = f"/api/v1/responsables/{parent['id']}"
    response = onde.patch(url, json={"mobile": "07 51 23 45 67", "nom": "Durand"}, headers=director)
    assert response.json()["mobile"] == "+33751234567"
    before = log(onde, service)
    for body, field in (
        ({"mobile": "0320123456"}, "body.mobile"),
        ({"email": "nope"}, "body.email"),
        ({"nom": None}, "body.nom"),
        ({"civility": None}, "body.civility"),
        ({"accepts_sms": None}, "body.accepts_sms"),
        ({"address": {**ADDRESS, "postal_code": "ABCDE"}}, "body.address.postal_code"),
    ):
        refused = onde.patch(url, json=body, headers=director)
        assert refused.status_code == 422, body
        assert field in [e["field"] for e in refused.json()["errors"]]
    assert log(onde, service) == before
    assert onde.get(url, headers=director).json()["mobile"] == "+33751234567"


def test_a_no_op_patch_records_no_change(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    parent = new_parent(onde, director, mobile="0612345678")
    before = log(onde, service)
    onde.post("/api/v1/clock/advance", json={"seconds": 60}, headers=service)
    response = onde.patch(
        f"/api/v1/responsables/{parent['id']}",
        json={"mobile": "+33 6 12 34 56 78", "nom": "Lefèvre"},
        headers=director,
    )
    assert response.status_code == 200
    assert response.json() == parent
    assert log(onde, service) == before


# ---------------------------------------------------------------- links


@pytest.mark.parametrize("lien", list(Lien))
def test_every_lien_value_is_accepted(
    onde: TestClient, director: dict[str, str], lien: Lien
) -> None:
    pupil = new_pupil(onde, director)
    parent = new_parent(onde, director)
    response = link(onde, director, pupil["id"], parent["id"], lien=lien.value)
    assert response.status_code == 201, response.text
    assert response.json()["lien"] == lien.value
    assert response.json()["autorite_parentale"] is True


def test_link_values_and_parental_authority(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    pupil = new_pupil(onde, director)
    parent = new_parent(onde, director)
    before = log(onde, service)
    refused = link(onde, director, pupil["id"], parent["id"], lien="oncle")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.lien"
    refused = link(onde, director, pupil["id"], parent["id"], autorite_parentale="maybe")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.autorite_parentale"
    assert log(onde, service) == before
    created = link(
        onde, director, pupil["id"], parent["id"], lien="tuteur", autorite_parentale=False
    )
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "pupil_id": pupil["id"],
        "responsable_id": parent["id"],
        "school_uai": DEMO_UAI,
        "lien": "tuteur",
        "autorite_parentale": False,
    }
    listed = onde.get(f"/api/v1/pupils/{pupil['id']}/responsables", headers=director).json()
    assert listed == [created.json()]
    assert onde.get(f"/api/v1/responsables/{parent['id']}/pupils", headers=director).json() == [
        created.json()
    ]


def test_link_to_an_unknown_or_other_school_responsable_is_refused(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    other = make_school(onde, OTHER_UAI)
    pupil = new_pupil(onde, director)
    theirs = new_parent(onde, other, uai=OTHER_UAI)
    before = log(onde, service)
    for responsable_id in (theirs["id"], 9999):
        for headers in (director, service):
            response = link(onde, headers, pupil["id"], responsable_id)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "body.responsable_id"
    assert log(onde, service) == before
    assert onde.get(f"/api/v1/pupils/{pupil['id']}/responsables", headers=service).json() == []


def test_duplicate_link_is_409(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    pupil = new_pupil(onde, director)
    parent = new_parent(onde, director)
    assert link(onde, director, pupil["id"], parent["id"]).status_code == 201
    before = log(onde, service)
    response = link(onde, director, pupil["id"], parent["id"], lien="pere")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "body.responsable_id"
    assert log(onde, service) == before
    listed = onde.get(f"/api/v1/pupils/{pupil['id']}/responsables", headers=director).json()
    assert [(x["lien"], x["responsable_id"]) for x in listed] == [("mere", parent["id"])]


def test_a_responsable_takes_no_more_pupils_than_educonnect_does(
    onde: TestClient,
    director: dict[str, str],
    service: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EduConnect's import takes at most MAX_CHILDREN_PER_RESPONSABLE children per responsable:
    ONDE refuses the next link (409), so no responsable fails every night's sync."""
    monkeypatch.setattr(responsables_service, "MAX_CHILDREN_PER_RESPONSABLE", 2)
    parent = new_parent(onde, director)
    pupils = [new_pupil(onde, director, prenoms=name)["id"] for name in ("Léa", "Tom", "Zoé")]
    assert [link(onde, director, p, parent["id"]).status_code for p in pupils[:2]] == [201, 201]
    before = log(onde, service)
    refused = link(onde, director, pupils[2], parent["id"])
    assert refused.status_code == 409
    assert "already linked to 2 pupils" in refused.json()["detail"]
    assert log(onde, service) == before
    assert link(onde, director, pupils[2], new_parent(onde, director)["id"]).status_code == 201


def test_update_and_delete_a_link(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    pupil = new_pupil(onde, director)
    parent = new_parent(onde, director)
    created = link(onde, director, pupil["id"], parent["id"]).json()
    url = f"/api/v1/pupils/{pupil['id']}/responsables/{parent['id']}"
    updated = onde.patch(
        url, json={"lien": "tuteur", "autorite_parentale": False}, headers=director
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["lien"], updated.json()["autorite_parentale"]) == ("tuteur", False)
    assert updated.json()["id"] == created["id"]
    last = log(onde, service)[-1]
    assert (last["entity"], last["op"], last["data"]) == ("link", "update", updated.json())

    before = log(onde, service)
    assert onde.patch(url, json={"lien": "tuteur"}, headers=director).status_code == 200
    assert onde.patch(url, json={"lien": None}, headers=director).status_code == 422
    assert onde.patch(url, json={"lien": "oncle"}, headers=director).status_code == 422
    assert log(onde, service) == before

    assert onde.delete(url, headers=director).status_code == 204
    assert onde.get(f"/api/v1/pupils/{pupil['id']}/responsables", headers=director).json() == []
    last = log(onde, service)[-1]
    assert (last["entity"], last["op"], last["entity_id"]) == ("link", "delete", str(created["id"]))
    assert onde.delete(url, headers=director).status_code == 404
    assert onde.patch(url, json={"lien": "mere"}, headers=director).status_code == 404


def test_deleting_a_responsable_removes_and_logs_each_link(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    first = new_pupil(onde, director)
    second = new_pupil(onde, director, prenoms="Tom", sex="M")
    parent = new_parent(onde, director)
    other_parent = new_parent(onde, director, prenom="Marc", civility="M")
    links = [
        link(onde, director, first["id"], parent["id"]).json(),
        link(onde, director, second["id"], parent["id"]).json(),
    ]
    kept = link(onde, director, first["id"], other_parent["id"], lien="pere").json()
    onde.post("/api/v1/clock/advance", json={"seconds": 120}, headers=service)
    assert onde.delete(f"/api/v1/responsables/{parent['id']}", headers=director).status_code == 204
    assert onde.get(f"/api/v1/responsables/{parent['id']}", headers=director).status_code == 404
    assert onde.get(f"/api/v1/pupils/{first['id']}/responsables", headers=director).json() == [kept]
    assert onde.get(f"/api/v1/pupils/{second['id']}/responsables", headers=director).json() == []
    tail = log(onde, service)[-3:]
    assert [(c["entity"], c["op"], c["entity_id"]) for c in tail] == [
        ("link", "delete", str(links[0]["id"])),
        ("link", "delete", str(links[1]["id"])),
        ("responsable", "delete", str(parent["id"])),
    ]
    assert {c["at"] for c in tail} == {"2026-09-01T06:02:00Z"}
    assert tail[0]["data"] == links[0]


# ---------------------------------------------------------------- list filters


def test_list_filters(onde: TestClient, director: dict[str, str], service: dict[str, str]) -> None:
    other = make_school(onde, OTHER_UAI)
    pupil = new_pupil(onde, director)
    lefevre = new_parent(onde, director, mobile="0612345678")
    lefebvre = new_parent(onde, director, nom="Lefebvre", prenom="Élodie")
    martin = new_parent(
        onde, director, nom="Martin", prenom="Marc", civility="M", mobile="0751234567"
    )
    theirs = new_parent(onde, other, uai=OTHER_UAI, nom="Lefort", mobile="0612345679")
    link(onde, director, pupil["id"], lefevre["id"])
    link(onde, director, pupil["id"], martin["id"], lien="pere")

    def ids(headers: dict[str, str], **params: Any) -> list[int]:
        response = onde.get("/api/v1/responsables", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert ids(service) == [lefevre["id"], lefebvre["id"], martin["id"], theirs["id"]]
    assert ids(director) == [lefevre["id"], lefebvre["id"], martin["id"]]
    assert ids(service, school=OTHER_UAI) == [theirs["id"]]
    assert ids(director, name="LEFÈ") == [lefevre["id"], lefebvre["id"]]
    assert ids(service, name="lef") == [lefevre["id"], lefebvre["id"], theirs["id"]]
    assert ids(director, name="elo") == [lefebvre["id"]]
    assert ids(director, name="%") == []
    assert ids(director, pupil_id=pupil["id"]) == [lefevre["id"], martin["id"]]
    assert ids(director, has_mobile=True) == [lefevre["id"], martin["id"]]
    assert ids(director, has_mobile=False) == [lefebvre["id"]]
    assert ids(service, has_mobile=True, name="lef") == [lefevre["id"], theirs["id"]]
    assert ids(director, pupil_id=pupil["id"], has_mobile=True, name="mar") == [martin["id"]]


def test_list_pages_with_a_cursor(onde: TestClient, director: dict[str, str]) -> None:
    created = [new_parent(onde, director, prenom=f"Anne {chr(97 + n)}")["id"] for n in range(11)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor is not None:
            params["cursor"] = cursor
        page = onde.get("/api/v1/responsables", params=params, headers=director).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created


# ---------------------------------------------------------------- scoping


def test_a_director_cannot_touch_another_schools_responsable(
    onde: TestClient, director: dict[str, str], service: dict[str, str]
) -> None:
    other = make_school(onde, OTHER_UAI)
    theirs = new_parent(onde, other, uai=OTHER_UAI, mobile="0612345678")
    url = f"/api/v1/responsables/{theirs['id']}"
    before = (onde.get(url, headers=service).json(), log(onde, service))
    for method, path, body in (
        ("GET", url, None),
        ("PATCH", url, {"mobile": None}),
        ("DELETE", url, None),
        ("GET", f"{url}/pupils", None),
        ("POST", f"/api/v1/schools/{OTHER_UAI}/responsables", parent_body()),
        ("GET", f"/api/v1/responsables?school={OTHER_UAI}", None),
    ):
        response = onde.request(method, path, json=body, headers=director)
        assert response.status_code == 403, (method, path)
        assert (onde.get(url, headers=service).json(), log(onde, service)) == before
    assert (
        onde.get("/api/v1/responsables", params={"name": "lef"}, headers=director).json()["items"]
        == []
    )
