"""The §16 capture invariant after every call the fuzzer makes (BRIEF §3), read from the gateway's database.

A successful call must have exactly one outcome row, its audit events and exactly one ledger row under the
response's ``request-id``. A refused or failed call may have been routed (a captured refusal, an upstream error)
or not (a validation error never reaches the router); from outside the two look alike, so for those the rule is
all or nothing: either no rows, or the complete set, never a partial or a doubled capture.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway_contracts.capture.db import CaptureDB
from gateway_contracts.capture.invariants import call_rows, wait_for_capture

CAPTURE_GRACE = 0.5
"""Seconds to wait for the rows of a successful call. The contract has the capture committed before the
response claims success, so a conforming gateway never needs it; it only spares a slow database a false alarm."""


def request_id_of(headers: Mapping[str, list[str]], header: str = "request-id") -> str | None:
    values = headers.get(header) or []
    return values[0] if values else None


def capture_problems(db: CaptureDB, request_id: str, status: int) -> list[str]:
    if 200 <= status < 300:
        return wait_for_capture(db, request_id, timeout=CAPTURE_GRACE).problems()
    rows = call_rows(db, request_id)
    if not (rows.outcomes or rows.audit or rows.ledger):
        return []
    return [f"partial capture of a {status} answer: {p}" for p in rows.problems()]
