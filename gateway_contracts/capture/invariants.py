"""The capture invariants (clauses CAP-*), as queries and checks: a call's rows through the target's mapping
(``CaptureDB.queries``), and the audit chain of the seed's schema.

The chain check is written from the contract's formula, independently of the reference gateway's own verifier:
a harness that reused the gateway's code would only check the gateway against itself.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from gateway_contracts.capture.db import CaptureDB

GENESIS_HASH = "0" * 64
T = TypeVar("T")


@dataclass(frozen=True)
class CallRows:
    request_id: str
    outcomes: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    ledger: list[dict[str, Any]]

    def problems(self) -> list[str]:
        return [message for _clause, message in self.clause_problems()]

    def clause_problems(self) -> list[tuple[str, str]]:
        """Each broken invariant with the clause it breaks: one outcome row (CAP-001), its audit events
        (CAP-002), one ledger debit (CAP-003)."""
        out: list[tuple[str, str]] = []
        if len(self.outcomes) != 1:
            out.append(
                ("CAP-001", f"{len(self.outcomes)} outcome rows for {self.request_id} (want exactly 1)")
            )
        if not self.audit:
            out.append(("CAP-002", f"no audit events for {self.request_id}"))
        if len(self.ledger) != 1:
            out.append(("CAP-003", f"{len(self.ledger)} ledger rows for {self.request_id} (want exactly 1)"))
        return out

    @property
    def outcome(self) -> str | None:
        return str(self.outcomes[0]["outcome"]) if len(self.outcomes) == 1 else None


def call_rows(db: CaptureDB, request_id: str) -> CallRows:
    return CallRows(
        request_id,
        db.rows("outcomes", request_id),
        db.rows("audit", request_id),
        db.rows("ledger", request_id),
    )


def wait_for_capture(db: CaptureDB, request_id: str, timeout: float = 10.0) -> CallRows:
    """The rows of a call, once its outcome row exists.

    A gateway gives an outside observer no signal that the capture of a call whose client went away has been
    written, so this is the one place the suite polls, with a bounded deadline; for calls whose response
    completed, the capture is already there and the first read returns.
    """
    return poll(lambda: call_rows(db, request_id), lambda rows: bool(rows.outcomes), timeout)


def poll(read: Callable[[], T], done: Callable[[T], bool], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    delay = 0.01
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(delay)  # an external observer's only option; bounded by the deadline
        delay = min(delay * 2, 0.2)
        value = read()
    return value


def _timestamp_text(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(row: dict[str, Any]) -> str:
    content = {
        "seq": int(row["seq"]),
        "request_id": row["request_id"],
        "trace_id": row["trace_id"],
        "kind": row["kind"],
        "payload": row["payload"],
        "created_at": _timestamp_text(row["created_at"]),
        "prev_hash": row["prev_hash"],
    }
    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chain_problems(db: CaptureDB) -> list[str]:
    """Every break in the audit chain: a seq gap, a row whose hash does not cover its content, a broken link."""
    rows = db.query(
        "SELECT seq, request_id, trace_id, kind, payload, created_at, prev_hash, hash FROM audit_events ORDER BY seq"
    )
    problems: list[str] = []
    prev = GENESIS_HASH
    expected_seq = 1
    for row in rows:
        seq = int(row["seq"])
        if seq != expected_seq:
            problems.append(f"seq {expected_seq} expected, found {seq} (gap or reordering)")
        if row["prev_hash"] != prev:
            problems.append(f"seq {seq}: prev_hash does not equal the hash of seq {seq - 1}")
        if row["hash"] != event_hash(row):
            problems.append(f"seq {seq}: hash does not cover the row's content (changed row)")
        prev = row["hash"]
        expected_seq = seq + 1
    return problems
