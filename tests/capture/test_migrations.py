"""Migrations on both databases: the aa_index_source rename, seeding, round trips, models matching head."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from reference_server.capture.store import SqlCaptureStore
from reference_server.db import ops
from reference_server.db.anchors import ANCHORS
from reference_server.db.models import Base
from tests.capture.support import Sql, make_call

LEGACY = "aamc_v1_lock"
CURRENT = "routing_backend_v1_lock"
INSERT = "INSERT INTO routing_backends"
ANCHOR_SLUGS = sorted(a.slug for a in ANCHORS)


async def legacy_count(sql: Sql) -> int:
    """Rows carrying ``aamc`` in aa_index_source, case-insensitively (ILIKE where the database has it)."""
    like = "ILIKE '%aamc%'" if sql.backend == "postgresql" else "LIKE '%aamc%'"  # SQLite LIKE ignores case
    return int(await sql.scalar(f"SELECT count(*) AS n FROM routing_backends WHERE aa_index_source {like}"))


async def anchors(sql: Sql) -> list[dict[str, object]]:
    return await sql.rows(
        "SELECT slug, role, aa_index_source FROM routing_backends WHERE slug IN "
        "('anthropic', 'openai', 'mistral', 'groq', 'together') ORDER BY slug"
    )


def test_the_history_has_the_rename_as_its_own_revision() -> None:
    """The revision history is initial -> rename of aa_index_source -> capture tables -> append-only
    triggers -> the audit hash no longer unique."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(ops.alembic_config())
    history = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert history == [
        "0001_initial",
        "0002_rename_aa_index_source",
        "0003_capture_tables",
        "0004_audit_append_only",
        "0005_audit_hash_not_unique",
    ]
    assert ops.head_revision() == "0005_audit_hash_not_unique"


async def test_legacy_rows_are_rewritten_by_the_upgrade(db_url: str, sql: Sql) -> None:
    """A database at the initial revision holding legacy 'aamc_v1_lock' rows (explicit and by column default)
    has none left after upgrading to head; other values are untouched and seeding keeps the anchors
    current."""
    await ops.upgrade(db_url, "0001_initial")
    await sql.execute(
        f"{INSERT} (slug, display_name, aa_index_source) VALUES ('anthropic', 'A', :legacy)",
        f"{INSERT} (slug, display_name, aa_index_source) VALUES ('openai', 'O', :shout)",
        f"{INSERT} (slug, display_name) VALUES ('mistral', 'M')",
        f"{INSERT} (slug, display_name, aa_index_source) VALUES ('custom', 'C', 'manual')",
        legacy=LEGACY,
        shout=" AAMC_V1_LOCK ",
    )
    assert await sql.scalar("SELECT aa_index_source FROM routing_backends WHERE slug = 'mistral'") == LEGACY
    assert await legacy_count(sql) == 3

    await ops.upgrade(db_url)
    assert await legacy_count(sql) == 0
    assert await sql.scalar("SELECT aa_index_source FROM routing_backends WHERE slug = 'custom'") == "manual"

    await ops.seed(db_url)
    assert await legacy_count(sql) == 0
    assert [row["slug"] for row in await anchors(sql)] == ANCHOR_SLUGS
    assert {row["aa_index_source"] for row in await anchors(sql)} == {CURRENT}


async def test_the_column_default_is_the_new_literal_at_head(db_url: str, sql: Sql) -> None:
    """After the rename, a row inserted without aa_index_source gets the new literal, not the legacy one."""
    await ops.upgrade(db_url)
    await sql.execute("INSERT INTO routing_backends (slug, display_name) VALUES ('late', 'Late')")
    assert await sql.scalar("SELECT aa_index_source FROM routing_backends WHERE slug = 'late'") == CURRENT


async def test_a_clean_database_upgraded_and_seeded_has_the_five_anchors(db_url: str, sql: Sql) -> None:
    """Upgrade + seed on an empty database gives the five anchor voters with the new literal; seeding again
    inserts nothing (idempotent)."""
    await ops.upgrade(db_url)
    first = await ops.seed(db_url)
    assert first.backends_inserted == 5
    assert first.prices_inserted >= 5
    second = await ops.seed(db_url)
    assert (second.backends_inserted, second.prices_inserted) == (0, 0)
    expected = [{"slug": slug, "role": "voter", "aa_index_source": CURRENT} for slug in ANCHOR_SLUGS]
    assert await anchors(sql) == expected
    assert await sql.count("routing_backends") == 5
    assert await legacy_count(sql) == 0


