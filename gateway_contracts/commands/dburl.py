"""Validate a user-supplied database URL up front, with a one-line error."""

from __future__ import annotations

from gateway_contracts.errors import EXIT_USAGE, CliError


def checked_db_url(url: str) -> str:
    from reference_server.db.urls import DatabaseURLError, to_async_url

    try:
        to_async_url(url)
    except DatabaseURLError as exc:
        raise CliError(f"{exc}", EXIT_USAGE) from None
    return url
