"""Database URLs: what users write, what the async drivers get, and clear errors for the rest."""

from __future__ import annotations

import pytest

from contracts.db_urls import DatabaseURLError, backend_of, redacted, to_async_url


@pytest.mark.parametrize(
    ("user_url", "driver_url"),
    [
        ("sqlite:///gateway.db", "sqlite+aiosqlite:///gateway.db"),
        ("sqlite:////var/lib/gw/gateway.db", "sqlite+aiosqlite:////var/lib/gw/gateway.db"),
        ("sqlite+aiosqlite:///gateway.db", "sqlite+aiosqlite:///gateway.db"),
        ("postgresql://postgres@127.0.0.1:5432/test", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
        ("postgres://u:pw@db.internal/gw", "postgresql+asyncpg://u:pw@db.internal/gw"),
        ("postgresql+asyncpg://u@h/gw", "postgresql+asyncpg://u@h/gw"),
    ],
)
def test_user_urls_map_to_async_drivers(user_url: str, driver_url: str) -> None:
    """Each accepted user URL becomes the async driver URL (the password is kept for the driver)."""
    assert to_async_url(user_url) == driver_url


@pytest.mark.parametrize(
    ("bad_url", "says"),
    [
        ("", "empty"),
        ("not a url", "not a database URL"),
        ("mysql://u@h/db", "unsupported database scheme 'mysql'"),
        ("sqlite://", "without a file path"),
        ("sqlite:///:memory:", "in-memory SQLite is not supported"),
        ("postgresql://u@h", "without a database name"),
    ],
)
def test_unusable_urls_raise_a_clear_database_url_error(bad_url: str, says: str) -> None:
    """Anything else is refused up front with a DatabaseURLError saying what is wrong and what is accepted."""
    with pytest.raises(DatabaseURLError, match=says) as info:
        to_async_url(bad_url)
    assert isinstance(info.value, ValueError)


def test_errors_and_redaction_never_echo_a_password() -> None:
    """A password in a URL never reaches an error message or a redacted rendering."""
    with pytest.raises(DatabaseURLError) as info:
        to_async_url("mysql://user:hunter2@h/db")
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in redacted("postgresql://user:hunter2@h/db")


def test_backend_of_names_the_database_kind() -> None:
    """backend_of tells SQLite from PostgreSQL for every accepted spelling."""
    assert backend_of("sqlite:///x.db") == "sqlite"
    assert backend_of("postgres://u@h/db") == "postgresql"
