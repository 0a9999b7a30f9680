"""Fixtures: a fresh database per test on SQLite (a file in tmp_path) and on PostgreSQL (one database per test
module, its schema reset for each test: ``tests.support.postgres``), migrated and seeded on request, and a
running capture store.

PostgreSQL is found at ``GATEWAY_CONTRACTS_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
When it cannot be reached the PostgreSQL tests are skipped with the reason, except under ``CI``, where they
fail: CI must run them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from reference_server.capture.store import SqlCaptureStore
from reference_server.db import ops
from tests.capture.support import Sql, run_sync
from tests.support.postgres import pg_database, pg_fresh_url, pg_url  # noqa: F401 (pytest fixtures)


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """An empty database: a new SQLite file, or the module's PostgreSQL database with a fresh schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'capture.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """``db_url`` upgraded to migration head and seeded."""

    async def prepare() -> None:
        await ops.upgrade(db_url)
        await ops.seed(db_url)

    run_sync(prepare())
    return db_url


@pytest.fixture
async def store(migrated_url: str) -> AsyncIterator[SqlCaptureStore]:
    capture = SqlCaptureStore(migrated_url)
    await capture.start()
    try:
        yield capture
    finally:
        await capture.close()


@pytest.fixture
def sql(db_url: str) -> Sql:
    return Sql(db_url)
