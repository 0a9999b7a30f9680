"""The capture path alone: durable captures per second through ``SqlCaptureStore`` on SQLite, group-committed,
beside the same store committing every call on its own, in the same process.

Each capture is a whole call on the record: its outcome row, two hash-chained audit events and its ledger debit,
in one transaction, durable (WAL, ``synchronous=FULL``) before ``record()`` returns. Callers are ``--concurrency``
asyncio tasks, as a gateway's concurrent calls are. The baseline is ``max_batch=1``: one transaction and one fsync
per call, the design the capture issue measured at about 1,000 commits/s. Afterwards each database must hold every
capture and its audit chain must verify, or the figures are void.

A third run shows what the gateway's time-ordered request ids (``reference_server.app.new_request_id``) save
over random ones: the same group commit, with ids of 24 random hex digits. Each run also prints the process's
CPU per capture (all threads: the event loop's and the commit thread's).

This isolates the capture layer from the HTTP work ``benchmarks.gateway_vs_proxy`` measures end to end: it answers
whether capture is what holds the gateway back.

With ``--pg-server URL`` (say ``postgresql://postgres@127.0.0.1:5432/postgres``) the same three runs go to
PostgreSQL instead, each on a database of its own created on that server and dropped afterwards. There the
process's CPU is the gateway's side only (the server's own work is in its processes).

Run: ``python -m benchmarks.capture_store [--calls N] [--concurrency C] [--pg-server URL]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reference_server.app import new_request_id
from reference_server.capture.store import SqlCaptureStore
from reference_server.capture.types import CallRecord
from reference_server.db import ops


def random_request_id() -> str:
    """The baseline for the gateway's ids: the same pattern, every digit random."""
    return f"req_{secrets.token_hex(12)}"


def _call(request_id: str) -> CallRecord:
    return CallRecord(
        request_id=request_id,
        trace_id=secrets.token_hex(16),
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


@dataclass
class Run:
    rate: float
    """captures per second"""
    commits: int
    cpu_ms: float
    """the process's CPU (all threads) per capture"""


async def run(
    db_url: str,
    calls: int,
    concurrency: int,
    max_batch: int | None,
    request_id: Callable[[], str] = new_request_id,
) -> Run:
    await ops.upgrade(db_url)
    await ops.seed(db_url)
    store = SqlCaptureStore(db_url) if max_batch is None else SqlCaptureStore(db_url, max_batch=max_batch)
    await store.start()
    remaining = calls

    async def caller() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await store.record(_call(request_id()))

    try:
        start, cpu = time.perf_counter(), _cpu_seconds()
        await asyncio.wait_for(asyncio.gather(*(caller() for _ in range(concurrency))), timeout=300)
        seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    finally:
        await store.close()
    report = await ops.verify_audit_chain(db_url)
    if not report.ok:
        raise SystemExit(f"audit chain broken after the run: {report}")
    return Run(calls / seconds, store.batches_committed, cpu * 1000 / calls)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@asynccontextmanager
async def database(name: str, tmp: Path, pg_server: str | None) -> AsyncIterator[str]:
    """A fresh database for one run: a SQLite file in ``tmp``, or a PostgreSQL database created on
    ``pg_server`` for the run and dropped after it."""
    if pg_server is None:
        yield f"sqlite:///{tmp / f'{name}.sqlite3'}"
        return
    import asyncpg

    dbname = f"capture_bench_{name.replace('-', '_')}_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(pg_server, timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(
            f"benchmarks.capture_store: cannot reach the PostgreSQL server {pg_server}: {exc}; "
            "check that it runs and the URL is right"
        ) from None
    try:
        await admin.execute(f'CREATE DATABASE "{dbname}"')
        base = pg_server.rsplit("/", 1)[0]
        try:
            yield f"{base}/{dbname}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    finally:
        await admin.close()


async def main(calls: int = 20000, concurrency: int = 32, pg_server: str | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix="capture-store-") as tmp:

        async def one(name: str, max_batch: int | None, ids: Callable[[], str] = new_request_id) -> Run:
            async with database(name, Path(tmp), pg_server) as url:
                return await run(url, calls, concurrency, max_batch, ids)

        grouped = await one("grouped", None)
        single = await one("single", 1)
        random_ids = await one("random-ids", None, random_request_id)
    where = (
        "SQLite (WAL, synchronous=FULL)"
        if pg_server is None
        else "PostgreSQL (the server's durability settings)"
    )
    print(f"capture store on {where}, {calls} calls at concurrency {concurrency}")
    print(f"{'design':<44}{'captures/s':>12}{'commits':>10}{'calls/commit':>14}{'CPU ms/capture':>16}")
    for name, r in (
        ("one transaction per call", single),
        ("group commit (the gateway)", grouped),
        ("group commit, random request ids", random_ids),
    ):
        print(f"{name:<44}{r.rate:>12,.0f}{r.commits:>10}{calls / r.commits:>14.1f}{r.cpu_ms:>16.3f}")
    print(
        f"group commit = {grouped.rate / single.rate:.1f} x one transaction per call; time-ordered request ids: "
        f"{grouped.rate / random_ids.rate:.2f} x the captures/s of random ones, "
        f"{grouped.cpu_ms / random_ids.cpu_ms:.2f} x the CPU; every capture verified in the chain"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--calls",
        type=int,
        default=20000,
        help="captures per run (default 20000: the random-id cost grows with the tables)",
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--pg-server",
        metavar="URL",
        help="run on PostgreSQL: a server URL whose user may create databases (one per run, dropped after)",
    )
    ns = parser.parse_args()
    asyncio.run(main(ns.calls, ns.concurrency, ns.pg_server))
