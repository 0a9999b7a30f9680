"""Rename the aa_index_source literal: ``aamc_v1_lock`` becomes ``routing_backend_v1_lock``.

A row rewrite (every legacy row, matched case- and whitespace-insensitively) plus the column default, so rows
inserted later without the column do not bring the legacy literal back. The downgrade reverses both.

Revision ID: 0002_rename_aa_index_source
Revises: 0001_initial
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_rename_aa_index_source"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY = "aamc_v1_lock"
CURRENT = "routing_backend_v1_lock"


def _rewrite(old: str, new: str) -> None:
    op.execute(
        sa.text(
            "UPDATE routing_backends SET aa_index_source = :new WHERE lower(trim(aa_index_source)) = :old"
        ).bindparams(new=new, old=old)
    )
    with op.batch_alter_table("routing_backends") as batch:
        batch.alter_column(
            "aa_index_source", existing_type=sa.String(64), existing_nullable=False, server_default=new
        )


def upgrade() -> None:
    _rewrite(LEGACY, CURRENT)


def downgrade() -> None:
    _rewrite(CURRENT, LEGACY)
