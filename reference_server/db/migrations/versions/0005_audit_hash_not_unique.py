"""Drop the unique constraint on ``audit_events.hash``: it guarded nothing the chain does not, at a real cost.

Nothing in the chain depends on it. ``seq`` is the primary key, so two writers can never extend the same head
(no fork), and every row's hash covers its content and the previous hash, so ``audit-verify`` names a
duplicated, changed, removed or inserted row whatever the constraints are; an attacker who can write the table
behind the gateway's back can drop a constraint too. Its cost was a unique index on random 64-digit keys: every
captured call inserted two entries at random places in it, dirtying two pages of their own per call for the WAL
and the checkpoint to copy. ``python -m benchmarks.capture_store`` measures the capture path (docs/benchmarks.md).

On SQLite a constraint can only go with the table, so the table is rebuilt (Alembic's batch mode: copy, drop,
rename), its indexes with it; dropping the table drops its append-only triggers, which are created again here.
The copy takes time and disk in proportion to the table, once, on the first ``serve`` (or ``db upgrade``) of an
existing SQLite database.

Revision ID: 0005_audit_hash_not_unique
Revises: 0004_audit_append_only
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_audit_hash_not_unique"
down_revision: str | Sequence[str] | None = "0004_audit_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONSTRAINT = "uq_audit_events_hash"
# The triggers of 0004_audit_append_only, as it creates them on SQLite: copied, not imported, because a migration
# must say the same thing forever, whatever later happens to another revision's file.
_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END
    """,
)


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    if not _sqlite():
        op.drop_constraint(_CONSTRAINT, "audit_events", type_="unique")
        return
    with op.batch_alter_table("audit_events", recreate="always") as batch:
        batch.drop_constraint(_CONSTRAINT, type_="unique")
    for statement in _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if not _sqlite():
        op.create_unique_constraint(_CONSTRAINT, "audit_events", ["hash"])
        return
    with op.batch_alter_table("audit_events", recreate="always") as batch:
        batch.create_unique_constraint(_CONSTRAINT, ["hash"])
    for statement in _SQLITE_TRIGGERS:
        op.execute(statement)
