"""Two gateway processes capturing into one database at the same time: the chain never forks or gaps."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from reference_server.db import ops
from reference_server.db.chain import CHAIN_LOCK_KEY
from tests.capture.support import Sql, asyncpg_dsn

REPO = Path(__file__).resolve().parents[2]
PER_PROCESS = 200
WAVE = 25  # several commits per process, so the two processes' commits interleave


async def spawn(db_url: str, prefix: str) -> asyncio.subprocess.Process:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.capture.writer_process",
        db_url,
        prefix,
        str(PER_PROCESS),
        str(WAVE),
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await process.stdout.readline()
    if line.strip() != b"ready":
        _, err = await process.communicate()
        pytest.fail(f"writer {prefix} did not start: {line!r} {err.decode()[-2000:]}")
    return process


async def finish(process: asyncio.subprocess.Process) -> dict[str, Any]:
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-2000:]
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return summary


async def waiters_on_chain_lock(conn: asyncpg.Connection) -> int:
    # An advisory bigint key shows up in pg_locks split into classid (high half) and objid (low half).
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = $1 AND objid::bigint = $2",
            CHAIN_LOCK_KEY >> 32,
            CHAIN_LOCK_KEY & 0xFFFFFFFF,
        )
    )


async def release_when_both_wait(db_url: str, go: Any) -> None:
    """Hold the chain lock while both writers start, and release it only once both are observed waiting on
    it in pg_locks: their first commits are then provably concurrent."""
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", CHAIN_LOCK_KEY)
        await go()
        async with asyncio.timeout(60):
            # Polls an observed condition, bounded above: PostgreSQL has no event for "two lock waiters", and
            # no assertion rests on the delay.
            while await waiters_on_chain_lock(conn) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await conn.execute("SELECT pg_advisory_unlock($1)", CHAIN_LOCK_KEY)
    finally:
        await conn.close()


async def test_two_processes_capture_into_one_database(migrated_url: str, sql: Sql) -> None:
    """Two OS processes, each recording 200 calls in waves, write to one database at once (on PostgreSQL both
    provably wait on the chain lock together). Every call is captured once, the seqs of the two processes are
    disjoint and together exactly 1..800, and the audit chain verifies: no fork, no gap. The ledger's running
    balance ends at the sum of all debits across both processes."""
    writers = [await spawn(migrated_url, "req_pa"), await spawn(migrated_url, "req_pb")]

    async def go() -> None:
        for process in writers:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
            await process.stdin.drain()

    if sql.backend == "postgresql":
        await release_when_both_wait(migrated_url, go)
    else:
        await go()
    first, second = [await finish(p) for p in writers]

    assert first["records"] == second["records"] == PER_PROCESS
    assert first["dispatch_without_capture"] == second["dispatch_without_capture"] == 0
    assert not set(first["seqs"]) & set(second["seqs"])
    assert sorted(first["seqs"] + second["seqs"]) == list(range(1, 4 * PER_PROCESS + 1))
    assert await sql.count("routing_outcomes") == 2 * PER_PROCESS
    assert await sql.count("ledger_entries") == 2 * PER_PROCESS
    result = await ops.verify_audit_chain(migrated_url)
    expected = (True, 4 * PER_PROCESS, 4 * PER_PROCESS)
    assert (result.ok, result.count, result.head_seq) == expected, result.message
    total = await sql.scalar("SELECT sum(amount_nusd) AS total FROM ledger_entries")
    last = await sql.scalar("SELECT balance_nusd FROM ledger_entries ORDER BY id DESC LIMIT 1")
    assert last == total
