"""Alembic environment and revisions of the gateway schema (run programmatically by
``reference_server.db.ops``)."""
