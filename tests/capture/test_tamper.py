"""The audit chain against tampering, on both databases.

While the append-only triggers are in place the database itself refuses UPDATE and DELETE. An attacker with
database rights drops the triggers first; then the verifier must name the first bad seq and what was done.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from reference_server.capture.store import SqlCaptureStore
from reference_server.db import ops
from tests.capture.support import Sql, make_call
from tests.capture.tampering import CALLS, TAMPERINGS, drop_protections


@pytest.fixture
async def chain(store: SqlCaptureStore, sql: Sql) -> Sql:
    """A database holding a valid chain of CALLS calls (2 events each)."""
    for i in range(CALLS):
        await store.record(make_call(f"req_t{i}"))
    assert (await ops.verify_audit_chain(sql.url)).ok
    return sql


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET payload = '{}' WHERE seq = 3",
        "UPDATE audit_events SET seq = seq + 100",
        "DELETE FROM audit_events WHERE seq = 3",
        "DELETE FROM audit_events",
    ],
)
async def test_the_database_refuses_update_and_delete(chain: Sql, statement: str) -> None:
    """With the migrations' triggers in place, UPDATE and DELETE on audit_events fail in the database and
    change nothing."""
    with pytest.raises(DBAPIError, match="append-only"):
        await chain.execute(statement)
    assert await chain.count("audit_events") == 2 * CALLS
    assert (await ops.verify_audit_chain(chain.url)).ok


@pytest.mark.postgres
async def test_postgres_refuses_truncate_too(pg_url: str) -> None:
    """On PostgreSQL, TRUNCATE (which skips row triggers) is refused by a statement trigger."""
    await ops.upgrade(pg_url)
    with pytest.raises(DBAPIError, match="append-only"):
        await Sql(pg_url).execute("TRUNCATE audit_events")


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
async def test_verify_names_the_first_bad_seq_and_the_kind(chain: Sql, tampering: str) -> None:
    """After dropping the triggers and changing, deleting or inserting one audit row with raw SQL, the
    verifier fails, naming the tampered seq and the kind (changed / removed / inserted) in one line."""
    tamper, seq, kind = TAMPERINGS[tampering]
    await drop_protections(chain)
    await tamper(chain)
    result = await ops.verify_audit_chain(chain.url)
    assert not result.ok
    assert (result.first_bad_seq, result.kind) == (seq, kind), result.message
    assert f"seq {seq}" in result.message
    assert kind in result.message
    assert "\n" not in result.message
