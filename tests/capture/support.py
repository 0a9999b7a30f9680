"""Helpers shared by the capture tests: records, raw SQL, a private event loop for synchronous fixtures."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from reference_server.capture.types import CallRecord
from reference_server.db.engine import create_engine
from reference_server.db.urls import backend_of

PG_URL_ENV = "GATEWAY_CONTRACTS_PG_URL"
PG_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a synchronous fixture on a private loop (never touching pytest-asyncio's loop)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pg_base_url() -> str:
    return os.environ.get(PG_URL_ENV, PG_DEFAULT_URL)


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin(base_url: str, statement: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(base_url), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


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
