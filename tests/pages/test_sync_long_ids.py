"""The sync's pages read ids of ASCII digits, and not too many of them (no 500)."""

from __future__ import annotations

from fastapi.testclient import TestClient

HTML = {"accept": "text/html"}
BIG = "1" * 5000
"""More digits than int() converts (4,300): it raised, a 500."""


def test_very_long_or_non_ascii_ids_are_not_found(sync: TestClient) -> None:
    sync.post("/sim/run-now", data={"next": "/"}, headers=HTML)
    for raw in (BIG, "²", "١"):
        run = sync.get(f"/runs/{raw}", headers=HTML)
        assert run.status_code == 404, raw[:5]
        assert "Aucune synchronisation n°" in run.text
        for url in (f"/timeline/{raw}", f"/timeline?q={raw}"):
            person = sync.get(url, headers=HTML)
            assert person.status_code in (200, 404), (url[:15], person.status_code)
            assert "Traceback" not in person.text
        lines = sync.get(f"/runs/1?apres={raw}&ligne={raw}", headers=HTML)
        assert lines.status_code == 200, raw[:5]
    assert sync.get(f"/timeline/{BIG}", headers=HTML).status_code == 404
