"""The audit hash chain without a database: the hashing scheme, and what the walker names per tampering."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reference_server.capture.rows import build_batch
from reference_server.db.chain import (
    GENESIS_HASH,
    ChainRow,
    ChainWalker,
    Finding,
    canonical_json,
    event_hash,
    timestamp_text,
)
from reference_server.db.pricing import DEFAULT_PRICES, PriceTable
from tests.capture.support import make_call

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def test_event_hash_is_sha256_of_the_documented_canonical_json() -> None:
    """The hash is sha256 over sorted-key, whitespace-free JSON of the content fields plus prev_hash; other
    implementations (and old chains) depend on exactly this byte string."""
    canonical = (
        '{"created_at":"2026-01-02T03:04:05.678901Z","kind":"router",'
        '"payload":"{\\"model\\":\\"ainfera-inference\\"}",'
        f'"prev_hash":"{GENESIS_HASH}","request_id":"req_1","seq":1,'
        '"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}'
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert expected == "0f7cc4a79de1df57323ec3b6d9fc157af827f8100e80f3bbae3572e39adb203e"
    assert (
        event_hash(
            seq=1,
            request_id="req_1",
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
            kind="router",
            payload='{"model":"ainfera-inference"}',
            created_at=NOW,
            prev_hash=GENESIS_HASH,
        )
        == expected
    )


@given(
    seq=st.integers(min_value=0, max_value=2**63),
    strings=st.lists(st.text(), min_size=4, max_size=4),
    moment=st.datetimes(timezones=st.just(UTC)),
)
def test_event_hash_spells_out_exactly_the_canonical_json(
    seq: int, strings: list[str], moment: datetime
) -> None:
    """event_hash writes the canonical JSON by hand for speed: it must be canonical_json's bytes, whatever the
    strings hold (quotes, backslashes, control characters, non-ASCII)."""
    request_id, trace_id, kind, payload = strings
    content = {
        "seq": seq,
        "request_id": request_id,
        "trace_id": trace_id,
        "kind": kind,
        "payload": payload,
        "created_at": timestamp_text(moment),
        "prev_hash": GENESIS_HASH,
    }
    expected = hashlib.sha256(canonical_json(content).encode("utf-8", "surrogatepass")).hexdigest()
    try:
        got = event_hash(
            seq=seq,
            request_id=request_id,
            trace_id=trace_id,
            kind=kind,
            payload=payload,
            created_at=moment,
            prev_hash=GENESIS_HASH,
        )
    except UnicodeEncodeError:  # a lone surrogate: not storable either way
        assert any("\ud800" <= ch <= "\udfff" for s in strings for ch in s)
        return
    assert got == expected


def test_naive_and_aware_utc_timestamps_hash_alike() -> None:
    """SQLite hands timestamps back naive, PostgreSQL aware: both must hash to the same value."""
    args: dict[str, Any] = {"seq": 1, "request_id": "r", "trace_id": "t", "kind": "k", "payload": "{}"}
    args["prev_hash"] = GENESIS_HASH
    assert event_hash(created_at=NOW, **args) == event_hash(created_at=NOW.replace(tzinfo=None), **args)


def chain_of(calls: int) -> tuple[list[ChainRow], set[str]]:
    records = [make_call(f"req_{i}") for i in range(calls)]
    batch = build_batch(
        records,
        head_seq=0,
        head_hash=GENESIS_HASH,
        balance_nusd=0,
        prices=PriceTable(DEFAULT_PRICES),
        now=NOW,
    )
    return [ChainRow(**event) for event in batch.events], {r.request_id for r in records}


def walk(rows: list[ChainRow], captured: set[str]) -> Finding | None:
    walker = ChainWalker(captured)
    for row in rows:
        walker.feed(row)
    return walker.finish()


def rehash(row: ChainRow) -> ChainRow:
    fields = {k: v for k, v in vars(row).items() if k != "hash"}
    return replace(row, hash=event_hash(**fields))


def forged(seq: int, prev_hash: str, request_id: str = "req_forged") -> ChainRow:
    return rehash(ChainRow(seq, request_id, "0" * 32, "router", '{"model":"x"}', NOW, prev_hash, hash=""))


def test_an_intact_chain_verifies() -> None:
    """A chain built by the capture code passes, and every captured call has its router and outcome events."""
    rows, captured = chain_of(5)
    assert walk(rows, captured) is None


def test_captured_calls_without_events_are_removed_rows() -> None:
    """An empty chain for calls that were captured means their events were removed (named seq 1)."""
    finding = walk([], {"req_0"})
    assert finding is not None
    assert (finding.seq, finding.kind) == (1, "removed")


TAMPERINGS = ["change", "change_rehash", "delete", "insert_valid", "insert_garbage", "dup"]


@st.composite
def tampering(draw: st.DrawFn) -> tuple[list[ChainRow], set[str], int, str]:
    """A chain of 1-6 calls with exactly one tampering; returns the rows, the captured calls, the seq and kind
    the walker must name."""
    rows, captured = chain_of(draw(st.integers(1, 6)))
    n = len(rows)
    how = draw(st.sampled_from(TAMPERINGS))
    if how == "change":
        k = draw(st.integers(1, n))
        rows[k - 1] = replace(rows[k - 1], trace_id="f" * 32)
        return rows, captured, k, "changed"
    if how == "change_rehash":
        # Re-hashing the very last row is undetectable without an external anchor; any earlier row is caught
        # because its successor recorded the old hash. (A chain has >= 2 rows: each call writes two events.)
        k = draw(st.integers(1, n - 1))
        rows[k - 1] = rehash(replace(rows[k - 1], trace_id="f" * 32))
        return rows, captured, k, "changed"
    if how == "delete":
        k = draw(st.integers(1, n))
        del rows[k - 1]
        return rows, captured, k, "removed"
    # Insertions: a forged row becomes seq k and everything from k on moves up by one (not re-hashed).
    k = draw(st.integers(1, n + 1))
    prev = GENESIS_HASH if k == 1 else rows[k - 2].hash
    if how == "insert_valid":
        row = forged(k, prev)
    elif how == "insert_garbage":
        row = replace(forged(k, prev), prev_hash="e" * 64, hash="d" * 64)
    else:  # a duplicate of a real call's router event, properly linked
        row = forged(k, prev, request_id=rows[0].request_id)
    shifted = [replace(r, seq=r.seq + 1) for r in rows[k - 1 :]]
    return [*rows[: k - 1], row, *shifted], captured, k, "inserted"


@given(tampering())
def test_any_single_tampering_is_named_with_its_seq_and_kind(
    case: tuple[list[ChainRow], set[str], int, str],
) -> None:
    """Whatever one row is changed, removed or inserted (even re-hashed or properly linked by the attacker),
    the walker names the first bad seq and the kind of tampering."""
    rows, captured, seq, kind = case
    finding = walk(rows, captured)
    assert finding is not None
    assert (finding.seq, finding.kind) == (seq, kind), finding.detail
