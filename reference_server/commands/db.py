"""``reference-gateway db upgrade|seed`` and ``reference-gateway audit-verify``.

Exit statuses: 0 done (an intact chain); 1 the audit chain is broken (``audit-verify``); 2 the command line
itself is wrong (an option missing); 4 anything wrong with the database ``--db-url`` names, from a URL that
cannot be parsed to a database that cannot be reached, read or migrated. ``check`` and ``fuzz`` give 4 for the
same (see ``contracts.db_urls``). Each failure is one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from contracts.exits import DB_URL_STATUSES, EXIT_DATABASE, EXIT_FAILED, CliError, first_line, redact_url


def register(sub: Any) -> None:
    db: argparse.ArgumentParser = sub.add_parser(
        "db",
        help="migrate or seed a gateway database",
        description="Migrate (upgrade) or seed a gateway database. Exit 0 when done; "
        + DB_URL_STATUSES
        + ".",
    )
    db.add_argument("action", choices=["upgrade", "seed"])
    db.add_argument("--db-url", required=True, help="sqlite:///path/to/file.db or postgresql://user@host/db")
    db.set_defaults(run=run_db)

    verify: argparse.ArgumentParser = sub.add_parser(
        "audit-verify",
        help="verify the audit hash chain",
        description="Verify the audit hash chain. Exit 0 when it is intact, 1 when it is not (one line naming "
        "the first bad seq); " + DB_URL_STATUSES + " (an SQLite file that does not exist, a database not at "
        "migration head).",
    )
    verify.add_argument(
        "--db-url", required=True, help="sqlite:///path/to/file.db or postgresql://user@host/db"
    )
    verify.set_defaults(run=run_verify)


def run_db(args: argparse.Namespace) -> int:
    from contracts.db_urls import checked_db_url
    from reference_server.db import ops

    url = checked_db_url(args.db_url)
    _refuse_special_file(url)
    try:
        asyncio.run(ops.upgrade(url) if args.action == "upgrade" else ops.seed(url))
    except Exception as exc:
        raise CliError(
            f"{args.action} failed on {redact_url(url)}: {first_line(exc)}", EXIT_DATABASE
        ) from None
    print(f"reference-gateway: db {args.action} done on {redact_url(url)}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Exit 0 on an intact chain, 1 with one line naming the first bad seq and what is wrong, 4 (one line on
    stderr) when the database cannot be read: a malformed URL, unreachable, no such SQLite file, or not at
    migration head."""
    from contracts.db_urls import checked_db_url
    from reference_server.db import ops

    url = checked_db_url(args.db_url)
    _require_sqlite_file(url)
    try:
        result = asyncio.run(ops.verify_audit_chain(url))
    except ops.SchemaNotCurrentError as exc:
        raise CliError(
            f"cannot verify the audit chain on {redact_url(url)}: not at migration head: {first_line(exc)}",
            EXIT_DATABASE,
        ) from None
    except Exception as exc:
        raise CliError(
            f"cannot read the audit chain on {redact_url(url)}: {first_line(exc)}", EXIT_DATABASE
        ) from None
    print(result.message)
    return 0 if result.ok else EXIT_FAILED


def _sqlite_path(url: str) -> Path | None:
    """The file an SQLite URL names (``None`` for another backend, or an SQLite URI filename: SQLite's to read)."""
    from contracts.db_urls import backend_of, parse_db_url

    if backend_of(url) != "sqlite":
        return None
    database = parse_db_url(url).database or ""
    return None if database.startswith("file:") or not database else Path(database)


def _refuse_special_file(url: str) -> None:
    """An SQLite path that exists must be a regular file: on a FIFO or a device SQLite reads without end, or
    fails in its driver's thread after the command has given up."""
    path = _sqlite_path(url)
    if path is not None and path.exists() and not path.is_file():
        raise CliError(f"{path} is not a regular file: check the --db-url path", EXIT_DATABASE)


def _require_sqlite_file(url: str) -> None:
    """Verifying reads an existing database: SQLite would silently create an empty file for a mistyped path."""
    path = _sqlite_path(url)
    if path is not None and not path.is_file():
        raise CliError(f"no SQLite database file at {path}: check the --db-url path", EXIT_DATABASE)
