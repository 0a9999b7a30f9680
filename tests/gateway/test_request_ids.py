"""The reference gateway's request ids: the contract's pattern, unique, and ordered by time.

The order is not a clause (the contract only fixes the pattern, ``^req_[0-9a-f]{24}$``); it is what keeps the
capture tables' ``request_id`` indexes cheap to extend (``reference_server.app.new_request_id``), so a change that
made ids random again would show here rather than only as a slower benchmark.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from reference_server import app

PATTERN = re.compile(r"^req_[0-9a-f]{24}$")  # contracts/openapi.yaml, the request-id header


def test_ids_match_the_contract_pattern_and_are_unique_within_one_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The module's own clock, not the process's: other threads keep the real time.
    monkeypatch.setattr(app, "time", SimpleNamespace(time_ns=lambda: 1_764_000_000_123_456_789))
    ids = [app.new_request_id() for _ in range(10_000)]
    assert all(PATTERN.match(i) for i in ids)
    assert len(set(ids)) == len(ids)  # the 48 random bits, all within the same millisecond
    assert {i[4:16] for i in ids} == {f"{1_764_000_000_123:012x}"}


def test_ids_sort_by_the_millisecond_they_were_made_in(monkeypatch: pytest.MonkeyPatch) -> None:
    made = []
    for ms in (1_764_000_000_000, 1_764_000_000_001, 1_764_000_000_999, 1_764_000_001_000, 2_000_000_000_000):
        monkeypatch.setattr(app, "time", SimpleNamespace(time_ns=lambda ms=ms: ms * 1_000_000 + 999_999))
        made.extend(app.new_request_id() for _ in range(3))
    millis = [int(i[4:16], 16) for i in made]
    assert millis == sorted(millis)
    by_ms = [i[:16] for i in made]
    assert by_ms == sorted(by_ms)  # the text of the ids sorts the same way: fixed width, lower-case hex
