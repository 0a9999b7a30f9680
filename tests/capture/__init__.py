"""Tests of the §16 capture: migrations, the capture store and the audit chain, on SQLite and PostgreSQL."""
