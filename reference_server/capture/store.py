"""The SQL capture store: SQLite or PostgreSQL, group commit, a tamper-evident audit chain, the kill-switch.

**Group commit.** One writer task owns all capture writes. ``record()`` queues its CallRecord with a future
and waits; the writer takes everything queued (up to ``max_batch``) into ONE transaction, in which each record
still gets its own complete outcome row, audit events and ledger row, commits, and only then resolves the
futures. Records that arrive while a commit is in flight form the next batch, so under load a commit (and its
fsync) carries many calls, and with a single caller it degenerates to one transaction per call. No timer is
involved.

**Guarantees.** ``record()`` returns only after the transaction holding its rows committed
(``synchronous=FULL`` on SQLite: durable). A failing transaction rolls back whole, so there is never half a
capture; the writer then retries each record of the batch in its own transaction, so one bad record (say, a
duplicate request id) cannot cost the others their capture, and only records that fail alone fail their
callers. A caller cancelled while waiting (a client disconnect) does not cancel its capture: the record is
already queued and is committed anyway. ``close()`` commits everything queued before it returns.

**The chain.** Each transaction appends to the audit chain after reading its head *inside* the chain lock: on
PostgreSQL ``pg_advisory_xact_lock(CHAIN_LOCK_KEY)`` (released at commit; several processes on one database
queue on it), on SQLite ``BEGIN IMMEDIATE`` (SQLite's single write lock, also across processes). So ``seq``
has no gaps and no two writers ever extend the same head.

**Ledger and kill-switch.** Debits follow :mod:`reference_server.db.pricing`: a dispatched call (``ok``,
``upstream_error``, ``client_cancelled``) debits the usage it consumed (input x input price + output x output
price; 0 when no tokens were reported); a ``refused`` call debits 0. Each ledger row carries the running
balance; the writer reads the balance head under the chain lock, so the total it caches after each commit
includes every process's debits. Spending starts as ``SUM(amount_nusd)`` when the store starts;
``kill_switch()`` answers from memory (no database round trip before a dispatch) and is engaged once spending
>= the threshold.

**Below the ORM.** The writer's rows go to the driver as plain tuples in one ``executemany`` per table
(:class:`_BulkInsert`): SQLAlchemy's per-row parameter processing cost more than the SQL did. Each value still
goes through the bind processor SQLAlchemy would apply, so the stored bytes are the same. The writer keeps one
connection for its whole life (a pool checkout per commit cost more than the commit's rows). On PostgreSQL it
is a SQLAlchemy connection and the transaction is SQLAlchemy's. On SQLite it is a plain ``sqlite3``
connection with the engine's settings (:func:`reference_server.db.engine.open_sqlite_writer`): the
statements run on the event loop's thread and only the two steps that can wait, ``BEGIN IMMEDIATE`` and
``COMMIT``, go to the store's own thread (see :meth:`SqlCaptureStore._commit_sqlite` for why).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.db_urls import parse_db_url
from reference_server.capture.rows import BatchRows, build_batch
from reference_server.capture.types import CallRecord, CaptureReceipt, KillSwitchState
from reference_server.db.chain import CHAIN_LOCK_KEY, GENESIS_HASH, timestamp_text
from reference_server.db.engine import create_engine, open_sqlite_writer
from reference_server.db.models import AuditEvent, LedgerEntry, RoutingOutcome
from reference_server.db.models import Price as PriceRow
from reference_server.db.ops import require_head
from reference_server.db.pricing import DEFAULT_PRICES, Price, PriceTable, nusd_to_usd, usd_to_nusd
from reference_server.mutants import mutated

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 512
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


class CaptureError(RuntimeError):
    """A capture could not be committed; the call it belongs to must not claim success."""


class CaptureStoreClosedError(CaptureError):
    """``record()`` on a store that is not running (not started, or closed)."""


@dataclass(eq=False)
class _Pending:
    call: CallRecord
    future: asyncio.Future[CaptureReceipt]
    settled: bool = False
    """Committed or failed for good (the future may be cancelled: the caller went away, not the capture)."""


class SqlCaptureStore:
    """:class:`reference_server.capture.types.CaptureStore` on SQLite or PostgreSQL (see the module
    docstring).

    ``price_table`` maps backend slugs (and ``*`` for any other backend) to prices; when omitted, the
    ``prices`` table is read at :meth:`start` (falling back to the built-in defaults when it is empty).
    """

    def __init__(
        self,
        db_url: str,
        *,
        kill_switch_threshold_usd: float | None = None,
        price_table: Mapping[str, Price] | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        parse_db_url(db_url)  # a bad URL fails here, not on the first call
        if kill_switch_threshold_usd is not None and not (
            math.isfinite(kill_switch_threshold_usd) and kill_switch_threshold_usd >= 0
        ):
            raise ValueError(
                "kill_switch_threshold_usd must be a finite number >= 0, or None for no kill-switch"
            )
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self._db_url = db_url
        self._threshold_usd = kill_switch_threshold_usd
        self._threshold_nusd = (
            None if kill_switch_threshold_usd is None else usd_to_nusd(kill_switch_threshold_usd)
        )
        self._configured_prices = price_table
        self._prices = PriceTable(price_table if price_table is not None else DEFAULT_PRICES)
        self._max_batch = max_batch
        self._engine: AsyncEngine | None = None
        self._write_conn: AsyncConnection | None = None
        """The writer's own connection, held from its first commit to close() (see _writer_connection)."""
        self._sqlite_writer: sqlite3.Connection | None = None
        """On SQLite, the writer's own plain sqlite3 connection instead (see _commit_sqlite)."""
        self._sqlite_thread: ThreadPoolExecutor | None = None
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._in_flight: Sequence[_Pending] = ()
        self._inserts: dict[tuple[str, tuple[str, ...]], _BulkInsert] = {}
        self._accepting = False
        self._spent_nusd = 0

        self.dispatch_without_capture = 0
        """Dispatched calls (any outcome but ``refused``) whose capture finally failed. 0 in a correct
        gateway."""
        self.capture_failures = 0
        """All calls whose capture finally failed, refusals included."""
        self.open_sessions = 0
        """Database connections this store has opened (checked out), ever. A request that must not touch the
        database (a 401 on ``/metrics``) leaves it unchanged."""
        self.batches_committed = 0
        self.records_committed = 0

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, check the schema is at migration head, load prices and spending, start the writer."""
        if self._writer is not None:
            raise RuntimeError("capture store already started")
        self._engine = create_engine(self._db_url)
        try:
            async with self._connect() as conn, conn.begin():
                await require_head(conn)
                if self._configured_prices is None:
                    rows = (
                        await conn.execute(
                            select(
                                PriceRow.backend,
                                PriceRow.input_nusd_per_token,
                                PriceRow.output_nusd_per_token,
                            )
                        )
                    ).all()
                    if rows:
                        swap = mutated("output-priced-as-input")
                        self._prices = PriceTable(
                            {backend: Price(i, i if swap else o) for backend, i, o in rows}
                        )
                spent = (
                    await conn.execute(select(func.coalesce(func.sum(LedgerEntry.amount_nusd), 0)))
                ).scalar()
        except BaseException:
            await self._engine.dispose()
            self._engine = None
            raise
        self._spent_nusd = int(spent or 0)
        self._accepting = True
        self._writer = asyncio.create_task(self._write_loop(), name="capture-writer")

    async def close(self) -> None:
        """Stop accepting records, commit everything already queued, release the database."""
        self._accepting = False
        writer, self._writer = self._writer, None
        try:
            if writer is not None and not writer.done():
                self._queue.put_nowait(None)
                # Shielded: cancelling close() must not abandon records the writer is about to commit.
                await asyncio.shield(writer)
        finally:
            await self._drop_writer_connection()
            await self._drop_sqlite_writer()
            if self._sqlite_thread is not None:
                self._sqlite_thread.shutdown(wait=True)
                self._sqlite_thread = None
            if self._engine is not None:
                await self._engine.dispose()
                self._engine = None

    # -- CaptureStore ----------------------------------------------------------------------------------------

    async def kill_switch(self) -> KillSwitchState:
        """Engaged once committed spending >= the threshold. Answered from memory: no database round trip."""
        return self.kill_switch_state()

    def kill_switch_state(self) -> KillSwitchState:
        if self._threshold_nusd is None:
            return KillSwitchState(False, nusd_to_usd(self._spent_nusd), self._threshold_usd)
        if mutated("kill-switch-strict-compare"):
            engaged = self._spent_nusd > self._threshold_nusd
        else:
            engaged = self._spent_nusd >= self._threshold_nusd
        return KillSwitchState(engaged, nusd_to_usd(self._spent_nusd), self._threshold_usd)

    async def record(self, call: CallRecord) -> CaptureReceipt:
        """Queue the call's capture and return once the transaction holding it committed.

        Raises :class:`CaptureError` when the capture could not be committed (the database error is its
        ``__cause__``); cancelling the caller does not cancel the capture.
        """
        if not self._accepting or self._writer is None or self._writer.done():
            self._count_failure(call)
            raise CaptureStoreClosedError("the capture store is not running; the call was not captured")
        future: asyncio.Future[CaptureReceipt] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(call, future))
        return await future

    async def audit_events(self, request_id: str) -> list[dict[str, Any]]:
        """The call's audit events in ``seq`` order: seq, request_id, trace_id, kind, payload (parsed JSON),
        created_at (ISO 8601 UTC), prev_hash, hash."""
        table = AuditEvent.__table__
        async with self._connect() as conn:
            query = select(table).order_by(table.c.seq)
            if not mutated("audit-url-unfiltered"):
                query = query.where(table.c.request_id == request_id)
            result = await conn.execute(query)
            rows = result.mappings().all()
        return [
            {
                "seq": row["seq"],
                "request_id": row["request_id"],
                "trace_id": row["trace_id"],
                "kind": row["kind"],
                "payload": json.loads(row["payload"]),
                "created_at": timestamp_text(row["created_at"]),
                "prev_hash": row["prev_hash"],
                "hash": row["hash"],
            }
            for row in rows
        ]

    # -- for /metrics ----------------------------------------------------------------------------------------

    async def metrics_snapshot(self) -> tuple[int, float | None]:
        """(chain height = max(seq), 0 when empty; newest event's created_at in epoch seconds, or None). Reads
        only those two aggregates."""
        async with self._connect() as conn:
            row = (
                await conn.execute(select(func.max(AuditEvent.seq), func.max(AuditEvent.created_at)))
            ).one()
        height, newest = row
        if newest is None:
            return int(height or 0), None
        aware = newest.replace(tzinfo=UTC) if newest.tzinfo is None else newest
        return int(height or 0), aware.timestamp()

    @property
    def spent_usd(self) -> float:
        return nusd_to_usd(self._spent_nusd)

    @property
    def threshold_usd(self) -> float | None:
        return self._threshold_usd

    # -- the writer ------------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for a read (the writer keeps its own: :meth:`_writer_connection`)."""
        if self._engine is None:
            raise CaptureStoreClosedError("the capture store is not running")
        self.open_sessions += 1
        async with self._engine.connect() as conn:
            yield conn

    async def _write_loop(self) -> None:
        stopping = False
        try:
            while not stopping:
                first = await self._queue.get()
                if first is None:
                    break
                batch = [first]
                # Everything that queued up while the previous commit was in flight joins this one.
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except asyncio.QueueEmpty:
                        break
                    if item is None:
                        stopping = True
                        break
                    batch.append(item)
                await self._write(batch)
        finally:
            # Reached with work left only when the writer was cancelled (event loop shutdown without close()):
            # fail those callers instead of leaving them waiting forever.
            self._accepting = False
            leftover = [p for p in self._in_flight if not p.settled]
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if item is not None:
                    leftover.append(item)
            for pending in leftover:
                self._fail(pending, CaptureStoreClosedError("the capture store stopped before committing"))

    async def _write(self, batch: list[_Pending]) -> None:
        # Not cleared on an exception: if the writer is cancelled mid-commit, _write_loop fails these callers.
        self._in_flight = batch
        try:
            rows = await self._commit([p.call for p in batch])
        except Exception as exc:
            if len(batch) == 1:
                self._fail(batch[0], exc)
            else:
                log.warning(
                    "capture batch of %d failed (%s); retrying each record alone", len(batch), _describe(exc)
                )
                for pending in batch:
                    try:
                        single = await self._commit([pending.call])
                    except Exception as single_exc:
                        self._fail(pending, single_exc)
                    else:
                        self._succeed([pending], single)
        else:
            self._succeed(batch, rows)
        self._in_flight = ()

    async def _writer_connection(self) -> AsyncConnection:
        """The connection every capture transaction runs on (PostgreSQL; SQLite has its own, see
        :meth:`_sqlite_connection`), opened on the first commit and then kept.

        Checking a connection out of the pool for each commit, and the pool's reset when it went back, cost
        more CPU than the batch's rows (about 0.5 ms per commit, measured on SQLite). The writer is one task
        committing one batch at a time, so one connection is all it ever needs. A commit that fails drops it (a
        broken connection is not reused); the next commit opens a fresh one.
        """
        if self._write_conn is None:
            if self._engine is None:
                raise CaptureStoreClosedError("the capture store is not running")
            self.open_sessions += 1
            self._write_conn = await self._engine.connect()
        return self._write_conn

    async def _drop_writer_connection(self) -> None:
        conn, self._write_conn = self._write_conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # already broken: closing it is only tidying up
                log.debug("closing the capture writer's connection failed", exc_info=True)

    async def _commit(self, calls: list[CallRecord]) -> BatchRows:
        """One transaction: take the chain lock, read the heads, insert every row; return after COMMIT."""
        if self._engine is not None and self._engine.dialect.name == "sqlite":
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
        ``COMMIT`` (the fsync). Those run in the store's own thread, one hop each. Reading the heads, building
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
            assert self._engine is not None
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
            self.open_sessions += 1
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

    def _succeed(self, batch: Sequence[_Pending], rows: BatchRows) -> None:
        # The balance read under the chain lock includes other processes' debits: adopt it as the total spent.
        self._spent_nusd = rows.balance_nusd
        self.batches_committed += 1
        self.records_committed += len(batch)
        for pending, receipt in zip(batch, rows.receipts, strict=True):
            pending.settled = True
            if not pending.future.done():  # a cancelled caller: its capture is committed all the same
                pending.future.set_result(receipt)

    def _fail(self, pending: _Pending, exc: BaseException) -> None:
        pending.settled = True
        self._count_failure(pending.call)
        log.error("capture of request %s failed: %s", pending.call.request_id, _describe(exc))
        if not pending.future.done():
            error = (
                exc
                if isinstance(exc, CaptureError)
                else CaptureError(f"capture not committed: {_describe(exc)}")
            )
            if error is not exc:
                error.__cause__ = exc
            pending.future.set_exception(error)

    def _count_failure(self, call: CallRecord) -> None:
        self.capture_failures += 1
        if call.outcome != "refused":
            self.dispatch_without_capture += 1


def _executemany_on(db: sqlite3.Connection) -> Callable[[str, list[tuple[Any, ...]]], Awaitable[Any]]:
    """``db.executemany`` in the shape ``_write_rows`` takes (an awaitable), run right here."""

    async def executemany(sql: str, params: list[tuple[Any, ...]]) -> None:
        db.executemany(sql, params)

    return executemany


def _describe(exc: BaseException) -> str:
    """One line for logs and errors: the exception type and the first line of its message (SQLAlchemy appends
    the statement and a link on further lines)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
