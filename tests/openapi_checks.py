"""What the OpenAPI fuzz tests (tests/*/test_openapi_fuzz.py) check of every answer."""

from __future__ import annotations

from typing import Any

from edusim_common.problems import PROBLEM_MEDIA_TYPE


def header(response: Any, name: str) -> str | None:
    """A header of a schemathesis response (its headers may be lists)."""
    values = response.headers.get(name)
    if isinstance(values, list):
        return str(values[0]) if values else None
    return None if values is None else str(values)


def check_answer(case: Any, response: Any) -> str:
    """No 5xx, and every 4xx an RFC 9457 problem; what was asked and answered, for messages."""
    text = response.content[:300].decode(errors="replace")  # a download may be binary (gzip)
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {text}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert header(response, "content-type") == PROBLEM_MEDIA_TYPE, where
        body = response.json()
        assert body["status"] == response.status_code, where
        assert {"type", "title", "detail", "code"} <= set(body), where
    return where
