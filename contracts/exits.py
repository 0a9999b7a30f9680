"""Command-line errors: one line for the user, a distinct exit status per kind of failure, never a traceback.

Shared by both command lines, ``gateway-contracts`` (the harness) and ``reference-gateway``, so that a status
means the same on either side: ``check --db-url`` and ``reference-gateway audit-verify --db-url`` both give 4 for a
database they cannot read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import Any, NoReturn

EXIT_FAILED = 1
"""A contract clause at MUST level failed (or a verification found a problem)."""
EXIT_USAGE = 2
"""Bad arguments: a malformed URL, an unknown profile, a file that cannot be read."""
EXIT_UNREACHABLE = 3
"""The target gateway cannot be reached, or it hangs past the per-request timeout."""
EXIT_DATABASE = 4
"""The database URL is unreachable or the database is not in the expected shape."""
DB_URL_STATUSES = "exit 4 when the database URL is malformed or the database cannot be reached or read"
"""For the help of every command that takes ``--db-url``: the rule of ``contracts.db_urls``, in one phrase."""
EXIT_BAD_LOG = 5
"""The log file is missing or not JSON lines."""
EXIT_REFUSED = 6
"""The gateway refused the harness's set-up (its key, model or headers): no clause verdict can be drawn."""


class CliError(Exception):
    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def redact_url(url: str) -> str:
    """Drop a password from a URL before printing it; control characters come out escaped (one line). Never
    raises: in a URL that cannot be parsed (``http://[::1``, a port out of range) everything between ``//`` and
    ``@`` is masked."""
    import re
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = f"{parts.username}:***@{parts.netloc.rpartition('@')[2]}"
            url = urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        url = re.sub(r"//[^/?#]*@", "//***@", url)
    return url.translate(_CONTROL)


_CONTROL = {i: f"\\x{i:02x}" for i in range(0x20)} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x7F: "\\x7f"}
_CONTROL |= {0x85: "\\x85", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def printable(text: object, limit: int = 200) -> str:
    """``text`` fit for a one-line message: control characters (and the Unicode line separators) escaped, at
    most ``limit`` characters, an ellipsis if cut. For names that come from the user: paths, URLs."""
    shown = str(text)[: limit + 1].translate(_CONTROL)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def run_command(prog: str, run: Callable[[Any], int], args: Any) -> int:
    """Run a parsed subcommand: its status, or one line ``prog: message`` on stderr and the error's status (130 on
    Ctrl-C); never a traceback for a failure the user can cause."""
    try:
        return int(run(args))
    except CliError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): what it did not read is not an error of this command. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def exit_after(run: Callable[[], int]) -> NoReturn:
    """For a forked child that runs a command: its status, or 1 with the traceback of whatever escaped (a usage
    error's ``SystemExit`` keeps its code), then an exit that flushes its output and never returns into the loop
    of the process it was forked from."""
    code = 1
    try:
        code = run()
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
