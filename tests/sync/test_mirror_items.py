"""The full sync builds each page's import items from the page itself: the same as the mirror's."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from edusim_common.bulk import insert_rows
from edusim_common.db import make_engine
from sync_service.main import METADATA
from sync_service.mirror import (
    CLASSES,
    LINKS,
    PUPILS,
    RESPONSABLES,
    build_items,
    class_row,
    items_of_page,
    link_row,
    pupil_row,
    responsable_row,
)

UAI = "0751234J"


def _pupil(pid: int, class_id: int | None, state: str = "admis") -> dict[str, Any]:
    return {
        "id": pid,
        "ine": f"{pid:010d}K",
        "nom": "Martin",
        "prenoms": f"Enfant {pid}",
        "birth_date": "2019-02-03",
        "school_uai": UAI,
        "class_id": class_id,
        "level": "CP",
        "state": state,
    }


def _responsable(rid: int, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "school_uai": UAI, "nom": "Martin", "prenom": f"P{rid}", **extra}


def _link(lid: int, pupil_id: int, responsable_id: int, lien: str = "mere") -> dict[str, Any]:
    return {
        "id": lid,
        "pupil_id": pupil_id,
        "responsable_id": responsable_id,
        "lien": lien,
        "autorite_parentale": lid % 2 == 0,
    }


def test_items_of_a_page_are_those_the_mirror_gives(db_url: str) -> None:
    engine = make_engine(db_url)
    METADATA.create_all(engine)
    pupils = [_pupil(1, 10), _pupil(2, None), _pupil(3, 11, state="radie")]
    # Out of id order in the page, as they could come: the items follow the ids anyway.
    responsables = [
        responsable_row(_responsable(7, mobile="+33612345678", email="a@example.org")),
        responsable_row(_responsable(5, civility="MME", accepts_sms=False)),
        responsable_row(_responsable(6)),  # no link
    ]
    links = [
        link_row(_link(23, 3, 7, "pere")),
        link_row(_link(21, 1, 7)),
        link_row(_link(22, 2, 5, "tuteur")),
        link_row(_link(24, 99, 5)),  # its pupil came after the pupils' export: left out
    ]
    with Session(engine) as session:
        classes = [{"id": 10, "label": "CP A"}, {"id": 11, "label": "CE1"}]
        insert_rows(session, CLASSES, [class_row({**c, "school_uai": UAI}) for c in classes])
        insert_rows(session, PUPILS, [pupil_row(p) for p in pupils])
        insert_rows(session, RESPONSABLES, responsables)
        insert_rows(session, LINKS, links)
        expected = build_items(session, [7, 5, 6], {})
        built = items_of_page(session, responsables, links)
    engine.dispose()
    assert built == expected
    assert [item["source_id"] for item in built] == ["5", "6", "7"]
    assert [c["source_id"] for c in built[2]["children"]] == ["1", "3"]  # link id order
    assert built[2]["children"][0]["class_label"] == "CP A"
    assert built[2]["children"][1]["enrolled"] is False
    assert [c["source_id"] for c in built[0]["children"]] == ["2"]
    assert built[1]["children"] == []


def test_a_deleted_responsable_goes_as_deleted_even_while_still_in_the_mirror(db_url: str) -> None:
    """A full run stopped between EduConnect's answer for a vanished responsable and its row
    leaving the mirror: the next run sends it from its last state, flagged deleted, not from the
    row (it went back alive, with no children, its contact data restored)."""
    engine = make_engine(db_url)
    METADATA.create_all(engine)
    with Session(engine) as session:
        insert_rows(session, PUPILS, [pupil_row(_pupil(1, None))])
        insert_rows(
            session, RESPONSABLES, [responsable_row(_responsable(5, mobile="+33612345678"))]
        )
        insert_rows(session, LINKS, [link_row(_link(21, 1, 5))])
        last = {"school_uai": UAI, "nom": "Martin", "prenom": "P5"}
        [item] = build_items(session, [5], {5: last})
    engine.dispose()
    assert (item["source_id"], item["deleted"], item["children"]) == ("5", True, [])
    assert "mobile" not in item
