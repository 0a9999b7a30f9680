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

**The chain and the rows.** Each batch is one transaction of
:class:`~reference_server.capture.batch_commit.BatchCommitter`, which takes the chain lock, reads the heads under
it and inserts the rows below the ORM (its module docstring says how and why).

**Ledger and kill-switch.** Debits follow :mod:`reference_server.db.pricing`: a dispatched call (``ok``,
``upstream_error``, ``client_cancelled``) debits the usage it consumed (input x input price + output x output
price; 0 when no tokens were reported); a ``refused`` call debits 0. Each ledger row carries the running
balance; the writer reads the balance head under the chain lock, so the total it caches after each commit
includes every process's debits. Spending starts as ``SUM(amount_nusd)`` when the store starts;
``kill_switch()`` answers from memory (no database round trip before a dispatch) and is engaged once spending
>= the threshold.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.db_urls import parse_db_url
from reference_server.capture.batch_commit import BatchCommitter
from reference_server.capture.rows import BatchRows
from reference_server.capture.types import CallRecord, CaptureReceipt, KillSwitchState
from reference_server.db.chain import timestamp_text
from reference_server.db.engine import create_engine
from reference_server.db.models import AuditEvent, LedgerEntry
from reference_server.db.models import Price as PriceRow
from reference_server.db.ops import require_head
from reference_server.db.pricing import DEFAULT_PRICES, Price, PriceTable, nusd_to_usd, usd_to_nusd
from reference_server.mutants import mutated

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 512


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
        self._committer: BatchCommitter | None = None
        """Commits each batch, on the writer's own connection (from start() to close())."""
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._in_flight: Sequence[_Pending] = ()
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
        self._committer = BatchCommitter(self._engine, self._db_url, self._prices, self._count_open)
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
            committer, self._committer = self._committer, None
            if committer is not None:
                await committer.close()
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
        """A pooled connection for a read (the writer's commits keep their own: :class:`BatchCommitter`)."""
        if self._engine is None:
            raise CaptureStoreClosedError("the capture store is not running")
        self._count_open()
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

    async def _commit(self, calls: list[CallRecord]) -> BatchRows:
        if self._committer is None:
            raise CaptureStoreClosedError("the capture store is not running")
        return await self._committer.commit(calls)

    def _count_open(self) -> None:
        self.open_sessions += 1

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


def _describe(exc: BaseException) -> str:
    """One line for logs and errors: the exception type and the first line of its message (SQLAlchemy appends
    the statement and a link on further lines)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
