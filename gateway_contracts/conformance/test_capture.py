"""The capture invariant over the gateway's database (BRIEF §3, §1).

CAP-001 to CAP-005 (the capture profile) hold for any gateway whose database the target maps onto the invariant
(``[capture.queries]``; the seed's tables by default). The audit chain, the router payload, the price table, the
anchor rows, the kill-switch and the audit URL are the seed's (the ``ainfera`` profile).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest

from gateway_contracts.capture.db import CaptureDB
from gateway_contracts.capture.invariants import CallRows, call_rows, chain_problems, poll, wait_for_capture
from gateway_contracts.conformance.client import Exchanges, http_client
from gateway_contracts.conformance.concurrent import mixed_calls
from gateway_contracts.conformance.envelopes import assert_error
from gateway_contracts.conformance.requests import AINFERA, SCRIPT, SCRIPTED
from gateway_contracts.failures import Blocked, ClauseFailure
from gateway_contracts.target import Target
from gateway_contracts.target.tls import tls

pytestmark = pytest.mark.needs("db", "request-id", "surface:messages")


def captured(
    gw: Exchanges, db: CaptureDB, r: httpx.Response, by_invariant: bool = False, needs_capture: bool = False
) -> CallRows:
    """The rows of a call whose response completed. Read once, never polled: the capture must be committed
    before a response claims success (a 200 body, or a stream's terminal event). A missing row fails the
    calling test's own clause, unless ``by_invariant`` (the row's own invariant, CAP-001/002/003, fails) or
    ``needs_capture`` (the test is about something the rows say, and without them it is blocked by the
    invariant)."""
    rows = call_rows(db, gw.request_id(r))
    problems = rows.clause_problems()
    if problems and (by_invariant or needs_capture):
        clause, message = problems[0]
        detail = "; ".join(m for _c, m in problems[1:])
        if by_invariant:
            raise ClauseFailure(clause, message, detail)
        raise Blocked(clause, message, detail)
    assert not problems, "; ".join(m for _c, m in problems)
    return rows


def ordinary_call_captured(gw: Exchanges, db: CaptureDB, stream: bool) -> None:
    """A test of capture on some harder path (a failure, concurrency) first checks that an ordinary call of the
    same mode is captured: if not, the fault is the basic invariant's (CAP-001/002/003), and the harder path's
    clause is blocked by it, not failed."""
    r = gw.post("/v1/messages", gw.message(stream=stream))
    if r.status_code == 200:
        captured(gw, db, r, needs_capture=True)


@pytest.mark.clause("CAP-001", "CAP-002", "CAP-003")
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "route",
    [
        "/v1/messages",
        pytest.param("/v1/chat/completions", marks=pytest.mark.needs("surface:chat-completions")),
    ],
)
def test_ok_call_captured_once(gw: Exchanges, db: CaptureDB, stream: bool, route: str) -> None:
    body: dict[str, Any] = gw.chat(stream=stream) if "chat" in route else gw.message(stream=stream)
    r = gw.post(route, body)
    assert r.status_code == 200
    rows = captured(gw, db, r, by_invariant=True)
    if not db.mapped:  # the seed's schema names the outcome; a mapped one need not have the column
        assert rows.outcome == "ok"


@pytest.mark.clause("CAP-003")
@pytest.mark.needs("scripted-upstream")
@pytest.mark.parametrize("stream", [False, True])
def test_debit_written_when_nothing_consumed(gw: Exchanges, db: CaptureDB, stream: bool) -> None:
    # The upstream fails before its first byte: no token was consumed, and the call still has its one debit (of
    # 0). A gateway that skips zero debits breaks the one-debit-per-call rule on exactly these calls.
    ordinary_call_captured(gw, db, stream)
    r = gw.post("/v1/messages", gw.message(stream=stream), {SCRIPT: "error=529"})
    rows = captured(gw, db, r)
    assert [int(row["amount_nusd"]) for row in rows.ledger] == [0], rows.ledger


@pytest.mark.clause("CAP-004")
@pytest.mark.needs("scripted-upstream")
@pytest.mark.parametrize(
    ("directive", "stream", "status"),
    [
        ("error=529", False, 529),
        ("error=500", True, 500),
        ("text_tokens=30; chunk=2; drop_after=3", True, 200),
    ],
    ids=["error-before-first-byte", "stream-error-before-first-byte", "drop-mid-stream"],
)
def test_failure_paths_captured_once(
    gw: Exchanges, db: CaptureDB, directive: str, stream: bool, status: int
) -> None:
    ordinary_call_captured(gw, db, stream)
    r = gw.post("/v1/messages", gw.message(stream=stream), {SCRIPT: directive})
    assert r.status_code == status
    assert captured(gw, db, r).outcome == "upstream_error"


@pytest.mark.clause("CAP-004")
@pytest.mark.needs("scripted-upstream")
def test_client_disconnect_captured_once(gw: Exchanges, db: CaptureDB, target: Target) -> None:
    headers = {
        **target.headers_for("/v1/messages"),
        **target.auth_headers(),
        "content-type": "application/json",
        SCRIPT: "text_tokens=80; chunk=1; latency_ms=25",
    }
    with (
        http_client(target) as client,
        client.stream(
            "POST",
            "/v1/messages",
            content=json.dumps(gw.message(stream=True, max_tokens=100)),
            headers=headers,
        ) as r,
    ):
        request_id = target.request_id(r) or ""
        for line in r.iter_lines():
            if line.startswith("event: content_block_delta"):
                break  # hang up after the first delta, with most of the stream still to come
    rows = wait_for_capture(db, request_id)
    assert not rows.problems(), "; ".join(rows.problems())
    assert rows.outcome == "client_cancelled", f"outcome {rows.outcome}"


@pytest.mark.clause("CAP-005")
def test_concurrent_mixed_calls(gw: Exchanges, db: CaptureDB, target: Target) -> None:
    for stream in (False, True):
        ordinary_call_captured(gw, db, stream)
    calls = 120
    request_ids = [rid for rid in mixed_calls(target, calls, seed=1605) if rid]
    if len(request_ids) < calls // 2:
        raise Blocked("WIRE-001", f"only {len(request_ids)} of {calls} ordinary calls were answered 200")
    calls = len(request_ids)
    assert len(set(request_ids)) == calls, "request ids repeat across calls"
    # Calls whose client hung up are captured after the hang-up: one bounded wait for all of them (a gateway that
    # drops captures must not cost a wait per call), then one read each.
    poll(lambda: [db.rows("outcomes", rid) for rid in request_ids], lambda rows: all(rows), 10.0)
    rows_of = [call_rows(db, rid) for rid in request_ids]
    # A call captured by no row at all, streamed or not, is the basic invariant's failure (CAP-001), not a
    # failure under concurrency; what concurrency breaks is a doubled or half-written capture.
    none = [rows for rows in rows_of if not (rows.outcomes or rows.audit or rows.ledger)]
    if none:
        raise Blocked("CAP-001", f"{len(none)} of {calls} calls have no captured row", none[0].request_id)
    problems = [p for rows in rows_of for p in rows.problems()]
    assert not problems, f"{len(problems)} problems, first: {problems[:3]}"
    # The chain under the same concurrency is CAP-006's (test_audit_chain_intact_under_concurrency).


@pytest.mark.clause("CAP-006")
def test_audit_chain_intact_under_concurrency(gw: Exchanges, db: CaptureDB, target: Target) -> None:
    """Calls committed together are where a writer forks the chain or skips a seq."""
    ids = [rid for rid in mixed_calls(target, 40, seed=1606) if rid]
    poll(lambda: [db.rows("outcomes", rid) for rid in ids], lambda rows: all(rows), 10.0)
    problems = chain_problems(db)
    assert not problems, "; ".join(problems[:5])


@pytest.mark.clause("CAP-006")
def test_audit_chain_intact(gw: Exchanges, db: CaptureDB) -> None:
    # Three calls, streamed and not: a fault after a call's last event (a gap, a bad link) shows only once
    # another call's events follow it.
    for stream in (False, True, False):
        gw.post("/v1/messages", gw.message(stream=stream))
    problems = chain_problems(db)
    assert not problems, "; ".join(problems[:5])


@pytest.mark.clause("CAP-007")
@pytest.mark.parametrize("statement", ["UPDATE audit_events SET kind = kind", "DELETE FROM audit_events"])
def test_audit_rows_protected_by_database(gw: Exchanges, db: CaptureDB, statement: str) -> None:
    gw.post("/v1/messages", gw.message())
    refusal = db.refused_in_rollback(statement)  # always rolled back: the check never changes the chain
    assert refusal is not None, f"the database accepted: {statement}"


@pytest.mark.clause("CAP-008")
@pytest.mark.needs("aliases")
@pytest.mark.parametrize("slot", range(3))
def test_audit_router_payload_canonical(gw: Exchanges, db: CaptureDB, slot: int) -> None:
    if slot >= len(gw.target.aliases):
        pytest.skip(f"the target declares {len(gw.target.aliases)} alias(es)")
    alias = gw.target.aliases[slot]
    r = gw.post("/v1/messages", gw.message(model=alias))
    if r.status_code != 200:
        raise Blocked("ALIAS-001", f"the alias {alias} was refused ({r.status_code})")
    rows = captured(gw, db, r, needs_capture=True)
    routers = [json.loads(e["payload"]) for e in rows.audit if e["kind"] == "router"]
    assert routers, "no router audit event"
    assert all(p.get("model") == AINFERA["canonical_model"] for p in routers), routers
    assert not [e for e in rows.audit if alias in str(e["payload"])], "the alias is in the audit payload"


@pytest.mark.clause("CAP-009")
@pytest.mark.needs("scripted-upstream")
def test_ledger_debit_follows_usage(gw: Exchanges, db: CaptureDB) -> None:
    rows = captured(
        gw, db, gw.post("/v1/messages", gw.message(), {SCRIPT: "text_tokens=17"}), needs_capture=True
    )
    outcome, debit = rows.outcomes[0], rows.ledger[0]
    price = db.query("SELECT * FROM prices WHERE backend = :b", b=outcome["backend"])
    assert price, f"no price for backend {outcome['backend']}"
    want = (
        outcome["input_tokens"] * price[0]["input_nusd_per_token"]
        + outcome["output_tokens"] * price[0]["output_nusd_per_token"]
    )
    assert debit["amount_nusd"] == want > 0, f"debit {debit['amount_nusd']}, usage × price = {want}"


@pytest.mark.clause("CAP-009")
@pytest.mark.needs("scripted-upstream")
def test_failed_call_debits_nothing(gw: Exchanges, db: CaptureDB) -> None:
    rows = captured(gw, db, gw.post("/v1/messages", gw.message(), {SCRIPT: "error=529"}))
    assert rows.ledger[0]["amount_nusd"] == 0


@pytest.mark.clause("CAP-010")
def test_anchor_voters(db: CaptureDB) -> None:
    anchors = db.query("SELECT slug, aa_index_source FROM routing_backends")
    voters = sum(a["aa_index_source"] == AINFERA["anchor_source"] for a in anchors)
    assert len(anchors) >= AINFERA["anchor_voters"] and voters == AINFERA["anchor_voters"], anchors
    legacy = f"%{AINFERA['legacy_anchor_fragment']}%"
    assert (
        db.scalar("SELECT count(*) FROM routing_backends WHERE lower(aa_index_source) LIKE :l", l=legacy) == 0
    )


@pytest.mark.clause("CAP-011")
@pytest.mark.needs("kill-switch")
def test_kill_switch_refuses_before_dispatch(gw: Exchanges, target: Target, evidence: dict[str, Any]) -> None:
    assert target.kill_switch_url and target.kill_switch_db_url
    # A fresh trace id, never a seeded one: the upstream's record of received requests outlives this run (one
    # scripted upstream can serve several gateways in turn), and a fixed id would find an earlier run's calls.
    trace_id = secrets.token_hex(16)
    headers = {**target.auth_headers(), "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    r = httpx.post(
        f"{target.kill_switch_url}/v1/messages",
        json=gw.message(),
        headers=headers,
        timeout=target.timeout,
        verify=tls(),
    )
    evidence["response"] = {"status": r.status_code, "body": r.text[:1000]}
    assert r.status_code in (403, 429), f"status {r.status_code}: {r.text[:200]}"
    assert_error(r, r.status_code)  # its shape is WIRE-004's
    rows = wait_for_capture(CaptureDB(target.kill_switch_db_url), gw.request_id(r))
    assert not rows.problems() and rows.outcome == "refused"
    if target.upstream_url:
        received = httpx.get(
            f"{target.upstream_url}{SCRIPTED['received_path']}", timeout=target.timeout, verify=tls()
        ).json()
        assert not [x for x in received if trace_id in x["headers"].get("traceparent", "")], (
            "the call was dispatched"
        )


@pytest.mark.clause("CAP-012")
def test_audit_url_serves_the_events(gw: Exchanges, db: CaptureDB) -> None:
    # Two calls, so that a URL serving another call's events (or every call's) cannot pass on a fresh database.
    for r in (gw.post("/v1/messages", gw.message()), gw.post("/v1/messages", gw.message(stream=True))):
        rows = captured(gw, db, r, needs_capture=True)
        url = r.headers[AINFERA["audit_url_header"]]
        served = gw.get(url)
        assert served.status_code == 200, f"{url}: {served.status_code}"
        seqs = [e["seq"] for e in served.json()["events"]]
        want = [int(e["seq"]) for e in rows.audit]
        assert seqs == want, f"the audit URL of {rows.request_id} serves seqs {seqs}, the database has {want}"
