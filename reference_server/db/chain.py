"""The audit hash chain: how a row is hashed, and how a chain is checked.

Each ``audit_events`` row stores ``hash = sha256(canonical JSON of {seq, request_id, trace_id, kind, payload,
created_at, prev_hash})`` where ``prev_hash`` is the previous row's ``hash`` (``GENESIS_HASH`` for ``seq`` 1).
Hashing ``seq`` too means a renumbered row no longer matches its hash. There is no secret key: the chain
proves that rows were not changed, removed or inserted *unless* an attacker re-hashed everything after the
point they touched; :class:`ChainWalker` then still catches events that do not belong to a captured call
(cross-checked against ``routing_outcomes``) and calls whose events are gone.

This module is pure (no database); :func:`reference_server.db.ops.verify_audit_chain` feeds it rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any, Literal

GENESIS_HASH = "0" * 64

CHAIN_LOCK_KEY = 0x4743_6861_696E_0001
"""PostgreSQL advisory lock held (transaction-scoped) by every chain append: one appender at a time, across
processes, so two writers can never both extend the same head."""

MIGRATION_LOCK_KEY = 0x4743_4D69_6772_0001
"""PostgreSQL advisory lock held while migrating, so two gateways starting at once do not both run a
revision."""

CHECKED_KINDS = ("router", "outcome")
"""Event kinds every captured call has exactly once."""

Problem = Literal["changed", "removed", "inserted"]


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, no NaN (which is not JSON)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def timestamp_text(moment: datetime) -> str:
    """A timestamp as hashed: UTC, microseconds, ``Z``. Naive values (SQLite returns them) are UTC."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *, seq: int, request_id: str, trace_id: str, kind: str, payload: str, created_at: datetime, prev_hash: str
) -> str:
    return event_hash_of_text(
        seq=seq,
        request_id=request_id,
        trace_id=trace_id,
        kind=kind,
        payload=payload,
        created_at_text=timestamp_text(created_at),
        prev_hash=prev_hash,
    )


