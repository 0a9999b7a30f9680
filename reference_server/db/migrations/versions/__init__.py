"""Alembic revisions, oldest first: 0001 initial, 0002 rename of aa_index_source, 0003 capture, 0004
append-only."""
