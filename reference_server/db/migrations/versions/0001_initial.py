"""Initial schema: the routing backends table, as the legacy gateway had it.

Its ``aa_index_source`` default is the legacy literal ``aamc_v1_lock``; revision 0002 rewrites it.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_backends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False, server_default="voter"),
        sa.Column("aa_index_source", sa.String(64), nullable=False, server_default="aamc_v1_lock"),
        sa.Column("supports_tools", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_backends")),
        sa.UniqueConstraint("slug", name=op.f("uq_routing_backends_slug")),
    )


def downgrade() -> None:
    op.drop_table("routing_backends")
