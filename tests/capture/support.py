"""Helpers shared by the capture tests: records and raw SQL (an attacker's view of the database)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.pool import NullPool

from contracts.db_urls import backend_of
from reference_server.capture.types import CallRecord
from reference_server.db.engine import create_engine

# The PostgreSQL machinery lives in tests.support.postgres (shared by every test package); re-exported here
# for the capture tests that import it from this module.
from tests.support.postgres import PG_DEFAULT_URL, PG_URL_ENV, admin, asyncpg_dsn, ci, pg_base_url, run_sync

__all__ = [
    "PG_DEFAULT_URL",
    "PG_URL_ENV",
    "TRACE_ID",
    "Sql",
    "admin",
    "asyncpg_dsn",
    "ci",
    "make_call",
    "pg_base_url",
    "run_sync",
]

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def make_call(request_id: str | None = None, **changes: Any) -> CallRecord:
    """A CallRecord for a successful non-streamed call; ``changes`` override any field."""
    base = CallRecord(
        request_id=request_id or f"req_{uuid.uuid4().hex}",
        trace_id=TRACE_ID,
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
    return replace(base, **changes)


class Sql:
    """Raw SQL against a test database, as a test (or an attacker with database access) would run it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.backend = backend_of(url)

    async def execute(self, *statements: str, **params: Any) -> None:
        """Run statements in one transaction."""
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                for statement in statements:
                    await conn.execute(text(statement), params)
        finally:
            await engine.dispose()

    async def rows(self, statement: str, **params: Any) -> list[dict[str, Any]]:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(text(statement), params)
                return [dict(row) for row in result.mappings()]
        finally:
            await engine.dispose()

    async def scalar(self, statement: str, **params: Any) -> Any:
        rows = await self.rows(statement, **params)
        return next(iter(rows[0].values())) if rows else None

    async def count(self, table: str, **where: Any) -> int:
        clause = " AND ".join(f"{column} = :{column}" for column in where) or "1 = 1"
        return int(await self.scalar(f"SELECT count(*) AS n FROM {table} WHERE {clause}", **where))
