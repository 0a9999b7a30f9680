"""Harness errors: one line for the user, a distinct exit status per kind of failure, never a traceback."""

from __future__ import annotations

EXIT_FAILED = 1
"""A contract clause at MUST level failed (or a verification found a problem)."""
EXIT_USAGE = 2
"""Bad arguments: a malformed URL, an unknown profile, a file that cannot be read."""
EXIT_UNREACHABLE = 3
"""The target gateway cannot be reached, or it hangs past the per-request timeout."""
EXIT_DATABASE = 4
"""The database URL is unreachable or the database is not in the expected shape."""
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
    """Drop a password from a URL before printing it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
