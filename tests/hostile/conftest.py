"""Fixtures of the hostile-input corpus: PostgreSQL databases (skipped locally without a server, run in CI)."""

from typing import Any

from tests.support.postgres import pg_database, pg_url  # noqa: F401 (pytest fixtures)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The corpus' counts per database, in every run's summary (CI logs included), not only under ``-s``."""
    from tests.hostile.runner import SUMMARIES

    for line in SUMMARIES:
        terminalreporter.write_line(line)
