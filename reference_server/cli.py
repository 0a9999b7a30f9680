"""The ``reference-gateway`` command line: the reference gateway and what runs around it.

``serve`` (the gateway), ``upstream`` (the scripted upstream over HTTP), ``db`` and ``audit-verify`` (its
database), ``embedded`` (all of it on a fresh database, for the harness's ``start`` option) and ``selftest`` (the
harness's ``check`` against every mutant of the gateway). It needs the reference gateway's own dependencies, the
``reference`` extra; the harness (``gateway-contracts``) does not. It runs the harness only as a command, never
by importing it.

Every failure a user can cause ends in one line on stderr and a distinct non-zero exit status
(``contracts.exits``, the statuses ``gateway-contracts`` gives for the same failures); never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence

from contracts.exits import EXIT_USAGE, run_command

PROG = "reference-gateway"
SERVER_STACK = ("aiohttp", "alembic", "sqlalchemy", "aiosqlite", "asyncpg")
"""What the ``reference`` extra installs and the harness alone does not have (uvloop is optional: ``serve``
falls back to asyncio's own loop without it)."""
INSTALL_HINT = "pip install 'gateway-contracts[reference]'"


def missing_stack() -> list[str]:
    return [name for name in SERVER_STACK if importlib.util.find_spec(name) is None]


def parser() -> argparse.ArgumentParser:
    from reference_server.commands import db, embedded, selftest, serve, upstream

    p = argparse.ArgumentParser(
        prog=PROG, description="The reference gateway of the gateway-contracts harness."
    )
    sub = p.add_subparsers(dest="command", required=True)
    for command in (serve, upstream, db, embedded, selftest):
        command.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    missing = missing_stack()
    if missing:
        print(
            f"{PROG}: the reference gateway's dependencies are not installed ({', '.join(missing)}): "
            f"{INSTALL_HINT}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    args = parser().parse_args(argv)
    return run_command(PROG, args.run, args)


if __name__ == "__main__":
    sys.exit(main())
