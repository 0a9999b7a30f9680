"""One batch of captures in one transaction, on SQLite or PostgreSQL: the chain lock, the heads, every row.

**The chain.** Each transaction appends to the audit chain after reading its head *inside* the chain lock: on
PostgreSQL ``pg_advisory_xact_lock(CHAIN_LOCK_KEY)`` (released at commit; several processes on one database
queue on it), on SQLite ``BEGIN IMMEDIATE`` (SQLite's single write lock, also across processes). So ``seq``
has no gaps and no two writers ever extend the same head. The ledger's balance head is read under the same lock,
so the balance a batch carries includes every process's debits.

**Below the ORM.** The rows go to the driver as plain tuples in one ``executemany`` per table
(:class:`_BulkInsert`): SQLAlchemy's per-row parameter processing cost more than the SQL did. Each value still
goes through the bind processor SQLAlchemy would apply, so the stored bytes are the same. The committer keeps
one connection for its whole life (a pool checkout per commit cost more than the commit's rows). On PostgreSQL
it is a SQLAlchemy connection and the transaction is SQLAlchemy's. On SQLite it is a plain ``sqlite3``
connection with the engine's settings (:func:`reference_server.db.engine.open_sqlite_writer`): the
statements run on the event loop's thread and only the two steps that can wait, ``BEGIN IMMEDIATE`` and
``COMMIT``, go to the committer's own thread (see :meth:`BatchCommitter._commit_sqlite` for why).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from reference_server.capture.rows import BatchRows, build_batch
from reference_server.capture.types import CallRecord
from reference_server.db.chain import CHAIN_LOCK_KEY, GENESIS_HASH
from reference_server.db.engine import open_sqlite_writer
from reference_server.db.models import AuditEvent, LedgerEntry, RoutingOutcome
from reference_server.db.pricing import PriceTable

log = logging.getLogger(__name__)

_T = TypeVar("_T")

_OUTCOMES: Table = RoutingOutcome.__table__  # type: ignore[assignment]
_AUDIT: Table = AuditEvent.__table__  # type: ignore[assignment]
_LEDGER: Table = LedgerEntry.__table__  # type: ignore[assignment]
# The three heads a batch builds on, read in one statement (one round trip) under the chain lock.
_HEADS = select(
    select(_AUDIT.c.seq).order_by(_AUDIT.c.seq.desc()).limit(1).scalar_subquery(),
    select(_AUDIT.c.hash).order_by(_AUDIT.c.seq.desc()).limit(1).scalar_subquery(),
    select(_LEDGER.c.balance_nusd).order_by(_LEDGER.c.id.desc()).limit(1).scalar_subquery(),
)
_HEADS_SQLITE = str(_HEADS.compile(dialect=sqlite_dialect.dialect(), compile_kwargs={"literal_binds": True}))


_NOTHING = object()


class _BulkInsert:
    """``INSERT INTO table (columns) VALUES (...)`` in the driver's own parameter style, fed plain tuples.

    Each value still goes through the bind processor SQLAlchemy would have applied for its column on this
    dialect (on SQLite: datetimes to SQLAlchemy's text form, floats forced to float; on asyncpg: none), so the
    stored bytes are exactly those of ``conn.execute(insert(table), rows)``.
    """

    _PLACEHOLDERS: dict[str, Callable[[int], str]] = {
        "qmark": lambda i: "?",
        "numeric_dollar": lambda i: f"${i}",
        "format": lambda i: "%s",
    }

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        placeholder = self._PLACEHOLDERS[dialect.paramstyle]
        self.columns = tuple(columns)
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(self.columns)}) "
            f"VALUES ({', '.join(placeholder(i + 1) for i in range(len(self.columns)))})"
        )
        self._processors = [
            (i, processor)
            for i, name in enumerate(self.columns)
            if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]

    @classmethod
    def supports(cls, dialect: Dialect) -> bool:
        return dialect.paramstyle in cls._PLACEHOLDERS

    def params(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        columns, processors = self.columns, self._processors
        # Every row of a batch carries the same created_at object: per column, a value that is the very object
        # of the row before reuses its processed form (identity, not equality: two equal aware datetimes in
        # different zones format differently).
        last: list[tuple[Any, Any]] = [(_NOTHING, None)] * len(columns)
        out: list[tuple[Any, ...]] = []
        for row in rows:
            values = [row[name] for name in columns]
            for i, processor in processors:
                value = values[i]
                previous, processed = last[i]
                if value is not previous:
                    processed = processor(value)
                    last[i] = (value, processed)
                values[i] = processed
            out.append(tuple(values))
        return out


class BatchCommitter:
    """Commits one batch of calls per :meth:`commit`, one transaction each (see the module docstring), on a
    connection of its own that it opens on the first commit and keeps until :meth:`close`. ``on_open`` is
    called for each database connection it opens (the store counts them for ``/metrics``)."""

    def __init__(
        self, engine: AsyncEngine, db_url: str, prices: PriceTable, on_open: Callable[[], None]
    ) -> None:
        self._engine = engine
        self._db_url = db_url
        self._prices = prices
        self._on_open = on_open
        self._write_conn: AsyncConnection | None = None
        """The writer's own connection, held from its first commit to close() (see _writer_connection)."""
        self._sqlite_writer: sqlite3.Connection | None = None
        """On SQLite, the writer's own plain sqlite3 connection instead (see _commit_sqlite)."""
        self._sqlite_thread: ThreadPoolExecutor | None = None
        self._inserts: dict[tuple[str, tuple[str, ...]], _BulkInsert] = {}

    async def commit(self, calls: list[CallRecord]) -> BatchRows:
        """One transaction: take the chain lock, read the heads, insert every row; return after COMMIT."""
        if self._engine.dialect.name == "sqlite":
            try:
                return await self._commit_sqlite(calls)
            except Exception:
                await self._drop_sqlite_writer()
                raise
        conn = await self._writer_connection()
        try:
            return await self._commit_on(conn, calls)
        except Exception:
            await self._drop_writer_connection()
            raise

    async def close(self) -> None:
        """Release the connections and the thread (the engine is the store's)."""
        await self._drop_writer_connection()
        await self._drop_sqlite_writer()
        if self._sqlite_thread is not None:
            self._sqlite_thread.shutdown(wait=True)
            self._sqlite_thread = None

    async def _writer_connection(self) -> AsyncConnection:
        """The connection every capture transaction runs on (PostgreSQL; SQLite has its own, see
        :meth:`_sqlite_connection`), opened on the first commit and then kept.

        Checking a connection out of the pool for each commit, and the pool's reset when it went back, cost
        more CPU than the batch's rows (about 0.5 ms per commit, measured on SQLite). The writer is one task
        committing one batch at a time, so one connection is all it ever needs. A commit that fails drops it (a
        broken connection is not reused); the next commit opens a fresh one.
        """
        if self._write_conn is None:
            self._on_open()
            self._write_conn = await self._engine.connect()
        return self._write_conn

    async def _drop_writer_connection(self) -> None:
        conn, self._write_conn = self._write_conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # already broken: closing it is only tidying up
                log.debug("closing the capture writer's connection failed", exc_info=True)

    async def _commit_on(self, conn: AsyncConnection, calls: list[CallRecord]) -> BatchRows:
        # PostgreSQL (and any other server database): the transaction through SQLAlchemy, the chain lock first.
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                await conn.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
            head_seq, head_hash, balance = (await conn.execute(_HEADS)).one()
            rows = self._build(calls, head_seq, head_hash, balance)
            for table, table_rows in self._tables(rows):
                if not table_rows:  # never empty in a correct gateway; a mutant can empty a table's rows
                    continue
                if not _BulkInsert.supports(conn.dialect):
                    await conn.execute(table.insert(), table_rows)  # no fast path for this driver
                else:
                    statement = self._statement(table, table_rows, conn.dialect)
                    await self._write_rows(conn.exec_driver_sql, statement, table_rows)
        return rows

    async def _commit_sqlite(self, calls: list[CallRecord]) -> BatchRows:
        """The same transaction on SQLite: the statements on the event loop's thread, the waits in the writer's.

        Only two steps can wait: ``BEGIN IMMEDIATE`` (for another process's write lock: the chain lock) and
        ``COMMIT`` (the fsync). Those run in the committer's own thread, one hop each. Reading the heads, building
        the rows and inserting them is CPU work done here, on the event loop's thread: in WAL mode an insert
        only fills pages in memory until COMMIT writes them out. Driven from a worker thread instead, every
        statement cost a hop and every row step a contended hand-over of the GIL, which under load made capture
        the gateway's largest CPU cost per call. A failure or a cancellation anywhere before COMMIT rolls back
        whole.
        """
        db = await self._sqlite_connection()
        await self._in_sqlite_thread(db.execute, "BEGIN IMMEDIATE")
        try:
            head_seq, head_hash, balance = db.execute(_HEADS_SQLITE).fetchone()
            rows = self._build(calls, head_seq, head_hash, balance)
            for table, table_rows in self._tables(rows):
                statement = self._statement(table, table_rows, self._engine.dialect)
                await self._write_rows(_executemany_on(db), statement, table_rows)
            await self._in_sqlite_thread(db.execute, "COMMIT")
        except BaseException:
            try:
                # In the same thread, so after a COMMIT still in flight there (a cancelled wait) has ended.
                await asyncio.shield(self._in_sqlite_thread(db.execute, "ROLLBACK"))
            except Exception:  # a COMMIT that failed (or succeeded) may have ended the transaction already
                log.debug("rollback after a failed capture transaction failed", exc_info=True)
            raise
        return rows

    async def _sqlite_connection(self) -> sqlite3.Connection:
        """The writer's sqlite3 connection (opened in its thread on the first commit, then kept)."""
        if self._sqlite_writer is None:
            if self._sqlite_thread is None:
                self._sqlite_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture-writer")
            self._on_open()
            self._sqlite_writer = await self._in_sqlite_thread(open_sqlite_writer, self._db_url)
        return self._sqlite_writer

    async def _drop_sqlite_writer(self) -> None:
        db, self._sqlite_writer = self._sqlite_writer, None
        if db is not None:
            try:
                await self._in_sqlite_thread(db.close)
            except Exception:
                log.debug("closing the capture writer's SQLite connection failed", exc_info=True)

    async def _in_sqlite_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        assert self._sqlite_thread is not None
        return await asyncio.get_running_loop().run_in_executor(self._sqlite_thread, fn, *args)

    def _build(self, calls: list[CallRecord], head_seq: Any, head_hash: Any, balance: Any) -> BatchRows:
        return build_batch(
            calls,
            head_seq=int(head_seq or 0),
            head_hash=head_hash if head_hash is not None else GENESIS_HASH,
            balance_nusd=int(balance or 0),
            prices=self._prices,
            now=datetime.now(UTC),
        )

    @staticmethod
    def _tables(rows: BatchRows) -> tuple[tuple[Table, list[dict[str, Any]]], ...]:
        return ((_OUTCOMES, rows.outcomes), (_AUDIT, rows.events), (_LEDGER, rows.ledger))

    def _statement(self, table: Table, rows: list[dict[str, Any]], dialect: Dialect) -> _BulkInsert:
        key = (table.name, tuple(rows[0]) if rows else ())
        statement = self._inserts.get(key)
        if statement is None:
            statement = self._inserts[key] = _BulkInsert(table, key[1], dialect)
        return statement

    async def _write_rows(
        self,
        executemany: Callable[[str, list[tuple[Any, ...]]], Awaitable[Any]],
        statement: _BulkInsert,
        rows: list[dict[str, Any]],
    ) -> None:
        """One table's rows of the batch, in one ``executemany`` inside the transaction. (Tests wrap this to
        fail or cancel where a crash would hit.)"""
        if rows:
            await executemany(statement.sql, statement.params(rows))


def _executemany_on(db: sqlite3.Connection) -> Callable[[str, list[tuple[Any, ...]]], Awaitable[Any]]:
    """``db.executemany`` in the shape ``_write_rows`` takes (an awaitable), run right here."""

    async def executemany(sql: str, params: list[tuple[Any, ...]]) -> None:
        db.executemany(sql, params)

    return executemany
