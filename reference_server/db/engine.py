"""Engine construction with the transaction behaviour the capture relies on.

SQLite: Python's sqlite3 driver (under aiosqlite) by default neither emits BEGIN before SELECT nor before DDL,
so reads are not snapshots and migrations are not atomic. We switch the driver's own transaction control off
and emit BEGIN ourselves (SQLAlchemy's documented recipe). A connection with the execution option
``sqlite_begin_immediate`` begins with ``BEGIN IMMEDIATE``: it takes SQLite's single write lock up front, so
the chain head it reads cannot change before it commits (also across processes sharing the file).

WAL lets readers (``/metrics``, the verifier) run while the writer commits; ``synchronous=FULL`` makes a
commit durable before it returns, which is what lets a response claim its capture is safe. Group commit (see
``reference_server.capture.store``) is what keeps that affordable.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from contracts.db_urls import parse_db_url

SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite connection waits for another process's write lock before giving up."""

BEGIN_IMMEDIATE = "sqlite_begin_immediate"
"""Execution option: begin this connection's transactions with BEGIN IMMEDIATE (SQLite; ignored elsewhere)."""


def create_engine(db_url: str, **kwargs: Any) -> AsyncEngine:
    """An :class:`AsyncEngine` for a user database URL (see :mod:`contracts.db_urls`)."""
    url = parse_db_url(db_url)
    # Error messages (which end up in logs) never carry row values: they hold request ids, model strings, ...
    kwargs.setdefault("hide_parameters", True)
    if url.drivername.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **kwargs)
        _install_sqlite_transaction_control(engine)
        return engine
    return create_async_engine(url, **kwargs)


def configure_sqlite_connection(dbapi_connection: Any) -> None:
    """What every SQLite connection of the gateway runs with: BEGIN taken away from the driver (the caller emits
    it), WAL, ``synchronous=FULL`` (a commit is durable when it returns), foreign keys enforced."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def open_sqlite_writer(db_url: str) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection to the database of ``db_url`` with the engine's settings, usable from
    more than one thread (one at a time): the capture writer's (see ``reference_server.capture.batch_commit``)."""
    url = parse_db_url(db_url)
    if not url.drivername.startswith("sqlite") or not url.database:
        raise ValueError("open_sqlite_writer needs a SQLite database file URL")
    connection = sqlite3.connect(url.database, timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False)
    try:
        configure_sqlite_connection(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _install_sqlite_transaction_control(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the driver; _on_begin below emits it.
        configure_sqlite_connection(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = bool(conn.get_execution_options().get(BEGIN_IMMEDIATE, False))
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _enable_wal(cursor: Any) -> None:
    """Switch the database file to WAL (a persistent property of the file, so usually already done).

    Switching needs an exclusive lock and SQLite answers "database is locked" at once, without waiting, when
    another connection is doing the same (two gateways starting on a fresh file). That connection's switch
    is enough; this one carries on: WAL only lets readers run beside the writer, correctness never needs it.
    """
    cursor.execute("PRAGMA journal_mode")
    row = cursor.fetchone()
    if row is not None and str(row[0]).lower() == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception as exc:
        if "locked" not in str(exc).lower():
            raise
