"""The capture path alone: durable captures per second through ``SqlCaptureStore`` on SQLite, group-committed,
beside the same store committing every call on its own, in the same process.

Each capture is a whole call on the record: its outcome row, two hash-chained audit events and its ledger debit,
in one transaction, durable (WAL, ``synchronous=FULL``) before ``record()`` returns. Callers are ``--concurrency``
asyncio tasks, as a gateway's concurrent calls are. The baseline is ``max_batch=1``: one transaction and one fsync
per call, the design the capture issue measured at about 1,000 commits/s. Afterwards each database must hold every
capture and its audit chain must verify, or the figures are void.

This isolates the capture layer from the HTTP work ``benchmarks.gateway_vs_proxy`` measures end to end: it answers
whether capture is what holds the gateway back.

Run: ``python -m benchmarks.capture_store [--calls N] [--concurrency C]``
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from reference_server.capture.store import SqlCaptureStore
from reference_server.capture.types import CallRecord
from reference_server.db import ops


def _call() -> CallRecord:
    return CallRecord(
        request_id=f"req_{uuid.uuid4().hex[:24]}",
        trace_id=uuid.uuid4().hex,
        endpoint="/v1/messages",
        model_requested="ainfera-inference",
        model_canonical="ainfera-inference",
        backend="anthropic",
        outcome="ok",
        stream_mode="none",
        input_tokens=12,
        output_tokens=34,
        latency_ms=21.5,
        ttft_ms=None,
        stop_reason="end_turn",
        error_type=None,
        started_at=datetime.now(UTC),
    )


async def run(db_url: str, calls: int, concurrency: int, max_batch: int | None) -> tuple[float, int]:
    """Captures per second, and the number of commits they took."""
    await ops.upgrade(db_url)
    await ops.seed(db_url)
    store = SqlCaptureStore(db_url) if max_batch is None else SqlCaptureStore(db_url, max_batch=max_batch)
    await store.start()
    remaining = calls

    async def caller() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await store.record(_call())

    try:
        start = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(caller() for _ in range(concurrency))), timeout=300)
        seconds = time.perf_counter() - start
    finally:
        await store.close()
    report = await ops.verify_audit_chain(db_url)
    if not report.ok:
        raise SystemExit(f"audit chain broken after the run: {report}")
    return calls / seconds, store.batches_committed


async def main(calls: int = 4000, concurrency: int = 32) -> None:
    with tempfile.TemporaryDirectory(prefix="capture-store-") as tmp:
        grouped, grouped_commits = await run(
            f"sqlite:///{Path(tmp) / 'grouped.sqlite3'}", calls, concurrency, None
        )
        single, single_commits = await run(f"sqlite:///{Path(tmp) / 'single.sqlite3'}", calls, concurrency, 1)
    print(f"capture store on SQLite (WAL, synchronous=FULL), {calls} calls at concurrency {concurrency}")
    print(f"{'design':<36}{'captures/s':>12}{'commits':>10}{'calls/commit':>14}")
    print(
        f"{'one transaction per call':<36}{single:>12,.0f}{single_commits:>10}{calls / single_commits:>14.1f}"
    )
    print(
        f"{'group commit (the gateway)':<36}{grouped:>12,.0f}{grouped_commits:>10}{calls / grouped_commits:>14.1f}"
    )
    print(
        f"group commit = {grouped / single:.1f} x one transaction per call; every capture verified in the chain"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    ns = parser.parse_args()
    asyncio.run(main(ns.calls, ns.concurrency))
