"""The gateway's database: URLs, schema (SQLAlchemy models), Alembic migrations, seeding and chain
verification.

One schema serves SQLite (the embedded default) and PostgreSQL; every schema change is an Alembic revision
under ``migrations/versions`` and is applied with :func:`reference_server.db.ops.upgrade`.
"""
