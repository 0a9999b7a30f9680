"""The capture store on both databases: one outcome row, the audit events and one ledger debit per call, for
every kind of call; group commit under concurrency; the ledger, the kill-switch and the failure paths."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.db_urls import DatabaseURLError
from reference_server.capture.store import CaptureError, CaptureStoreClosedError, SqlCaptureStore
from reference_server.capture.types import KillSwitchState
from reference_server.db import ops
from reference_server.db.pricing import Price
from tests.capture.support import TRACE_ID, Sql, make_call

CANONICAL = "ainfera-inference"

# The call kinds the gateway captures (issue 3): each becomes exactly one record.
CASES: dict[str, dict[str, Any]] = {
    "non-streaming ok": {"outcome": "ok", "stream_mode": "none"},
    "stream run to completion": {"outcome": "ok", "stream_mode": "native", "ttft_ms": 3.2},
    "client disconnect mid-stream": {
        "outcome": "client_cancelled",
        "stream_mode": "native",
        "output_tokens": 5,
        "stop_reason": None,
        "ttft_ms": 2.0,
    },
    "upstream error before first byte": {
        "outcome": "upstream_error",
        "stream_mode": "native",
        "input_tokens": 0,
        "output_tokens": 0,
        "stop_reason": None,
        "error_type": "overloaded_error",
    },
    "upstream drop mid-stream": {
        "outcome": "upstream_error",
        "stream_mode": "native",
        "output_tokens": 7,
        "stop_reason": None,
        "error_type": "api_error",
    },
    "kill-switch refusal": {
        "outcome": "refused",
        "input_tokens": 0,
        "output_tokens": 0,
        "stop_reason": None,
        "error_type": "kill_switch_engaged",
    },
    "legacy alias asked": {"model_requested": "ainfera-mithril"},
}


async def captured(sql: Sql, request_id: str) -> tuple[int, list[dict[str, Any]], int]:
    """(outcome rows, audit events, ledger rows) of one request id."""
    events = await sql.rows("SELECT * FROM audit_events WHERE request_id = :r ORDER BY seq", r=request_id)
    return (
        await sql.count("routing_outcomes", request_id=request_id),
        events,
        await sql.count("ledger_entries", request_id=request_id),
    )


@pytest.mark.parametrize("case", list(CASES))
async def test_each_call_kind_writes_one_outcome_its_events_and_one_debit(
    store: SqlCaptureStore, sql: Sql, case: str
) -> None:
    """For every kind of call: exactly 1 routing_outcomes row, a router and an outcome audit event, exactly 1
    ledger row, all with the call's request id and trace id; the router event reports the canonical model."""
    call = make_call(**CASES[case])
    receipt = await store.record(call)

    outcomes, events, ledger = await captured(sql, call.request_id)
    assert (outcomes, ledger) == (1, 1)
    assert [e["kind"] for e in events] == ["router", "outcome"]
    assert receipt.audit_seqs == tuple(e["seq"] for e in events)
    assert {e["trace_id"] for e in events} == {TRACE_ID}
    router, outcome = (json.loads(e["payload"]) for e in events)
    expected_router = {"model": CANONICAL, "backend": "anthropic", "endpoint": "/v1/messages"}
    assert router == {**expected_router, "stream_mode": call.stream_mode}
    assert outcome["outcome"] == call.outcome
    assert "mithril" not in json.dumps([e["payload"] for e in events])

    row = (await sql.rows("SELECT * FROM routing_outcomes WHERE request_id = :r", r=call.request_id))[0]
    assert (row["model_requested"], row["model_canonical"]) == (call.model_requested, CANONICAL)
    assert (row["outcome"], row["stream_mode"], row["trace_id"]) == (call.outcome, call.stream_mode, TRACE_ID)
    assert store.dispatch_without_capture == 0
    assert (await ops.verify_audit_chain(sql.url)).ok


async def test_audit_events_returns_the_calls_events_as_json_ready_dicts(store: SqlCaptureStore) -> None:
    """audit_events(request_id) gives that call's events in seq order with parsed payloads, and nothing of
    other calls; the result serialises to JSON as is."""
    first, second = make_call(), make_call()
    await store.record(first)
    await store.record(second)
    events = await store.audit_events(second.request_id)
    assert [e["kind"] for e in events] == ["router", "outcome"]
    assert [e["seq"] for e in events] == [3, 4]
    assert events[0]["payload"]["model"] == CANONICAL
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert events[0]["created_at"].endswith("Z")
    json.dumps(events)
    assert await store.audit_events("req_unknown") == []


