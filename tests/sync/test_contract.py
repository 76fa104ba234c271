"""What the sync accepts of ONDE's answers before using them."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from sync_service.contract import ExportPage


def test_an_export_page_keeps_its_items_as_plain_dicts() -> None:
    items = [{"id": 1, "nom": "Martin", "links": [{"pupil_id": 7}]}, {"id": 2, "links": []}]
    body = orjson.dumps({"items": items, "next_after": 2, "watermark": 40, "extra": "ignored"})
    page = ExportPage.parse(body)
    assert (page.items, page.next_after, page.watermark) == (items, 2, 40)
    last = ExportPage.parse(orjson.dumps({"items": [], "next_after": None, "watermark": 40}))
    assert last.next_after is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"items": [1, 2], "next_after": null, "watermark": 1}', ValueError),
        (b'{"items": {"id": 1}, "next_after": null, "watermark": 1}', ValueError),
        (b'{"items": [], "next_after": null}', ValidationError),
        (b'{"items": [], "next_after": "x", "watermark": 1}', ValidationError),
        (b"<html>busy</html>", ValueError),
    ],
)
def test_a_malformed_export_page_is_refused(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        ExportPage.parse(body)
