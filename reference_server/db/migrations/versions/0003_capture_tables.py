"""The §16 capture tables: prices, routing_outcomes, audit_events, ledger_entries.

Revision ID: 0003_capture_tables
Revises: 0002_rename_aa_index_source
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_capture_tables"
down_revision: str | Sequence[str] | None = "0002_rename_aa_index_source"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "prices",
        sa.Column("backend", sa.String(64), nullable=False),
        sa.Column("input_nusd_per_token", sa.BigInteger(), nullable=False),
        sa.Column("output_nusd_per_token", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        sa.PrimaryKeyConstraint("backend", name=op.f("pk_prices")),
    )
    op.create_table(
        "routing_outcomes",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("trace_id", sa.String(), nullable=False),
        sa.Column("endpoint", sa.String(), nullable=False),
        sa.Column("model_requested", sa.String(), nullable=False),
        sa.Column("model_canonical", sa.String(), nullable=False),
        sa.Column("backend", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("stream_mode", sa.String(16), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_nusd", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("stop_reason", sa.String(), nullable=True),
        sa.Column("error_type", sa.String(), nullable=True),
        _ts("started_at"),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_outcomes")),
        sa.UniqueConstraint("request_id", name=op.f("uq_routing_outcomes_request_id")),
        sa.CheckConstraint(
            "outcome IN ('ok', 'upstream_error', 'client_cancelled', 'refused')",
            name=op.f("ck_routing_outcomes_outcome"),
        ),
        sa.CheckConstraint(
            "stream_mode IN ('none', 'native', 'wrapped')", name=op.f("ck_routing_outcomes_stream_mode")
        ),
    )
    op.create_index(op.f("ix_routing_outcomes_trace_id"), "routing_outcomes", ["trace_id"])
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("trace_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    op.create_index(op.f("ix_audit_events_request_id"), "audit_events", ["request_id"])
    op.create_index(op.f("ix_audit_events_created_at"), "audit_events", ["created_at"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("trace_id", sa.String(), nullable=False),
        sa.Column("backend", sa.String(), nullable=False),
        sa.Column("entry_type", sa.String(16), nullable=False, server_default="debit"),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("input_nusd_per_token", sa.BigInteger(), nullable=False),
        sa.Column("output_nusd_per_token", sa.BigInteger(), nullable=False),
        sa.Column("amount_nusd", sa.BigInteger(), nullable=False),
        sa.Column("amount_usd", sa.Float(), nullable=False),
        sa.Column("balance_nusd", sa.BigInteger(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("request_id", name=op.f("uq_ledger_entries_request_id")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["routing_outcomes.request_id"],
            name=op.f("fk_ledger_entries_request_id_routing_outcomes"),
            ondelete="RESTRICT",
        ),
    )


def downgrade() -> None:
    op.drop_table("ledger_entries")
    op.drop_index(op.f("ix_audit_events_created_at"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_request_id"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_routing_outcomes_trace_id"), table_name="routing_outcomes")
    op.drop_table("routing_outcomes")
    op.drop_table("prices")
