"""A snapshot file is checked line by line: a damaged one is refused, saying what is wrong."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from edusim.snapshot_format import SnapshotError, verify

Lines = list[Any]


def _header(**changes: Any) -> dict[str, Any]:
    header: dict[str, Any] = {
        "format": "edusim-snapshot",
        "version": 1,
        "name": "essai",
        "saved_at": "2026-12-04T10:00:00+00:00",
        "clock": {"now": "2026-09-01T08:00:00+00:00", "mode": "manual"},
        "databases": {"onde": {"tables": {"pupil": 2, "school": 0}, "sequences": {"pupil": 2}}},
    }
    header.update(changes)
    return header


def _lines(**header: Any) -> Lines:
    return [
        _header(**header),
        {"table": {"database": "onde", "name": "school", "columns": ["uai"]}},
        {"table": {"database": "onde", "name": "pupil", "columns": ["id", "born", "note"]}},
        [1, {"$date": "2019-02-03"}, None],
        [2, {"$date": "2018-05-06"}, "Zoé"],
        {"end": True},
    ]


def _file(lines: Lines) -> io.BytesIO:
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return io.BytesIO(gzip.compress(text.encode()))


def test_a_whole_file_is_read_back() -> None:
    info = verify(_file(_lines()))
    assert info.rows() == {"onde": 2}
    assert info.clock == {"now": "2026-09-01T08:00:00+00:00", "mode": "manual"}


def _changed(change: Callable[[Lines], None]) -> Lines:
    lines = _lines()
    change(lines)
    return lines


DAMAGED: dict[str, tuple[Lines, str]] = {
    "truncated": (_lines()[:-2], "ends before its end line"),
    "a row removed": (_changed(lambda lines: lines.pop(4)), "onde.pupil has 1 rows"),
    "a row added": (_changed(lambda lines: lines.insert(4, [3, None, None])), "has 3 rows"),
    "a short row": (_changed(lambda lines: lines.__setitem__(3, [1, None])), "2 values for 3"),
    "an unknown tag": (
        _changed(lambda lines: lines[3].__setitem__(1, {"$zz": 1})),
        "unknown value tag '$zz'",
    ),
    "a tag with two keys": (
        _changed(lambda lines: lines[3].__setitem__(1, {"$date": "2019-02-03", "$dt": "x"})),
        "a tagged value with 2 keys",
    ),
    "an undecodable date": (
        _changed(lambda lines: lines[3].__setitem__(1, {"$date": "2019-02-30"})),
        "a $date value",
    ),
    "a list as a value": (
        _changed(lambda lines: lines[3].__setitem__(2, [1])),
        "a list where a column value should be",
    ),
    "a table the header does not list": (
        _changed(
            lambda lines: lines.insert(
                1, {"table": {"database": "sync", "name": "run", "columns": ["id"]}}
            )
        ),
        "which the header does not list",
    ),
    "a table given twice": (
        _changed(lambda lines: lines.insert(5, lines[2])),
        "table onde.pupil given twice",
    ),
    "lines after the end": ([*_lines(), [3, None, None]], "lines after its end line"),
    "a line of another shape": (
        _changed(lambda lines: lines.insert(3, {"what": 1})),
        "an unexpected line",
    ),
    "an unknown clock mode": (
        _lines(clock={"now": "2026-09-01T08:00:00+00:00", "mode": "zzz"}),
        "clock.mode 'zzz' is not one of manual, realtime",
    ),
    "a clock out of range": (
        _lines(clock={"now": "1800-01-01T00:00:00+00:00", "mode": "manual"}),
        "between 1900-01-01 and 2999-12-31",
    ),
    "a clock without its time": (_lines(clock={"mode": "manual"}), "clock.now None"),
    "a clock that is a string": (_lines(clock="manual"), "its clock is not an object"),
    "a save time without offset": (
        _lines(saved_at="2026-01-01T00:00:00"),
        "saved_at '2026-01-01T00:00:00' has no UTC offset",
    ),
    "counts that are not numbers": (
        _lines(databases={"onde": {"tables": {"pupil": "2"}}}),
        "databases.onde.tables is not an object of table names and counts",
    ),
    "a database without tables": (
        _lines(databases={"onde": {}}),
        "databases.onde.tables is not an object",
    ),
    "an unknown database": (
        _lines(databases={"elsewhere": {"tables": {}}}),
        "unknown database 'elsewhere'",
    ),
    "a sequence past 64 bits": (
        _lines(databases={"onde": {"tables": {"pupil": 2}, "sequences": {"pupil": 2**63}}}),
        "databases.onde.sequences",
    ),
}


def _clock_rows(mode: str, now: str) -> Lines:
    """A file whose header has no clock, and whose ``sim_clock`` row says ``mode`` and ``now``."""
    return [
        _header(clock=None, databases={"onde": {"tables": {"sim_clock": 1}}}),
        {"table": {"database": "onde", "name": "sim_clock", "columns": ["id", "sim_now", "mode"]}},
        [1, {"$dt": now}, mode],
        {"end": True},
    ]


DAMAGED |= {
    # the clock restored from its table, the header's being null: checked there too
    "an unknown mode in a clock row": (
        _clock_rows("zzz", "2026-09-01T06:00:00"),
        "onde.sim_clock: mode 'zzz' is not one of manual, realtime",
    ),
    "a clock row out of range": (
        _clock_rows("manual", "1800-01-01T00:00:00"),
        "onde.sim_clock: sim_now 1800-01-01T00:00:00: the simulated clock stays between",
    ),
    "a null line after the end": ([*_lines(), None], "lines after its end line"),
    "NaN": (_changed(lambda lines: lines[3].__setitem__(2, float("nan"))), "NaN is not a JSON"),
}


def test_a_clock_row_as_saved_is_read_back() -> None:
    assert verify(_file(_clock_rows("realtime", "2026-09-01T06:00:00"))).clock is None


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_file_is_refused_saying_what_is_wrong(case: str) -> None:
    lines, reason = DAMAGED[case]
    with pytest.raises(SnapshotError) as refused:
        verify(_file(lines))
    assert reason in str(refused.value)


def test_a_file_that_is_not_gzip_is_refused() -> None:
    with pytest.raises(SnapshotError, match="damaged snapshot file"):
        verify(io.BytesIO(b"not gzip at all"))