async def test_downgrade_and_upgrade_round_trip(db_url: str, sql: Sql) -> None:
    """Head -> base removes every table; base -> head -> seed restores the same schema and anchors; a
    downgrade to the initial revision writes the legacy literal back, and upgrading removes it again."""
    await ops.upgrade(db_url)
    await ops.seed(db_url)
    await ops.downgrade(db_url, "0001_initial")
    assert {row["aa_index_source"] for row in await anchors(sql)} == {LEGACY}
    await ops.upgrade(db_url)
    assert await legacy_count(sql) == 0

    await ops.downgrade(db_url, "base")
    assert await ops.current_revision(db_url) is None
    assert await user_tables(sql) == {"alembic_version"}

    await ops.upgrade(db_url)
    await ops.seed(db_url)
    assert await ops.current_revision(db_url) == ops.head_revision()
    assert [row["slug"] for row in await anchors(sql)] == ANCHOR_SLUGS
    assert await legacy_count(sql) == 0
    assert (await ops.verify_audit_chain(db_url)).ok


async def user_tables(sql: Sql) -> set[str]:
    if sql.backend == "postgresql":
        rows = await sql.rows("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'")
    else:
        rows = await sql.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    return {str(row["name"]) for row in rows}


async def test_models_match_the_schema_at_head(db_url: str) -> None:
    """Alembic autogenerate finds no difference between the models and a database migrated to head."""
    await ops.upgrade(db_url)

    def diff(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    assert await ops.run_with_connection(db_url, diff, lock=False) == []


async def test_concurrent_upgrades_serialise_on_the_migration_lock(db_url: str) -> None:
    """Two gateways starting at once both upgrade the same empty database: neither fails, the schema is at
    head."""
    await asyncio.gather(ops.upgrade(db_url), ops.upgrade(db_url))
    assert await ops.current_revision(db_url) == ops.head_revision()


async def test_seed_refuses_a_database_not_at_head(db_url: str) -> None:
    """Seeding before migrating fails with a message saying to run the upgrade, instead of a missing table."""
    await ops.upgrade(db_url, "0002_rename_aa_index_source")
    with pytest.raises(ops.SchemaNotCurrentError, match="db upgrade"):
        await ops.seed(db_url)


async def test_the_audit_chain_and_its_protections_survive_the_hash_constraint_migration(
    db_url: str, sql: Sql
) -> None:
    """CAP-006, CAP-007: 0005 drops the unique constraint on audit_events.hash, which on SQLite rebuilds the
    table. A chain captured at head is unchanged after a downgrade to 0004 (which puts the constraint back) and
    after upgrading through 0005 again; UPDATE and DELETE stay refused at every step (each rebuild recreates
    the append-only triggers); at head the constraint is gone, the schema (indexes included) matches the
    models, and the chain verifies."""
    await ops.upgrade(db_url)
    store = SqlCaptureStore(db_url)
    await store.start()
    try:
        for _ in range(3):
            await store.record(make_call())
    finally:
        await store.close()

    chain = await sql.rows("SELECT * FROM audit_events ORDER BY seq")
    assert len(chain) == 6

    async def intact_and_protected() -> None:
        assert await sql.rows("SELECT * FROM audit_events ORDER BY seq") == chain
        for statement in ("UPDATE audit_events SET kind = 'x' WHERE seq = 1", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                await sql.execute(statement)

    await intact_and_protected()
    assert not await hash_is_unique(sql)
    await ops.downgrade(db_url, "0004_audit_append_only")
    await intact_and_protected()
    assert await hash_is_unique(sql)
    await ops.upgrade(db_url)
    await intact_and_protected()
    assert not await hash_is_unique(sql)
    report = await ops.verify_audit_chain(db_url)
    assert report.ok and report.count == 6, report.message

    def diff(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    assert await ops.run_with_connection(db_url, diff, lock=False) == []


async def hash_is_unique(sql: Sql) -> bool:
    """Whether a unique constraint (or unique index) covers exactly audit_events.hash."""
    if sql.backend == "postgresql":
        rows = await sql.rows(
            "SELECT count(*) AS n FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) "
            "WHERE t.relname = 'audit_events' AND i.indisunique AND i.indnatts = 1 AND a.attname = 'hash'"
        )
        return int(rows[0]["n"]) > 0
    indexes = await sql.rows("SELECT name FROM pragma_index_list('audit_events') WHERE \"unique\" = 1")
    for index in indexes:
        columns = await sql.rows(f"SELECT name FROM pragma_index_info('{index['name']}')")
        if [c["name"] for c in columns] == ["hash"]:
            return True
    return False
