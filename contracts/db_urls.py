"""User-facing database URLs and the async driver URLs SQLAlchemy needs, for both sides: the reference gateway
(its capture store, migrations and ``audit-verify``) and the harness (reading a target's capture tables).

Users write the URLs they know (``sqlite:///gateway.db``, ``postgresql://user@host:5432/db``); both run on
asyncio, so each maps to its async driver (``sqlite+aiosqlite``, ``postgresql+asyncpg``). Anything else is
refused up front with a :class:`DatabaseURLError` rather than failing later inside a driver with a less useful
message.

One rule for every command that takes ``--db-url`` (``check``, ``fuzz``, ``audit-verify``, ``db``):
:func:`checked_db_url` makes anything wrong with the database it names exit 4 (``EXIT_DATABASE``), whether the
URL cannot be parsed (empty, garbage, an unsupported scheme, no database name) or the database cannot be reached
or read. Exit 2 (``EXIT_USAGE``) is left to the command line itself: an option missing or misspelt.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from contracts.exits import EXIT_DATABASE, CliError, first_line

Backend = Literal["sqlite", "postgresql"]

_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}
_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg"}


class DatabaseURLError(ValueError):
    """A database URL the gateway cannot use; the message says what was wrong and what is accepted."""


_ACCEPTED = "use sqlite:///path/to/file.db or postgresql://user[:password]@host[:port]/dbname"


def parse_db_url(db_url: str) -> URL:
    """Parse and normalise a user database URL into the async-driver SQLAlchemy URL.

    Raises :class:`DatabaseURLError` for empty strings, unknown schemes, SQLite without a file path, in-memory
    SQLite, and PostgreSQL without a database name.
    """
    if not db_url or not db_url.strip():
        raise DatabaseURLError(f"empty database URL: {_ACCEPTED}")
    try:
        url = make_url(db_url.strip())
    except ArgumentError as exc:
        # Never echo the raw string: it may carry a password.
        raise DatabaseURLError(f"not a database URL: {_ACCEPTED}") from exc
    scheme = url.drivername
    if scheme in _SQLITE_SCHEMES:
        return _sqlite(url)
    if scheme in _POSTGRES_SCHEMES:
        return _postgres(url)
    raise DatabaseURLError(f"unsupported database scheme {scheme!r}: {_ACCEPTED}")


def _sqlite(url: URL) -> URL:
    database = url.database or ""
    if not database:
        raise DatabaseURLError(f"SQLite URL without a file path: {_ACCEPTED}")
    if database == ":memory:" or "mode=memory" in database or url.query.get("mode") == "memory":
        # The gateway, the migrations and the verifier each open their own connections; an in-memory database
        # would be a different, empty database for each of them, and the capture would vanish on exit.
        raise DatabaseURLError(
            "in-memory SQLite is not supported: the capture must outlive a connection; "
            "use a file, e.g. sqlite:///gateway.db"
        )
    return url.set(drivername="sqlite+aiosqlite")


def _postgres(url: URL) -> URL:
    if not url.database:
        raise DatabaseURLError(f"PostgreSQL URL without a database name: {_ACCEPTED}")
    return url.set(drivername="postgresql+asyncpg")


def to_async_url(db_url: str) -> str:
    """The async-driver URL as a string (password kept: it is handed to the driver, never logged)."""
    return parse_db_url(db_url).render_as_string(hide_password=False)


def backend_of(db_url: str) -> Backend:
    """``"sqlite"`` or ``"postgresql"`` for a URL :func:`parse_db_url` accepts."""
    return "sqlite" if parse_db_url(db_url).drivername.startswith("sqlite") else "postgresql"


def redacted(db_url: str) -> str:
    """The URL with any password masked, for log lines and error messages."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def checked_db_url(url: str) -> str:
    """``url`` unchanged if it names a database either side can use, else ``CliError`` with ``EXIT_DATABASE``.
    The message never repeats the URL (it may carry a password)."""
    try:
        to_async_url(url)
    except DatabaseURLError as exc:
        raise CliError(first_line(exc), EXIT_DATABASE) from None
    except (
        ValueError
    ) as exc:  # raised by the URL parser itself: a port that is not a number, a bracket left open
        raise CliError(f"not a database URL ({first_line(exc)}): {_ACCEPTED}", EXIT_DATABASE) from None
    return url
