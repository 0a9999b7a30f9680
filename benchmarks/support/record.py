"""Whether the gateway's figures count: afterwards its database must hold one outcome row per call it answered,
and ``reference-gateway audit-verify`` must pass."""

from __future__ import annotations

import asyncio
import sys

from benchmarks.support.settings import CELL_TIMEOUT_S, CLI, REPO


async def count_outcomes(db_url: str) -> tuple[int, int]:
    """(outcome rows, distinct commit timestamps: one per capture transaction) in the gateway's database."""
    from sqlalchemy import func, select
    from sqlalchemy.pool import NullPool

    from reference_server.db.engine import create_engine
    from reference_server.db.models import RoutingOutcome

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(func.count()).select_from(RoutingOutcome))).scalar_one()
            commits = (
                await conn.execute(select(func.count(func.distinct(RoutingOutcome.created_at))))
            ).scalar_one()
    finally:
        await engine.dispose()
    return int(rows), int(commits)


async def audit_verify(db_url: str) -> tuple[bool, str]:
    """``reference-gateway audit-verify`` as a user runs it: (exit status 0, its one line)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *CLI,
        "audit-verify",
        "--db-url",
        db_url,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(CELL_TIMEOUT_S):
        out, _ = await process.communicate()
    return process.returncode == 0, out.decode().strip()