async def test_200_concurrent_mixed_calls_are_all_captured_and_the_chain_verifies(
    store: SqlCaptureStore, sql: Sql
) -> None:
    """200 record() calls at once (every call kind) give 200 outcome rows, 200 ledger rows, 400 contiguous
    audit events and a chain that verifies; group commit carried them in fewer transactions than calls."""
    kinds = list(CASES.values())
    calls = [make_call(f"req_c{i:03d}", **kinds[i % len(kinds)]) for i in range(200)]
    receipts = await asyncio.gather(*(store.record(call) for call in calls))

    assert [r.request_id for r in receipts] == [c.request_id for c in calls]
    assert await sql.count("routing_outcomes") == 200
    assert await sql.count("ledger_entries") == 200
    assert await sql.count("audit_events") == 400
    assert await sql.scalar("SELECT count(DISTINCT request_id) AS n FROM ledger_entries") == 200
    seqs = sorted(seq for r in receipts for seq in r.audit_seqs)
    assert seqs == list(range(1, 401))
    result = await ops.verify_audit_chain(sql.url)
    assert (result.ok, result.count, result.head_seq) == (True, 400, 400), result.message
    assert store.batches_committed < 200
    assert store.records_committed == 200
    assert store.dispatch_without_capture == 0


async def test_ledger_amounts_follow_the_price_table(migrated_url: str, sql: Sql) -> None:
    """Debit = input_tokens x input price + output_tokens x output price, from the backend's price or the '*'
    price; a refused call debits 0 whatever usage it carries; failed calls debit the usage they consumed.
    Ledger rows record the unit prices and a running balance; the outcome row and the receipt agree."""
    prices = {"anthropic": Price(1_000, 5_000), "*": Price(7, 11)}
    store = SqlCaptureStore(migrated_url, price_table=prices)
    await store.start()
    try:
        cases = [
            (make_call(input_tokens=123, output_tokens=45), 123 * 1_000 + 45 * 5_000),
            (make_call(backend="unpriced", input_tokens=10, output_tokens=20), 10 * 7 + 20 * 11),
            (make_call(outcome="refused", input_tokens=99, output_tokens=99), 0),
            (make_call(outcome="upstream_error", input_tokens=50, output_tokens=0), 50 * 1_000),
            (make_call(outcome="client_cancelled", input_tokens=3, output_tokens=4), 3 * 1_000 + 4 * 5_000),
        ]
        balance = 0
        for call, amount in cases:
            receipt = await store.record(call)
            balance += amount
            row = (await sql.rows("SELECT * FROM ledger_entries WHERE request_id = :r", r=call.request_id))[0]
            price = prices.get(call.backend, prices["*"])
            assert row["amount_nusd"] == amount
            assert (row["input_nusd_per_token"], row["output_nusd_per_token"]) == (
                price.input_nusd_per_token,
                price.output_nusd_per_token,
            )
            assert row["balance_nusd"] == balance
            assert row["amount_usd"] == pytest.approx(amount / 1e9)
            assert receipt.cost_usd == pytest.approx(amount / 1e9)
            cost = "SELECT cost_nusd FROM routing_outcomes WHERE request_id = :r"
            assert await sql.scalar(cost, r=call.request_id) == amount
        assert store.spent_usd == pytest.approx(balance / 1e9)
    finally:
        await store.close()


async def test_without_a_price_table_the_seeded_prices_are_used(store: SqlCaptureStore, sql: Sql) -> None:
    """A store given no price table reads the seeded prices table (anthropic: 3/15 USD per million tokens)."""
    call = make_call(input_tokens=1_000, output_tokens=100)
    await store.record(call)
    query = "SELECT amount_nusd FROM ledger_entries WHERE request_id = :r"
    assert await sql.scalar(query, r=call.request_id) == 1_000 * 3_000 + 100 * 15_000


async def test_kill_switch_engages_when_spending_reaches_the_threshold(migrated_url: str) -> None:
    """With each call costing 0.001 USD and a 0.005 USD threshold, the switch is off after 4 calls and on
    after the 5th (spent >= threshold); a store started later on the same database is engaged from the
    start."""
    prices = {"*": Price(1_000, 0)}
    store = SqlCaptureStore(migrated_url, kill_switch_threshold_usd=0.005, price_table=prices)
    await store.start()
    try:
        assert await store.kill_switch() == KillSwitchState(False, 0.0, 0.005)
        for _ in range(4):
            await store.record(make_call(input_tokens=1_000, output_tokens=0))
        state = await store.kill_switch()
        assert not state.engaged
        assert state.spent_usd == pytest.approx(0.004)
        await store.record(make_call(input_tokens=1_000, output_tokens=0))
        state = await store.kill_switch()
        assert (state.engaged, state.threshold_usd) == (True, 0.005)
        assert state.spent_usd == pytest.approx(0.005)
    finally:
        await store.close()

    later = SqlCaptureStore(migrated_url, kill_switch_threshold_usd=0.005, price_table=prices)
    await later.start()
    try:
        assert (await later.kill_switch()).engaged
    finally:
        await later.close()


