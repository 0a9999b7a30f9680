"""Read-only access to a gateway's database for the capture checks.

The suite is synchronous (pytest, SDK clients). SQLite is read through the standard library's driver, a fresh
connection per query (a file open: a fraction of a millisecond). PostgreSQL's driver is async (asyncpg): each
query runs inside ``asyncio.run`` on the one engine of this ``CaptureDB``. Either way no connection outlives its
query (no pool), so the harness holds no connection, and no lock, on the gateway's database between checks.

A check reads a call's rows a few times over (each invariant's query), a concurrent test hundreds of calls'
rows: what a query costs here is most of what those tests cost. An async engine built and disposed per query
made each SQLite read about 3 ms, where the driver itself takes 0.1 ms.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from contracts.db_urls import to_async_url
from contracts.exits import first_line

T = TypeVar("T")


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
        self._sync: Engine | None = None
        self._async: AsyncEngine | None = None

    def _engine(self) -> Engine | AsyncEngine:
        """Built at the first query, not in the constructor: a URL the driver refuses is that query's error (and
        ``ping``'s one-line ``DatabaseError``)."""
        if self._sync is None and self._async is None:
            if self._async_url.startswith("sqlite+aiosqlite:"):
                # The same sqlite3 module aiosqlite wraps, without its thread and event loop.
                sync_url = self._async_url.replace("sqlite+aiosqlite:", "sqlite:", 1)
                self._sync = create_engine(sync_url, poolclass=NullPool)
            else:
                # NullPool: nothing bound to one event loop outlives a query, so every query's asyncio.run can
                # share the engine.
                self._async = create_async_engine(self._async_url, poolclass=NullPool)
        engine = self._sync or self._async
        assert engine is not None
        return engine

    @property
    def mapped(self) -> bool:
        """Whether the target gave its own queries (the seed's other tables then cannot be assumed)."""
        return self.queries != DEFAULT_QUERIES

    def rows(self, invariant: str, request_id: str) -> list[dict[str, Any]]:
        return self.query(self.queries[invariant], request_id=request_id)

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        def read(conn: Connection) -> list[dict[str, Any]]:
            return [dict(row._mapping) for row in conn.execute(text(sql), params)]

        engine = self._engine()
        if isinstance(engine, Engine):
            with engine.connect() as conn:
                return read(conn)

        async def run(conn: AsyncConnection) -> list[dict[str, Any]]:
            return await conn.run_sync(read)

        return self._run_async(run)

    def refused_in_rollback(self, sql: str) -> str | None:
        """Try a write inside a transaction that is always rolled back; return the database's refusal, or None
        if it was accepted (and then undone). Used only to check that the database itself protects a table."""

        def attempt(conn: Connection) -> str | None:
            trans = conn.begin()
            try:
                conn.execute(text(sql))
            except Exception as exc:
                return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            finally:
                trans.rollback()
            return None

        engine = self._engine()
        if isinstance(engine, Engine):
            with engine.connect() as conn:
                return attempt(conn)

        async def run(conn: AsyncConnection) -> str | None:
            return await conn.run_sync(attempt)

        return self._run_async(run)

    def _run_async(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        engine = self._engine()
        assert isinstance(engine, AsyncEngine)

        async def run() -> T:
            async with engine.connect() as conn:
                return await work(conn)

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
