"""Tampering with the audit chain behind the gateway's back, as an attacker with database rights would: drop the
append-only triggers, then change, delete or insert rows with raw SQL. Shared by the verifier tests and the
``audit-verify`` CLI tests.

Each entry of :data:`TAMPERINGS` expects a chain of :data:`CALLS` calls (seq 1..2*CALLS) and names the seq the
verifier must report first and the kind of damage.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from reference_server.db.chain import event_hash
from tests.capture.support import Sql

CALLS = 5  # -> 10 audit events, seq 1..10


async def drop_protections(sql: Sql) -> None:
    """What an attacker with owner rights does first: remove the append-only triggers."""
    if sql.backend == "postgresql":
        await sql.execute(
            "DROP TRIGGER audit_events_append_only ON audit_events",
            "DROP TRIGGER audit_events_no_truncate ON audit_events",
        )
    else:
        await sql.execute("DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete")


async def row(sql: Sql, seq: int) -> dict[str, Any]:
    """One audit row as raw SQL returns it, with created_at as a datetime (SQLite hands back text)."""
    found = (await sql.rows("SELECT * FROM audit_events WHERE seq = :s", s=seq))[0]
    found["created_at_raw"] = found["created_at"]  # for writing back in the database's own format
    if isinstance(found["created_at"], str):
        found["created_at"] = datetime.fromisoformat(found["created_at"])
    return found


async def change_payload(sql: Sql) -> None:
    await sql.execute(
        "UPDATE audit_events SET payload = replace(payload, 'anthropic', 'mistral') WHERE seq = 4"
    )


async def change_and_rehash(sql: Sql) -> None:
    """A careful attacker recomputes the changed row's hash (there is no secret key)."""
    target = await row(sql, 4)
    payload = str(target["payload"]).replace("anthropic", "mistral")
    keep = ("seq", "request_id", "trace_id", "kind", "created_at", "prev_hash")
    fields: dict[str, Any] = {k: target[k] for k in keep}
    digest = event_hash(payload=payload, **fields)
    await sql.execute("UPDATE audit_events SET payload = :p, hash = :h WHERE seq = 4", p=payload, h=digest)


async def delete_middle(sql: Sql) -> None:
    await sql.execute("DELETE FROM audit_events WHERE seq = 5")


async def delete_last(sql: Sql) -> None:
    await sql.execute(f"DELETE FROM audit_events WHERE seq = {2 * CALLS}")


async def insert_middle(sql: Sql) -> None:
    """Make room at seq 6 (moving later rows up, in two steps so no seq collides) and splice in a forged row
    that links properly to seq 5 and hashes correctly."""
    prev = await row(sql, 5)
    await sql.execute(
        "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 6",
        "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000",
    )
    await forge(sql, 6, prev)


async def insert_at_end(sql: Sql) -> None:
    prev = await row(sql, 2 * CALLS)
    await forge(sql, 2 * CALLS + 1, prev)


async def forge(sql: Sql, seq: int, prev: dict[str, Any]) -> None:
    """Insert a forged event at ``seq`` linked to ``prev`` with a correct hash (timestamps copied from it)."""
    fields: dict[str, Any] = {
        "seq": seq,
        "request_id": "req_forged",
        "trace_id": "0" * 32,
        "kind": "router",
        "payload": '{"model":"ainfera-inference"}',
        "created_at": prev["created_at"],
        "prev_hash": prev["hash"],
    }
    await sql.execute(
        "INSERT INTO audit_events (seq, request_id, trace_id, kind, payload, created_at, prev_hash, hash) "
        "VALUES (:seq, :request_id, :trace_id, :kind, :payload, :created_at, :prev_hash, :hash)",
        **{**fields, "created_at": prev["created_at_raw"], "hash": event_hash(**fields)},
    )


TAMPERINGS: dict[str, tuple[Callable[[Sql], Awaitable[None]], int, str]] = {
    "change a row": (change_payload, 4, "changed"),
    "change a row and re-hash it": (change_and_rehash, 4, "changed"),
    "delete a row": (delete_middle, 5, "removed"),
    "delete the last row": (delete_last, 2 * CALLS, "removed"),
    "insert a forged, linked row": (insert_middle, 6, "inserted"),
    "append a forged row": (insert_at_end, 2 * CALLS + 1, "inserted"),
}
