"""The `drop` fault, on real servers: the connection is cut mid-answer, and the sync retries."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.school import accounts, admit, open_school, parent_of
from tests.e2e.stack import EC_TOKEN, Stack

pytestmark = pytest.mark.slow


def test_a_dropped_answer_cuts_the_connection_and_the_run_retries_it(
    stack: Stack, tmp_path: Path
) -> None:
    director = open_school(stack)
    stack.next_day()
    parent_of(stack, director, admit(stack, director, "Léa", "2019-02-03"))
    rule = stack.ec_call(
        "POST", "/api/v1/faults", json={"path": "^/api/v1/import/", "drop": True, "count": 1}
    )
    assert rule.status_code == 201, rule.text
    with pytest.raises(httpx.RemoteProtocolError):  # what a client sees: the answer cut short
        httpx.post(
            stack.educonnect.url + "/api/v1/import/responsables",
            json={"items": []},
            headers={"Authorization": f"Bearer {EC_TOKEN}"},
        )
    stack.ec_call("DELETE", "/api/v1/faults")
    stack.ec_call("POST", "/api/v1/faults", json={"path": "^/api/v1/import/", "drop": True,
                                                  "count": 1})  # fmt: skip
    night = stack.next_day()["runs"][0]
    assert (night["status"], night["counts"]["created"]) == ("succeeded", 1), night
    assert night["counts"]["retries"] == 1  # the cut answer was a transient fault
    assert [a["nom"] for a in accounts(stack)] == ["Martin"]
    # An injected fault is no error of the service: no traceback in its log
    log = (tmp_path / "educonnect.log").read_text()
    assert "Traceback" not in log, log[-3000:]
