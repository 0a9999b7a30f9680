"""Trace profile: one W3C trace id across response, logs, captured rows and the upstream (BRIEF §6)."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest

from gateway_contracts.capture.db import CaptureDB
from gateway_contracts.capture.invariants import call_rows
from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.logs import lines_of
from gateway_contracts.conformance.requests import SCRIPTED
from gateway_contracts.failures import Blocked
from gateway_contracts.logs import line_count
from gateway_contracts.target import Target
from gateway_contracts.target.tls import tls

pytestmark = pytest.mark.needs("trace", "surface:messages")

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def carried(r: object, trace_id: str) -> None:
    """The response carries the caller's trace id back (TRACE-001); the clauses that follow the id further are
    blocked by it when it does not, since the gateway then used another id everywhere."""
    value = r.headers.get("traceparent", "")  # type: ignore[attr-defined]
    m = TRACEPARENT.match(value)
    if not (m and m.group(1) == trace_id):
        raise Blocked("TRACE-001", "the response does not carry the caller's trace id", value[:80])


def new_traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


@pytest.mark.clause("TRACE-001")
@pytest.mark.parametrize("stream", [False, True])
def test_trace_id_returned(gw: Exchanges, stream: bool) -> None:
    trace_id, header = new_traceparent()
    r = gw.post("/v1/messages", gw.message(stream=stream), {"traceparent": header})
    m = TRACEPARENT.match(r.headers.get("traceparent", ""))
    assert m and m.group(1) == trace_id, (
        f"traceparent {r.headers.get('traceparent')!r}, want trace id {trace_id}"
    )


@pytest.mark.clause("TRACE-002")
def test_trace_started_when_absent(gw: Exchanges) -> None:
    r = gw.post("/v1/messages", gw.message())
    m = TRACEPARENT.match(r.headers.get("traceparent", ""))
    assert m and set(m.group(1)) != {"0"}, f"no valid traceparent: {r.headers.get('traceparent')!r}"


@pytest.mark.clause("TRACE-003")
@pytest.mark.needs("db", "request-id")
def test_trace_id_in_rows(gw: Exchanges, db: CaptureDB) -> None:
    trace_id, header = new_traceparent()
    r = gw.post("/v1/messages", gw.message(stream=True), {"traceparent": header})
    carried(r, trace_id)
    rows = call_rows(db, gw.request_id(r))  # committed before the stream's terminal event
    if not rows.outcomes:
        raise Blocked("CAP-001", "the call has no outcome row to carry its trace id", rows.request_id)
    if not rows.audit:
        raise Blocked("CAP-002", "the call has no audit event to carry its trace id", rows.request_id)
    assert [o["trace_id"] for o in rows.outcomes] == [trace_id]
    assert rows.audit and all(e["trace_id"] == trace_id for e in rows.audit)


@pytest.mark.clause("TRACE-004")
@pytest.mark.needs("logs", "request-id")
def test_trace_id_in_every_log_line(gw: Exchanges, target: Target) -> None:
    assert target.log_file
    start = line_count(target.log_file)
    trace_id, header = new_traceparent()
    r = gw.post("/v1/messages", gw.message(), {"traceparent": header})
    carried(r, trace_id)
    mine = lines_of(target, gw.request_id(r), start)
    assert mine, "no log line carries the call's request id"
    wrong = [ln.number for ln in mine if ln.record and ln.record.get("trace_id") != trace_id]
    assert not wrong, f"log lines of the call without its trace id: {wrong}"


@pytest.mark.clause("TRACE-005")
@pytest.mark.needs("upstream-echo")
def test_trace_id_reaches_upstream(gw: Exchanges, target: Target) -> None:
    assert target.upstream_url
    trace_id, header = new_traceparent()
    r = gw.post("/v1/messages", gw.message(), {"traceparent": header})
    assert r.status_code == 200
    carried(r, trace_id)
    upstream = f"{target.upstream_url}{SCRIPTED['received_path']}"
    received = httpx.get(upstream, timeout=target.timeout, verify=tls()).json()
    sent = [x["headers"].get("traceparent", "") for x in received]
    assert any(TRACEPARENT.match(v) and v.split("-")[1] == trace_id for v in sent), (
        "no upstream request carried the trace id"
    )
