"""Alembic environment.

``reference_server.db.ops`` runs migrations programmatically: it opens the connection itself (taking the
migration lock) and hands it over in ``config.attributes["connection"]``. Started from the ``alembic`` command
line instead (``alembic -c reference_server/db/alembic.ini -x db_url=... upgrade head``), this module goes
through ``ops`` too, so both paths take the same lock and the same transaction.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from reference_server.db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _url_from_cli() -> str:
    url = context.get_x_argument(as_dictionary=True).get("db_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database URL: alembic -x db_url=sqlite:///gateway.db ...")
    return url


def run_migrations_offline() -> None:
    from contracts.db_urls import to_async_url

    context.configure(url=to_async_url(_url_from_cli()), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from reference_server.db import ops

    asyncio.run(ops.run_with_connection(_url_from_cli(), _run))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
