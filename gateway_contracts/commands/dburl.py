"""Validate a user-supplied database URL up front, with a one-line error.

One rule for every command that takes ``--db-url`` (``check``, ``fuzz``, ``audit-verify``, ``db``): anything wrong
with the database it names is exit 4 (``EXIT_DATABASE``), whether the URL cannot be parsed (empty, garbage, an
unsupported scheme, no database name) or the database cannot be reached or read. Exit 2 (``EXIT_USAGE``) is left
to the command line itself: an option missing or misspelt.
"""

from __future__ import annotations

from gateway_contracts.errors import EXIT_DATABASE, CliError, first_line

DB_URL_STATUSES = "exit 4 when the database URL is malformed or the database cannot be reached or read"
"""For the commands' help: the rule above, in one phrase."""
ACCEPTED = "use sqlite:///path/to/file.db or postgresql://user[:password]@host[:port]/dbname"


def checked_db_url(url: str) -> str:
    """``url`` unchanged if the gateway can use it, else ``CliError`` with ``EXIT_DATABASE``. The message never
    repeats the URL (it may carry a password)."""
    from reference_server.db.urls import DatabaseURLError, to_async_url

    try:
        to_async_url(url)
    except DatabaseURLError as exc:
        raise CliError(first_line(exc), EXIT_DATABASE) from None
    except (
        ValueError
    ) as exc:  # raised by the URL parser itself: a port that is not a number, a bracket left open
        raise CliError(f"not a database URL ({first_line(exc)}): {ACCEPTED}", EXIT_DATABASE) from None
    return url