async def test_no_threshold_never_engages_and_a_zero_threshold_always_does(migrated_url: str) -> None:
    """Without a threshold the switch stays off whatever is spent; a threshold of 0 is engaged at once."""
    free = SqlCaptureStore(migrated_url)
    await free.start()
    await free.record(make_call(input_tokens=10**6, output_tokens=10**6))
    assert not (await free.kill_switch()).engaged
    await free.close()
    closed = SqlCaptureStore(migrated_url, kill_switch_threshold_usd=0)
    await closed.start()
    assert (await closed.kill_switch()).engaged
    await closed.close()


async def test_one_bad_record_fails_alone_and_leaves_no_half_capture(
    store: SqlCaptureStore, sql: Sql
) -> None:
    """A batch holding a duplicate request id fails as a whole transaction (nothing of it is kept), then each
    record is retried alone: the good ones are captured, only the duplicate's caller gets an error, counted as
    a dispatch without capture, and the chain has no gap."""
    original = make_call("req_dup")
    await store.record(original)
    good_before, good_after = make_call("req_good_1"), make_call("req_good_2")
    results = await asyncio.gather(
        store.record(good_before),
        store.record(make_call("req_dup", outcome="upstream_error")),
        store.record(good_after),
        return_exceptions=True,
    )
    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], CaptureError)
    assert not isinstance(results[2], BaseException)
    for request_id in ("req_dup", "req_good_1", "req_good_2"):
        outcomes, events, ledger = await captured(sql, request_id)
        assert (outcomes, len(events), ledger) == (1, 2, 1)
    assert await sql.scalar("SELECT outcome FROM routing_outcomes WHERE request_id = 'req_dup'") == "ok"
    assert store.dispatch_without_capture == 1
    assert (await ops.verify_audit_chain(sql.url)).ok


async def test_a_crash_mid_transaction_rolls_back_the_whole_batch(store: SqlCaptureStore, sql: Sql) -> None:
    """When the database fails after a batch's outcome rows and audit events were inserted (here: at the
    ledger insert), the transaction rolls back whole: no row of those calls exists, every caller gets an
    error, and the next capture continues the chain without a gap."""
    committer = store._committer  # the test reaches in to inject the failure where a crash would hit
    assert committer is not None
    write_rows = committer._write_rows

    async def explode(executemany: Any, statement: Any, rows: Any) -> None:
        if statement.sql.startswith("INSERT INTO ledger_entries"):
            raise RuntimeError("simulated crash before the ledger insert")
        await write_rows(executemany, statement, rows)

    committer._write_rows = explode  # type: ignore[method-assign]
    calls = [make_call(f"req_crash_{i}") for i in range(5)]
    try:
        results = await asyncio.gather(*(store.record(c) for c in calls), return_exceptions=True)
    finally:
        del committer._write_rows
    assert all(isinstance(r, CaptureError) for r in results)
    for call in calls:
        outcomes, events, ledger = await captured(sql, call.request_id)
        assert (outcomes, events, ledger) == (0, [], 0)
    assert store.dispatch_without_capture == 5

    receipt = await store.record(make_call())
    assert receipt.audit_seqs == (1, 2)
    assert (await ops.verify_audit_chain(sql.url)).ok


async def test_sqlite_writer_waits_for_another_writers_lock_off_the_event_loop(tmp_path: Path) -> None:
    """CAP-006 on SQLite: while another connection (another gateway process, in production) holds the write lock, a capture
    waits for it in the store's own thread, not on the event loop, which meanwhile serves a database read; once
    the lock is released the capture commits, chained after the earlier one."""
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    await ops.upgrade(url)
    await ops.seed(url)
    store = SqlCaptureStore(url)
    await store.start()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        assert (await store.record(make_call("req_before"))).audit_seqs == (1, 2)
        reached_begin = asyncio.Event()
        committer = store._committer  # the test reaches in to see the writer reach the lock
        assert committer is not None
        in_thread = committer._in_sqlite_thread

        async def watch(fn: Any, *args: Any) -> Any:
            if args == ("BEGIN IMMEDIATE",):
                reached_begin.set()
            return await in_thread(fn, *args)

        committer._in_sqlite_thread = watch  # type: ignore[method-assign]
        other.execute("BEGIN IMMEDIATE")  # the other writer holds the lock
        waiting = asyncio.create_task(store.record(make_call("req_waiting")))
        async with asyncio.timeout(10):
            await reached_begin.wait()
            assert await store.metrics_snapshot() == (2, pytest.approx(datetime.now(UTC).timestamp(), abs=60))
        assert not waiting.done()
        other.execute("COMMIT")
        async with asyncio.timeout(10):
            receipt = await waiting
        assert receipt.audit_seqs == (3, 4)
    finally:
        other.close()
        await store.close()
    assert (await ops.verify_audit_chain(url)).ok


