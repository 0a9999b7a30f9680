"""Read-only access to a gateway's database for the capture checks.

The suite is synchronous (pytest, SDK clients), the drivers are async (aiosqlite, asyncpg): each query runs on a
fresh engine inside ``asyncio.run``. That costs a connection per query, which is nothing at the suite's volume
and keeps the harness from holding connections (or locks) on the gateway's database between checks.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from contracts.db_urls import to_async_url
from contracts.exits import first_line


class DatabaseError(Exception):
    pass


def async_url(url: str) -> str:
    """The driver URL for ``url`` (the URL rules both sides share: ``contracts.db_urls``), or ``DatabaseError``."""
    try:
        driver_url = to_async_url(url)
    except ValueError as exc:  # a DatabaseURLError, or the URL parser's own (a port that is not a number)
        raise DatabaseError(first_line(exc)) from None
    if driver_url.startswith("postgresql+asyncpg") and importlib.util.find_spec("asyncpg") is None:
        # The harness alone reads SQLite; PostgreSQL's driver is an extra (the reference gateway's includes it).
        raise DatabaseError(
            "reading a PostgreSQL database needs asyncpg: pip install 'gateway-contracts[postgres]'"
        )
    return driver_url


# The capture invariants' rows of one call, in the seed's schema (the built-in mapping). A target file maps its
# own tables with one query per invariant (``[capture.queries]``), each given ``:request_id``.
DEFAULT_QUERIES = {
    "outcomes": "SELECT * FROM routing_outcomes WHERE request_id = :request_id",
    "audit": "SELECT * FROM audit_events WHERE request_id = :request_id ORDER BY seq",
    "ledger": "SELECT * FROM ledger_entries WHERE request_id = :request_id",
}


class CaptureDB:
    def __init__(self, url: str, queries: dict[str, str] | None = None) -> None:
        self.url = url
        self._async_url = async_url(url)
        self.queries = {**DEFAULT_QUERIES, **(queries or {})}

    @property
    def mapped(self) -> bool:
        """Whether the target gave its own queries (the seed's other tables then cannot be assumed)."""
        return self.queries != DEFAULT_QUERIES

    def rows(self, invariant: str, request_id: str) -> list[dict[str, Any]]:
        return self.query(self.queries[invariant], request_id=request_id)

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async def run() -> list[dict[str, Any]]:
            engine = create_async_engine(self._async_url, poolclass=NullPool)
            try:
                async with engine.connect() as conn:
                    result = await conn.execute(text(sql), params)
                    return [dict(row._mapping) for row in result]
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def refused_in_rollback(self, sql: str) -> str | None:
        """Try a write inside a transaction that is always rolled back; return the database's refusal, or None
        if it was accepted (and then undone). Used only to check that the database itself protects a table."""

        async def run() -> str | None:
            engine = create_async_engine(self._async_url, poolclass=NullPool)
            try:
                async with engine.connect() as conn:
                    trans = await conn.begin()
                    try:
                        await conn.execute(text(sql))
                    except Exception as exc:
                        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    finally:
                        await trans.rollback()
                    return None
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def scalar(self, sql: str, **params: Any) -> Any:
        rows = self.query(sql, **params)
        return next(iter(rows[0].values())) if rows else None

    def ping(self) -> None:
        """Raise ``DatabaseError`` with a one-line reason when the database cannot be read."""
        try:
            for invariant in self.queries:  # every mapped query runs, so a typo in one is a set-up error
                self.rows(invariant, "gateway-contracts-preflight")
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseError(first) from None
