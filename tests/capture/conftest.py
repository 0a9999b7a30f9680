"""Fixtures: a fresh database per test on SQLite (a file in tmp_path) and on PostgreSQL (one database per test
module, its schema reset for each test), migrated and seeded on request, and a running capture store.

PostgreSQL is found at ``GATEWAY_CONTRACTS_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``;
the fixture only uses it to create and drop its own databases). When it cannot be reached the PostgreSQL tests
are skipped with the reason, except under ``CI``, where they fail: CI must run them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from reference_server.capture.store import SqlCaptureStore
from reference_server.db import ops
from tests.capture.support import PG_URL_ENV, Sql, admin, ci, pg_base_url, run_sync


@pytest.fixture(scope="module")
def pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database created for this test module and dropped after it; yields its URL."""
    base = pg_base_url()
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    name = f"gc_{module}_{uuid.uuid4().hex[:10]}"
    try:
        run_sync(admin(base, f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # refused, timed out, bad credentials: all mean "no PostgreSQL here"
        reason = f"PostgreSQL at {make_url(base).render_as_string()} unreachable: {type(exc).__name__}: {exc}"
        if ci():
            pytest.fail(f"{reason} (CI is set: PostgreSQL tests must run, not skip)")
        pytest.skip(f"{reason}; start it or set {PG_URL_ENV} (under CI this fails instead)")
    try:
        yield make_url(base).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        run_sync(admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The module's PostgreSQL database with an empty ``public`` schema: every test starts from nothing."""
    run_sync(admin(pg_database, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return pg_database


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
