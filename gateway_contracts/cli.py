"""The ``gateway-contracts`` command line.

Every failure a user can cause (a bad URL, an unreachable database or gateway, a port in use) ends in one line on
stderr naming what went wrong and what to do, and a distinct non-zero exit status (``gateway_contracts.errors``);
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from typing import NoReturn

from contracts.exits import run_command
from gateway_contracts import __version__
from gateway_contracts.commands import batch, check, fuzz, report, scrub, sse_lint

COMMANDS = [check, fuzz, report, scrub, sse_lint, batch]
"""The harness's commands. The reference gateway's (serve, upstream, db, audit-verify, embedded, selftest) are
``reference-gateway``'s: the harness checks a gateway, it does not run one."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gateway-contracts", description="The contract harness for LLM inference gateways."
    )
    p.add_argument("--version", action="version", version=f"gateway-contracts {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return run_command("gateway-contracts", args.run, args)


def entry() -> NoReturn:
    """The console script: ``main``, then an exit that skips the interpreter's teardown. By then every report is
    written and flushed and every process the command started is stopped; what is left is freeing each loaded
    module's objects one by one (0.2-0.3 s after a check, a tenth of a short run)."""
    code = main()
    with suppress(OSError, ValueError):  # a closed pipe (`... | head`) is not an error of the command
        sys.stdout.flush()
    with suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
