"""Database operations the gateway and the CLI run: migrate, seed, verify the audit chain.

Migrations run programmatically (no ``alembic.ini`` needed) in one transaction that first takes a migration
lock: PostgreSQL's transaction-level advisory lock, SQLite's write lock (``BEGIN IMMEDIATE``). Two gateways
starting on one database therefore migrate one after the other, and the second finds nothing left to do. A
failing revision rolls back as a whole on both databases (DDL is transactional in both once we emit BEGIN
ourselves).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import NullPool

from contracts.db_urls import backend_of
from reference_server.db.anchors import AA_INDEX_SOURCE, ANCHORS
from reference_server.db.chain import (
    MIGRATION_LOCK_KEY,
    ChainRow,
    ChainWalker,
    VerifyResult,
    result_of,
)
from reference_server.db.engine import BEGIN_IMMEDIATE, create_engine
from reference_server.db.models import AuditEvent, Price, RoutingBackend, RoutingOutcome
from reference_server.db.pricing import DEFAULT_PRICES
from reference_server.mutants import mutated

__all__ = [
    "SchemaNotCurrentError",
    "SeedResult",
    "VerifyResult",
    "current_revision",
    "downgrade",
    "head_revision",
    "seed",
    "upgrade",
    "verify_audit_chain",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

T = TypeVar("T")


class SchemaNotCurrentError(RuntimeError):
    """The database is not at migration head (run ``reference-gateway db upgrade --db-url URL``)."""


@dataclass(frozen=True)
class SeedResult:
    backends_inserted: int
    prices_inserted: int


def alembic_config() -> Config:
    """The Alembic configuration, built in code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its revisions
        raise RuntimeError("no migration revisions found")
    return head


async def run_with_connection(db_url: str, work: Callable[[Connection], T], *, lock: bool = True) -> T:
    """Run ``work`` on a sync-facing connection inside one transaction holding the migration lock."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(**{BEGIN_IMMEDIATE: lock})
            async with conn.begin():
                if lock and conn.dialect.name == "postgresql":
                    await conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
                return await conn.run_sync(work)
    finally:
        await engine.dispose()


def _alembic(action: Callable[[Config], None]) -> Callable[[Connection], None]:
    def work(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        action(config)

    return work


async def upgrade(db_url: str, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (``head`` by default)."""
    await run_with_connection(db_url, _alembic(lambda config: command.upgrade(config, revision)))


async def downgrade(db_url: str, revision: str) -> None:
    """Migrate the database down to ``revision`` (``base`` removes every table the migrations created)."""
    await run_with_connection(db_url, _alembic(lambda config: command.downgrade(config, revision)))


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(db_url: str) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    return await run_with_connection(db_url, _current, lock=False)


async def require_head(conn: AsyncConnection) -> None:
    """Raise :class:`SchemaNotCurrentError` unless the database on ``conn`` is at migration head."""
    current = await conn.run_sync(_current)
    head = head_revision()
    if current != head:
        raise SchemaNotCurrentError(
            f"database schema is at {current or 'no revision'}, the gateway needs {head}: "
            "run `reference-gateway db upgrade --db-url URL` first"
        )


async def seed(db_url: str) -> SeedResult:
    """Insert the five anchor voters (``aa_index_source = 'routing_backend_v1_lock'``) and the default prices.

    Idempotent: rows that already exist (by slug, by backend) are left as they are.
    """
    postgres = backend_of(db_url) == "postgresql"
    insert = pg_insert if postgres else sqlite_insert
    engine = create_engine(db_url, poolclass=NullPool)
    backends = prices = 0
    try:
        async with engine.connect() as conn:
            await conn.execution_options(**{BEGIN_IMMEDIATE: True})
            async with conn.begin():
                await require_head(conn)
                source = "aamc_v1_lock" if mutated("anchors-legacy-literal") else AA_INDEX_SOURCE
                for anchor in ANCHORS:
                    result = await conn.execute(
                        insert(RoutingBackend)
                        .values(
                            slug=anchor.slug,
                            display_name=anchor.display_name,
                            role="voter",
                            aa_index_source=source,
                            supports_tools=anchor.supports_tools,
                            enabled=True,
                        )
                        .on_conflict_do_nothing(index_elements=["slug"])
                    )
                    backends += result.rowcount
                for backend, price in DEFAULT_PRICES.items():
                    result = await conn.execute(
                        insert(Price)
                        .values(
                            backend=backend,
                            input_nusd_per_token=price.input_nusd_per_token,
                            output_nusd_per_token=price.output_nusd_per_token,
                        )
                        .on_conflict_do_nothing(index_elements=["backend"])
                    )
                    prices += result.rowcount
    finally:
        await engine.dispose()
    return SeedResult(backends_inserted=backends, prices_inserted=prices)


async def verify_audit_chain(db_url: str) -> VerifyResult:
    """Walk the whole audit chain and cross-check it against ``routing_outcomes``; read-only.

    Reads one consistent snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite), so it can
    run while gateways keep writing. See :class:`reference_server.db.chain.ChainWalker` for what it detects.
    """
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            async with conn.begin():
                await require_head(conn)
                captured = set((await conn.execute(select(RoutingOutcome.request_id))).scalars())
                walker = ChainWalker(captured)
                rows = await conn.stream(
                    select(
                        AuditEvent.seq,
                        AuditEvent.request_id,
                        AuditEvent.trace_id,
                        AuditEvent.kind,
                        AuditEvent.payload,
                        AuditEvent.created_at,
                        AuditEvent.prev_hash,
                        AuditEvent.hash,
                    )
                    .order_by(AuditEvent.seq)
                    .execution_options(yield_per=2000)
                )
                async for row in rows:
                    walker.feed(ChainRow(*row))
                finding = walker.finish()
    finally:
        await engine.dispose()
    return result_of(walker, finding)


async def count_legacy_sources(db_url: str) -> int:
    """How many routing_backends rows still carry ``aamc`` in ``aa_index_source`` (must be 0 at head)."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            stmt = text("SELECT count(*) FROM routing_backends WHERE lower(aa_index_source) LIKE '%aamc%'")
            return int((await conn.execute(stmt)).scalar_one())
    finally:
        await engine.dispose()
