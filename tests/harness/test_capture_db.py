"""The harness's read access to a gateway's database (``gateway_contracts.capture.db``), on SQLite: rows as
dicts, a write the database refuses reported and always rolled back, a bad database one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway_contracts.capture.db import CaptureDB, DatabaseError


@pytest.fixture()
def protected(tmp_path: Path) -> str:
    path = tmp_path / "gateway.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, request_id TEXT, kind TEXT);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
            BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
        INSERT INTO audit_events (request_id, kind) VALUES ('req_a', 'router'), ('req_a', 'outcome');
        """
    )
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_rows_come_back_as_dicts(protected: str) -> None:
    db = CaptureDB(protected)
    rows = db.query("SELECT * FROM audit_events WHERE request_id = :r ORDER BY seq", r="req_a")
    assert rows == [
        {"seq": 1, "request_id": "req_a", "kind": "router"},
        {"seq": 2, "request_id": "req_a", "kind": "outcome"},
    ]
    assert db.scalar("SELECT count(*) FROM audit_events") == 2


def test_a_refused_write_is_reported_and_an_accepted_one_undone(protected: str) -> None:
    db = CaptureDB(protected)
    refusal = db.refused_in_rollback("UPDATE audit_events SET kind = kind")
    assert refusal is not None and "append-only" in refusal
    assert (
        db.refused_in_rollback("DELETE FROM audit_events") is None
    )  # no trigger: accepted, then rolled back
    assert db.scalar("SELECT count(*) FROM audit_events") == 2


def test_a_database_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError) as err:
        CaptureDB(f"sqlite:///{tmp_path / 'missing' / 'gateway.sqlite3'}").ping()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:x/db", "postgresql://u:p@[::1/x"])
def test_a_url_that_cannot_be_parsed_is_one_line(url: str) -> None:
    # Refused by the URL rules both sides share (contracts.db_urls) before any driver sees it: a one-line
    # DatabaseError, which check and fuzz turn into exit 4, never a traceback.
    with pytest.raises(DatabaseError) as err:
        CaptureDB(url).ping()
    assert "\n" not in str(err.value)
    assert str(err.value)
