"""The database commands as a user runs them: ``reference-gateway audit-verify`` and ``serve`` on a database it
cannot use, each as a real subprocess, on SQLite and PostgreSQL.

``audit-verify`` exits 0 on an intact chain; after tampering behind the gateway's back it exits 1 with one
line naming the first bad seq and the kind of damage; on a database it cannot verify (not at migration head,
no such SQLite file) it prints one line on stderr and exits 4, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from contracts.exits import EXIT_DATABASE, EXIT_FAILED
from reference_server.capture.store import SqlCaptureStore
from reference_server.db import ops
from tests.capture.gateway_support import run_cli
from tests.capture.support import Sql, make_call
from tests.capture.tampering import CALLS, TAMPERINGS, drop_protections

PREVIOUS_REVISION = "0003_capture_tables"


@pytest.fixture
async def chain(store: SqlCaptureStore, sql: Sql) -> Sql:
    """A database holding a valid chain of CALLS calls (seq 1..2*CALLS)."""
    for i in range(CALLS):
        await store.record(make_call(f"req_cli{i}"))
    return sql


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def assert_no_traceback(*outputs: str) -> None:
    for output in outputs:
        assert "Traceback (most recent call last)" not in output, output


async def test_audit_verify_exits_0_on_an_intact_chain(chain: Sql) -> None:
    """On an intact chain the CLI exits 0 and prints one line saying how many events it checked."""
    status, out, err = await run_cli("audit-verify", "--db-url", chain.url)
    assert (status, err) == (0, ""), (out, err)
    assert one_line(out) == (
        f"audit chain intact: {2 * CALLS} events (seq 1..{2 * CALLS}), every captured call's events present"
    )


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
async def test_audit_verify_exits_1_naming_the_first_bad_seq_and_the_kind(chain: Sql, tampering: str) -> None:
    """After an attacker drops the append-only triggers and changes, deletes or inserts an audit row, the CLI
    exits 1 and its one output line names the first bad seq and the kind (changed / removed / inserted)."""
    tamper, seq, kind = TAMPERINGS[tampering]
    await drop_protections(chain)
    await tamper(chain)
    status, out, err = await run_cli("audit-verify", "--db-url", chain.url)
    assert status == EXIT_FAILED, (out, err)
    line = one_line(out)
    assert line.startswith(f"audit chain broken at seq {seq}: {kind}: "), line
    assert_no_traceback(out, err)


@pytest.mark.parametrize("revision", [None, PREVIOUS_REVISION], ids=["empty database", "previous revision"])
async def test_audit_verify_on_a_database_not_at_head_is_a_one_line_error(
    db_url: str, revision: str | None
) -> None:
    """On a database with no schema, or one a revision behind head, the CLI exits 4 with one stderr line saying
    it is not at migration head and how to upgrade; nothing on stdout, no traceback."""
    if db_url.startswith("sqlite:///"):
        await asyncio.to_thread(Path(db_url.removeprefix("sqlite:///")).touch)  # an empty SQLite database
    if revision is not None:
        await ops.upgrade(db_url, revision)
    status, out, err = await run_cli("audit-verify", "--db-url", db_url)
    assert (status, out) == (EXIT_DATABASE, ""), (out, err)
    line = one_line(err)
    assert line.startswith("reference-gateway: cannot verify the audit chain on "), line
    assert "not at migration head" in line
    assert f"schema is at {revision or 'no revision'}" in line
    assert "reference-gateway db upgrade --db-url" in line
    assert_no_traceback(err)


async def test_audit_verify_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    """A mistyped SQLite path is a one-line error (exit 4), and no empty database file appears there."""
    missing = tmp_path / "no-such.sqlite3"
    status, out, err = await run_cli("audit-verify", "--db-url", f"sqlite:///{missing}")
    assert (status, out) == (EXIT_DATABASE, ""), (out, err)
    assert (
        one_line(err) == f"reference-gateway: no SQLite database file at {missing}: check the --db-url path"
    )
    assert not missing.exists()


async def test_serve_on_an_unreachable_postgres_exits_with_one_line() -> None:
    """``serve`` on a PostgreSQL server that refuses connections exits 4 (database) with exactly one line for
    the human on stderr, naming the database and the failure, and no printed traceback. The gateway's own
    structured log lines (BRIEF §5: one JSON object per line, on stderr) may precede it; every other line
    must be such an object."""
    url = "postgresql://nobody@127.0.0.1:1/x"
    status, out, err = await run_cli("serve", "--db-url", url, "--port", "0", limit_s=60.0)
    assert status == EXIT_DATABASE, (out, err)
    assert "listening on" not in out
    human = [line for line in err.splitlines() if not _is_json_object(line)]
    assert len(human) == 1, err
    assert re.match(rf"^reference-gateway: cannot start: database {re.escape(url)}: \w+", human[0]), human
    assert "check that the server is up" in human[0]
    assert not any(line.startswith(("Traceback", "  File ")) for line in err.splitlines()), err


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