def event_hash_of_text(
    *, seq: int, request_id: str, trace_id: str, kind: str, payload: str, created_at_text: str, prev_hash: str
) -> str:
    """:func:`event_hash` with the timestamp already in its hashed form (a capture batch shares one).

    The hashed text is ``canonical_json`` of the seven fields, spelled out: the capture writer hashes two events
    per call while it holds the chain lock, and ``json.dumps(sort_keys=True)`` of a dict costs several times
    this. Byte for byte the same (tests/capture/test_chain.py checks it): keys in sorted order, no whitespace,
    strings escaped by the very function ``json.dumps(ensure_ascii=False)`` uses, ``seq`` as ``int.__repr__``.
    """
    text = (
        f'{{"created_at":{encode_basestring(created_at_text)},"kind":{encode_basestring(kind)},'
        f'"payload":{encode_basestring(payload)},"prev_hash":{encode_basestring(prev_hash)},'
        f'"request_id":{encode_basestring(request_id)},"seq":{int.__repr__(seq)},'
        f'"trace_id":{encode_basestring(trace_id)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainRow:
    seq: int
    request_id: str
    trace_id: str
    kind: str
    payload: str
    created_at: datetime
    prev_hash: str
    hash: str

    def hash_matches(self) -> bool:
        return self.hash == event_hash(
            seq=self.seq,
            request_id=self.request_id,
            trace_id=self.trace_id,
            kind=self.kind,
            payload=self.payload,
            created_at=self.created_at,
            prev_hash=self.prev_hash,
        )


@dataclass(frozen=True)
class Finding:
    seq: int
    kind: Problem
    detail: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    """Rows in the chain."""
    head_seq: int
    """The highest ``seq`` present (0 for an empty chain)."""
    first_bad_seq: int | None
    kind: Problem | None
    message: str
    """One line for a human: what holds, or the first bad ``seq`` and what is wrong with it."""


class ChainWalker:
    """Checks rows fed in ``seq`` order, one row behind (the next row is evidence about the current one).

    Rules for row ``r`` (``n`` is the row after it, ``link`` the hash of the last good row):

    - ``r.seq`` skips ahead of the expected seq: rows were **removed** (the first missing seq is named);
    - ``n`` still links to ``link`` instead of to ``r``: ``r`` was **inserted** (spliced in front of ``n``);
    - ``r`` does not match its own hash: **changed**, or **inserted** when it also does not link to ``link``
      or names a call that has no outcome row (a forged row appended at the end);
    - ``n`` matches its own hash but records a different hash for ``r``: ``r`` was **changed** and re-hashed;
    - a second ``router``/``outcome`` event for one call, or an event of a call with no outcome row:
      **inserted**;
    - at the end, a captured call whose events are missing: **removed** (named as the seq after the head,
      since the chain no longer shows where they were: a truncated tail).
    """

    def __init__(self, captured_requests: set[str] | None = None) -> None:
        self._captured = captured_requests
        self._expected = 1
        self._link = GENESIS_HASH
        self._pending: ChainRow | None = None
        self._seen: dict[str, set[str]] = {}
        self._finding: Finding | None = None
        self.count = 0
        self.head_seq = 0

    @property
    def finding(self) -> Finding | None:
        return self._finding

    def feed(self, row: ChainRow) -> None:
        self.count += 1
        self.head_seq = max(self.head_seq, row.seq)
        if self._finding is None and self._pending is not None:
            self._finding = self._check(self._pending, row)
        self._pending = row

    def finish(self) -> Finding | None:
        if self._finding is None and self._pending is not None:
            self._finding = self._check(self._pending, None)
        if self._finding is None and self._captured is not None:
            self._finding = self._missing_events()
        return self._finding

    def _check(self, r: ChainRow, n: ChainRow | None) -> Finding | None:
        if r.seq != self._expected:
            missing = (
                f"seq {self._expected}"
                if r.seq == self._expected + 1
                else f"seq {self._expected}..{r.seq - 1}"
            )
            return Finding(self._expected, "removed", f"{missing} missing: the chain jumps to seq {r.seq}")
        adjacent = n is not None and n.seq == r.seq + 1
        if n is not None and adjacent and n.prev_hash == self._link and n.prev_hash != r.hash:
            return Finding(r.seq, "inserted", f"seq {n.seq} links past this row to its predecessor")
        if not r.hash_matches():
            unknown_call = self._captured is not None and r.request_id not in self._captured
            if r.prev_hash != self._link or unknown_call:
                return Finding(
                    r.seq, "inserted", "a row that neither matches its hash nor belongs to the chain"
                )
            return Finding(r.seq, "changed", "its content no longer matches its hash")
        if r.prev_hash != self._link:
            return Finding(r.seq, "changed", "it does not link to the hash of its predecessor")
        if n is not None and adjacent and n.hash_matches() and n.prev_hash != r.hash:
            return Finding(r.seq, "changed", f"re-hashed: seq {n.seq} recorded a different hash for it")
        kinds = self._seen.setdefault(r.request_id, set())
        if r.kind in CHECKED_KINDS and r.kind in kinds:
            return Finding(r.seq, "inserted", f"a second {r.kind!r} event for request {r.request_id}")
        if self._captured is not None and r.request_id not in self._captured:
            return Finding(r.seq, "inserted", f"event of request {r.request_id}, which has no outcome row")
        kinds.add(r.kind)
        self._link = r.hash
        self._expected += 1
        return None

    def _missing_events(self) -> Finding | None:
        assert self._captured is not None
        for request_id in sorted(self._captured):
            missing = [k for k in CHECKED_KINDS if k not in self._seen.get(request_id, set())]
            if missing:
                return Finding(
                    self.head_seq + 1,
                    "removed",
                    f"request {request_id} has an outcome row but no {'/'.join(missing)} event"
                    " (tail truncated?)",
                )
        return None


def result_of(walker: ChainWalker, finding: Finding | None) -> VerifyResult:
    if finding is None:
        span = f" (seq 1..{walker.head_seq})" if walker.count else ""
        return VerifyResult(
            ok=True,
            count=walker.count,
            head_seq=walker.head_seq,
            first_bad_seq=None,
            kind=None,
            message=f"audit chain intact: {walker.count} events{span}, every captured call's events present",
        )
    return VerifyResult(
        ok=False,
        count=walker.count,
        head_seq=walker.head_seq,
        first_bad_seq=finding.seq,
        kind=finding.kind,
        message=f"audit chain broken at seq {finding.seq}: {finding.kind}: {finding.detail}",
    )