async def test_a_cancelled_caller_still_gets_its_call_captured(store: SqlCaptureStore, sql: Sql) -> None:
    """A client disconnect cancels the handler while it awaits record(): the capture is committed anyway."""
    committer = store._committer
    assert committer is not None
    write_rows = committer._write_rows
    call = make_call(outcome="client_cancelled")
    caller = asyncio.create_task(store.record(call))

    async def cancel_caller(executemany: Any, statement: Any, rows: Any) -> None:
        if statement.sql.startswith("INSERT INTO routing_outcomes"):
            caller.cancel()  # the handler is cancelled while its capture is in flight
        await write_rows(executemany, statement, rows)

    committer._write_rows = cancel_caller  # type: ignore[method-assign]
    try:
        with pytest.raises(asyncio.CancelledError):
            await caller
        await store.close()  # drains: returns once everything queued is committed
    finally:
        del committer._write_rows
    outcomes, events, ledger = await captured(sql, call.request_id)
    assert (outcomes, len(events), ledger) == (1, 2, 1)
    assert store.dispatch_without_capture == 0


async def test_close_commits_everything_queued_before_it(migrated_url: str, sql: Sql) -> None:
    """Records queued before close() are committed before close() returns; record() after close() fails with
    CaptureStoreClosedError and counts a dispatch without capture (but a refusal is no dispatch)."""
    store = SqlCaptureStore(migrated_url)
    await store.start()
    calls = [make_call() for _ in range(50)]
    # gather starts the record() tasks before close(): all 50 are queued when close() runs.
    *receipts, _ = await asyncio.gather(*(store.record(c) for c in calls), store.close())
    assert len(receipts) == 50
    assert await sql.count("routing_outcomes") == 50

    with pytest.raises(CaptureStoreClosedError):
        await store.record(make_call())
    with pytest.raises(CaptureStoreClosedError):
        await store.record(make_call(outcome="refused"))
    assert (store.dispatch_without_capture, store.capture_failures) == (1, 2)


async def test_callers_never_hang_when_the_writer_dies(store: SqlCaptureStore) -> None:
    """If the writer task is cancelled (an event loop shutting down without close()), the callers already
    queued get an error instead of waiting forever, and later record() calls fail at once."""
    writer = store._writer  # the test reaches in to kill the writer as a dying event loop would
    assert writer is not None
    # create_task schedules the callers before the writer's cancellation is delivered: they are queued first.
    callers = [asyncio.create_task(store.record(make_call())) for _ in range(3)]
    writer.cancel()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, CaptureStoreClosedError) for r in results), results
    with pytest.raises(CaptureStoreClosedError):
        await store.record(make_call())
    assert store.dispatch_without_capture == 4


async def test_open_sessions_counts_connections_and_kill_switch_opens_none(store: SqlCaptureStore) -> None:
    """open_sessions grows with each database connection the store opens; kill_switch() (read before every
    dispatch) answers from memory and opens none."""
    before = store.open_sessions
    await store.kill_switch()
    assert store.open_sessions == before
    await store.record(make_call())
    after_record = store.open_sessions
    assert after_record > before
    await store.metrics_snapshot()
    assert store.open_sessions == after_record + 1


async def test_metrics_snapshot_reports_chain_height_and_freshness(store: SqlCaptureStore) -> None:
    """metrics_snapshot() is (0, None) on an empty chain, then (max seq, newest created_at in epoch
    seconds)."""
    assert await store.metrics_snapshot() == (0, None)
    before = datetime.now(UTC).timestamp()
    await store.record(make_call())
    height, newest = await store.metrics_snapshot()
    assert height == 2
    assert newest is not None
    assert before - 1 <= newest <= datetime.now(UTC).timestamp() + 1


async def test_start_refuses_a_database_not_at_head(db_url: str) -> None:
    """A store on a database that was never migrated fails at start() with a message naming the fix."""
    await ops.upgrade(db_url, "0003_capture_tables")
    store = SqlCaptureStore(db_url)
    with pytest.raises(ops.SchemaNotCurrentError, match="db upgrade"):
        await store.start()
    await store.close()


def test_bad_urls_and_thresholds_fail_at_construction() -> None:
    """Configuration mistakes fail when the store is built, not on the first call."""
    with pytest.raises(DatabaseURLError):
        SqlCaptureStore("mysql://u@h/db")
    with pytest.raises(ValueError, match="threshold"):
        SqlCaptureStore("sqlite:///x.db", kill_switch_threshold_usd=-1)
