"""PostgreSQL for tests: a database of their own, created on the server at ``GATEWAY_CONTRACTS_PG_URL`` and
dropped afterwards.

The server URL defaults to ``postgresql://postgres@127.0.0.1:5432/postgres``; it is only used to create and
drop databases (``CREATE DATABASE`` / ``DROP DATABASE ... WITH (FORCE)``), never written to otherwise. When it
cannot be reached (refused, timed out, bad credentials) the tests that need it are **skipped** with the reason,
except when the ``CI`` environment variable is set (to anything but ``0``/``false``/``no``): then they **fail**,
because CI must run them.

Fixtures (any test package gets them with one line in its ``conftest.py``)::

    from tests.support.postgres import pg_database, pg_fresh_url, pg_url  # noqa: F401 (pytest fixtures)

- ``pg_database`` (module scope): a database created for the test module, dropped after its last test.
- ``pg_url``: that module database with an emptied ``public`` schema, so every test starts from nothing
  (cheap: no database is created per test).
- ``pg_fresh_url``: a brand-new database for this one test, dropped after it (for tests that need a
  database no one else has touched, schema and all).

(``pytest_plugins = ["tests.support.postgres"]`` does *not* work from a package's conftest: pytest refuses
``pytest_plugins`` outside the top-level conftest when the whole suite is collected.)

Tests that use these fixtures should carry ``@pytest.mark.postgres``.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

PG_URL_ENV = "GATEWAY_CONTRACTS_PG_URL"
PG_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT_S = 10.0
STATEMENT_TIMEOUT_S = 60.0
"""An administrative statement blocked longer than this (say, by a connection a test leaked) fails instead of
hanging the suite."""

T = TypeVar("T")

__all__ = [
    "PG_DEFAULT_URL",
    "PG_URL_ENV",
    "admin",
    "asyncpg_dsn",
    "ci",
    "fresh_database",
    "pg_base_url",
    "pg_database",
    "pg_fresh_url",
    "pg_url",
    "reset_schema",
    "run_sync",
]


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from synchronous code on a private loop (never touching pytest-asyncio's loop)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def ci() -> bool:
    """Whether we run under CI (``CI`` set to anything but empty, ``0``, ``false`` or ``no``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pg_base_url() -> str:
    """The administrative server URL: ``GATEWAY_CONTRACTS_PG_URL`` or the loopback default."""
    return os.environ.get(PG_URL_ENV, PG_DEFAULT_URL)


def asyncpg_dsn(url: str) -> str:
    """A URL asyncpg accepts (``postgresql://``), from any PostgreSQL URL the gateway accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin(url: str, statement: str) -> None:
    """Run one administrative statement (or several, ``;``-separated, no parameters) on ``url``."""
    conn = await asyncpg.connect(
        asyncpg_dsn(url), timeout=CONNECT_TIMEOUT_S, command_timeout=STATEMENT_TIMEOUT_S
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _database_name(label: str) -> str:
    """``gc_<label>_<random>``: recognisable in ``\\l`` when a run is interrupted, unique, <= 63 bytes."""
    clean = re.sub(r"[^a-z0-9_]", "_", label.lower())[:24].strip("_") or "test"
    return f"gc_{clean}_{uuid.uuid4().hex[:10]}"


def _unreachable(base: str, exc: BaseException) -> NoReturn:
    """Skip (or, under CI, fail) the requesting test because PostgreSQL cannot be used."""
    where = make_url(base).render_as_string(hide_password=True)
    reason = f"PostgreSQL at {where} unreachable: {type(exc).__name__}: {exc}"
    if ci():
        pytest.fail(f"{reason} (CI is set: PostgreSQL tests must run, not skip)")
    pytest.skip(f"{reason}; start it or set {PG_URL_ENV} (under CI this fails instead)")


@contextmanager
def fresh_database(label: str) -> Iterator[str]:
    """Create a new database, yield its URL (``postgresql://...``), drop it afterwards (open connections
    are terminated). Skips, or fails under CI, when the server cannot be reached."""
    base = pg_base_url()
    name = _database_name(label)
    try:
        run_sync(admin(base, f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # refused, timed out, bad credentials: all mean "no usable PostgreSQL here"
        _unreachable(base, exc)
    try:
        yield make_url(base).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        run_sync(admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def reset_schema(url: str) -> None:
    """Empty the database at ``url``: drop and recreate its ``public`` schema (tables, triggers, functions)."""
    run_sync(admin(url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


def _module_label(request: pytest.FixtureRequest) -> str:
    return str(request.module.__name__).rsplit(".", 1)[-1].removeprefix("test_")


@pytest.fixture(scope="module")
def pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database created for this test module and dropped after it; yields its URL."""
    with fresh_database(_module_label(request)) as url:
        yield url


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The module's PostgreSQL database with an empty ``public`` schema: every test starts from nothing."""
    reset_schema(pg_database)
    return pg_database


@pytest.fixture
def pg_fresh_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped after it."""
    with fresh_database(f"{_module_label(request)}_{request.node.name}") as url:
        yield url
