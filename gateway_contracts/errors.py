"""The harness's errors: one line for the user, a distinct exit status per kind of failure, never a traceback.

They are defined once, in ``contracts.exits``, because the reference gateway's command line (``reference-gateway``)
gives the same statuses for the same failures; the harness's modules import them from here.
"""

from __future__ import annotations

from contracts.exits import (
    EXIT_BAD_LOG,
    EXIT_DATABASE,
    EXIT_FAILED,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    CliError,
    first_line,
    printable,
    redact_url,
)

__all__ = [
    "EXIT_BAD_LOG",
    "EXIT_DATABASE",
    "EXIT_FAILED",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "CliError",
    "first_line",
    "printable",
    "redact_url",
]
