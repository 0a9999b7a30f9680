"""Fixtures of the hostile-input corpus: PostgreSQL databases (skipped locally without a server, run in CI)."""

from tests.support.postgres import pg_database, pg_url  # noqa: F401 (pytest fixtures)
