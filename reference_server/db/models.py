"""The gateway schema as SQLAlchemy 2 declarative models.

The models describe the schema at migration head; the database only ever changes through the Alembic revisions
in ``migrations/versions`` (a test checks that head and these models agree).

Money is stored as integer nano-USD (1e-9 USD): sums and the kill-switch comparison are then exact on both
SQLite and PostgreSQL, and a price such as 0.15 USD per million tokens is a whole 150 nano-USD per token.
``*_usd`` float columns repeat the amount for people reading the table; the ``*_nusd`` columns are
authoritative.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints: SQLite batch migrations recreate tables and need names to find constraints again.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

OUTCOMES = ("ok", "upstream_error", "client_cancelled", "refused")
STREAM_MODES = ("none", "native", "wrapped")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RoutingBackend(Base):
    """A backend the router may pick; the five anchors are "voter" rows inserted by ``ops.seed``."""

    __tablename__ = "routing_backends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32), server_default="voter")
    aa_index_source: Mapped[str] = mapped_column(String(64), server_default="routing_backend_v1_lock")
    supports_tools: Mapped[bool] = mapped_column(Boolean, server_default=true())
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("CURRENT_TIMESTAMP")
    )


class Price(Base):
    """Unit prices per backend; ``backend = '*'`` prices any backend without its own row."""

    __tablename__ = "prices"

    backend: Mapped[str] = mapped_column(String(64), primary_key=True)
    input_nusd_per_token: Mapped[int] = mapped_column(BigInteger)
    output_nusd_per_token: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("CURRENT_TIMESTAMP")
    )


class RoutingOutcome(Base):
    """Exactly one row per routed call, written once its outcome is known."""

    __tablename__ = "routing_outcomes"
    __table_args__ = (
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(_in("stream_mode", STREAM_MODES), name="stream_mode"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String, unique=True)
    trace_id: Mapped[str] = mapped_column(String, index=True)
    endpoint: Mapped[str] = mapped_column(String)
    model_requested: Mapped[str] = mapped_column(String)
    model_canonical: Mapped[str] = mapped_column(String)
    backend: Mapped[str] = mapped_column(String)
    outcome: Mapped[str] = mapped_column(String(32))
    stream_mode: Mapped[str] = mapped_column(String(16))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cost_nusd: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    stop_reason: Mapped[str | None] = mapped_column(String)
    error_type: Mapped[str | None] = mapped_column(String)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """The append-only hash chain. ``seq`` is assigned by the writer holding the chain lock (never by a
    sequence: a sequence leaves gaps on rollback, and the chain must have none)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_created_at", "created_at"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    request_id: Mapped[str] = mapped_column(String, index=True)
    trace_id: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    """Canonical JSON text, hashed byte for byte as stored (a JSONB column would re-serialise it)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    # Not unique: seq (the primary key) and the chain itself do that job (migration 0005_audit_hash_not_unique).
    hash: Mapped[str] = mapped_column(String(64))


class LedgerEntry(Base):
    """Exactly one debit per routed call; ``balance_nusd`` is the running total of all debits up to this
    row."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        String, ForeignKey("routing_outcomes.request_id", ondelete="RESTRICT"), unique=True
    )
    trace_id: Mapped[str] = mapped_column(String)
    backend: Mapped[str] = mapped_column(String)
    entry_type: Mapped[str] = mapped_column(String(16), server_default="debit")
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    input_nusd_per_token: Mapped[int] = mapped_column(BigInteger)
    output_nusd_per_token: Mapped[int] = mapped_column(BigInteger)
    amount_nusd: Mapped[int] = mapped_column(BigInteger)
    amount_usd: Mapped[float] = mapped_column(Float)
    balance_nusd: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
