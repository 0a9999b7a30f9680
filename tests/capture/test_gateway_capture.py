"""The §16 capture proven THROUGH the gateway, over real HTTP on loopback, on SQLite and on PostgreSQL, with the
scripted upstream in-process and served over HTTP.

For every kind of routed call (issue 3: non-streaming; a stream run to completion; a client that disconnects
mid-stream; an upstream error before the first byte, without and with streaming; an upstream drop mid-stream; a
kill-switch refusal; the 422 tools refusal) the response's ``request-id`` header names exactly one
``routing_outcomes`` row, its ``router`` and ``outcome`` audit events and exactly one ``ledger_entries`` row,
with the right outcome. ``GET /v1/audit/{request_id}`` returns exactly those events, and the router payload
reports ``ainfera-inference`` whatever alias was asked.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from reference_server.db import ops
from reference_server.db.chain import timestamp_text
from reference_server.models_catalog import CANONICAL_MODEL, LEGACY_ALIASES
from reference_server.upstream.scripted.server import build_app as build_upstream_app
from tests.capture.gateway_support import (
    AUTH,
    BACKEND,
    MODELS,
    SCRIPT,
    SLOW_STREAM,
    WEATHER_TOOL,
    Captured,
    Gateway,
    captured,
    chat_body,
    message_body,
    sse_events,
    start_gateway,
    stream_and_disconnect,
    trace_id_of,
)
from tests.capture.support import Sql
from tests.support.servers import ServerThread

REQUEST_ID = re.compile(r"^req_[0-9a-f]{24}$")
LATE_FIRST_BYTE = "first_byte_ms=500; latency_ms=200"
"""The upstream's first byte comes 500 ms after dispatch (the client hangs up well before), and the rest is
slow too: a hang-up that came late anyway would still land mid-stream, never after a finished call."""


@pytest.fixture(scope="module")
def http_upstream() -> Iterator[ServerThread]:
    """The scripted upstream served over HTTP on loopback."""
    server = ServerThread(build_upstream_app).start()
    yield server
    server.stop()


@pytest.fixture(
    scope="module",
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The module's database: a SQLite file, or the module's PostgreSQL database (migrated by the gateway)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('gateway-capture') / 'gateway.sqlite3'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@dataclass
class Gateways:
    main: Gateway
    killed: Gateway
    """A second gateway on the same database with ``kill_switch_usd=0``: it refuses every call."""
    sql: Sql
    upstream: str


@pytest.fixture(scope="module", params=["in-process upstream", "HTTP upstream"])
def gateways(request: pytest.FixtureRequest, database: str) -> Iterator[Gateways]:
    """The gateway and its kill-switched twin on one database, in front of the scripted upstream (in-process,
    or over HTTP through the real adapters)."""
    upstreams = ["scripted"]
    if request.param == "HTTP upstream":
        upstreams = [request.getfixturevalue("http_upstream").url]
    main = start_gateway(database, upstreams=upstreams)
    try:
        killed = start_gateway(database, upstreams=upstreams, kill_switch_usd=0.0)
    except BaseException:
        main.stop()
        raise
    try:
        yield Gateways(main, killed, Sql(database), request.param)
    finally:
        killed.stop()
        main.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0) as http:
        yield http


# -- the cases ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    call: Callable[[httpx.AsyncClient, Gateways], Awaitable[httpx.Response]]
    status: int
    outcome: str
    stream_mode: str
    error_type: str | None
    backend: str = "anthropic"
    debits: bool | None = None
    """True: the ledger debit is > 0; False: exactly 0; None: whatever usage was consumed."""
    ends_with: str | None = None
    """For a stream that reached the client whole: its last event."""


def _post(
    body: dict[str, Any], script: str | None = None, **headers: str
) -> Callable[[httpx.AsyncClient, Gateways], Awaitable[httpx.Response]]:
    async def call(client: httpx.AsyncClient, gw: Gateways) -> httpx.Response:
        extra = {SCRIPT: script} if script else {}
        extra.update({k.replace("_", "-"): v for k, v in headers.items()})
        return await client.post(f"{gw.main.url}/v1/messages", json=body, headers={**AUTH, **extra})

    return call


async def _disconnect(client: httpx.AsyncClient, gw: Gateways) -> httpx.Response:
    headers = {**AUTH, SCRIPT: SLOW_STREAM}
    return await stream_and_disconnect(
        client, f"{gw.main.url}/v1/messages", message_body(stream=True), headers
    )


async def _kill_switch(client: httpx.AsyncClient, gw: Gateways) -> httpx.Response:
    return await client.post(f"{gw.killed.url}/v1/messages", json=message_body(), headers=AUTH)


CASES: dict[str, Case] = {
    "non-streaming": Case(_post(message_body()), 200, "ok", "none", None, debits=True),
    "stream run to completion": Case(
        _post(message_body(stream=True)), 200, "ok", "native", None, debits=True, ends_with="message_stop"
    ),
    "client disconnects mid-stream": Case(_disconnect, 200, "client_cancelled", "native", None),
    "upstream error before the first byte": Case(
        _post(message_body(), "error=529"), 529, "upstream_error", "none", "overloaded_error", debits=False
    ),
    "upstream error before the first byte, streaming": Case(
        _post(message_body(stream=True), "error=529"),
        529,
        "upstream_error",
        "native",
        "overloaded_error",
        debits=False,
    ),
    "upstream drop mid-stream": Case(
        _post(message_body(stream=True), "drop_after=3"),
        200,
        "upstream_error",
        "native",
        "api_error",
        ends_with="error",
    ),
    "kill-switch refusal": Case(_kill_switch, 403, "refused", "none", "kill_switch_engaged", debits=False),
    "422 tools refusal on together": Case(
        _post(message_body(tools=[WEATHER_TOOL]), **{BACKEND.replace("-", "_"): "together"}),
        422,
        "refused",
        "none",
        "tools_not_supported_by_backend",
        backend="together",
        debits=False,
    ),
}


def _created_at(value: Any) -> str:
    """A created_at as raw SQL returns it (a datetime, or text on SQLite) in the API's format."""
    return timestamp_text(datetime.fromisoformat(value) if isinstance(value, str) else value)


def assert_api_matches_db(api: dict[str, Any], rows: Captured, request_id: str) -> None:
    """The events ``GET /v1/audit/{request_id}`` returned are exactly the database's rows for that call."""
    assert api["request_id"] == request_id
    expected = [
        {
            "seq": row["seq"],
            "request_id": row["request_id"],
            "trace_id": row["trace_id"],
            "kind": row["kind"],
            "payload": json.loads(row["payload"]),
            "created_at": _created_at(row["created_at"]),
            "prev_hash": row["prev_hash"],
            "hash": row["hash"],
        }
        for row in rows.events
    ]
    assert api["events"] == expected


@pytest.mark.parametrize("name", list(CASES))
async def test_each_kind_of_call_leaves_one_outcome_its_events_and_one_debit(
    gateways: Gateways, client: httpx.AsyncClient, name: str
) -> None:
    """Through the gateway over HTTP: the response's request-id names exactly one routing_outcomes row with the
    right outcome, stream mode and error type, exactly a ``router`` then an ``outcome`` audit event, and
    exactly one ledger row; all carry the response's trace id; the debits agree (0 for refusals and failures
    before the first byte); GET /v1/audit returns those events; no dispatch went without capture and the
    chain verifies."""
    case = CASES[name]
    response = await case.call(client, gateways)
    assert response.status_code == case.status, response.text
    request_id = response.headers["request-id"]
    assert REQUEST_ID.match(request_id)
    trace_id = trace_id_of(response)
    if case.ends_with is not None:
        assert sse_events(response)[-1] == case.ends_with
    gw = gateways.killed if case.outcome == "refused" and case.backend == "anthropic" else gateways.main
    if case.outcome != "client_cancelled":
        # The response (or the stream's last event) left only after the capture committed.
        assert gw.watch.settled(request_id), "the response ended before its capture committed"
    # The disconnect is captured after the client left: wait for exactly that, bounded.
    receipt = await gw.watch.wait(request_id)

    rows = await captured(gateways.sql, request_id)
    assert (len(rows.outcomes), len(rows.ledger)) == (1, 1), rows
    assert [e["kind"] for e in rows.events] == ["router", "outcome"]
    assert receipt.audit_seqs == tuple(e["seq"] for e in rows.events)
    outcome, ledger = rows.outcome, rows.ledger[0]
    assert outcome["request_id"] == ledger["request_id"] == request_id
    assert {outcome["trace_id"], ledger["trace_id"], *(e["trace_id"] for e in rows.events)} == {trace_id}
    assert (outcome["outcome"], outcome["stream_mode"], outcome["error_type"]) == (
        case.outcome,
        case.stream_mode,
        case.error_type,
    )
    assert outcome["backend"] == ledger["backend"] == case.backend
    assert outcome["model_canonical"] == CANONICAL_MODEL
    router, result = rows.payload("router"), rows.payload("outcome")
    assert router["model"] == CANONICAL_MODEL and router["stream_mode"] == case.stream_mode
    assert (result["outcome"], result["error_type"]) == (case.outcome, case.error_type)
    assert ledger["amount_nusd"] == outcome["cost_nusd"] == result["debit_nusd"]
    if case.debits is not None:
        assert (ledger["amount_nusd"] > 0) is case.debits, ledger

    api = await client.get(f"{gw.url}/v1/audit/{request_id}", headers=AUTH)
    assert api.status_code == 200, api.text
    assert_api_matches_db(api.json(), rows, request_id)

    for each in (gateways.main, gateways.killed):
        assert each.flow.dispatch_without_capture == 0
        assert each.store.dispatch_without_capture == 0
        assert each.store.capture_failures == 0
    verified = await ops.verify_audit_chain(gateways.sql.url)
    assert verified.ok, verified.message


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("model", MODELS)
async def test_router_payload_reports_the_canonical_model_and_the_audit_route_returns_the_calls_events(
    gateways: Gateways, client: httpx.AsyncClient, model: str, stream: bool
) -> None:
    """Whatever model string was asked (the canonical one or a legacy alias), the outcome row keeps what was
    asked, while the audit ``router`` payload, the response and every audit event report only
    ``ainfera-inference``; ``GET /v1/audit/{request_id}`` returns exactly that call's two events, as stored."""
    response = await client.post(
        f"{gateways.main.url}/v1/messages", json=message_body(model, stream=stream), headers=AUTH
    )
    assert response.status_code == 200, response.text
    request_id = response.headers["request-id"]
    if not stream:
        assert response.json()["model"] == CANONICAL_MODEL

    rows = await captured(gateways.sql, request_id)
    assert rows.outcome["model_requested"] == model
    assert rows.outcome["model_canonical"] == CANONICAL_MODEL
    assert rows.payload("router")["model"] == CANONICAL_MODEL
    stored = json.dumps([e["payload"] for e in rows.events])
    for alias in LEGACY_ALIASES:
        assert alias not in stored and alias not in response.text

    api = await client.get(f"{gateways.main.url}/v1/audit/{request_id}", headers=AUTH)
    assert api.status_code == 200, api.text
    body = api.json()
    assert {e["request_id"] for e in body["events"]} == {request_id}
    assert [e["kind"] for e in body["events"]] == ["router", "outcome"]
    assert body["events"][0]["payload"]["model"] == CANONICAL_MODEL
    assert_api_matches_db(body, rows, request_id)


async def test_audit_route_answers_404_for_a_request_id_it_never_captured(
    gateways: Gateways, client: httpx.AsyncClient
) -> None:
    """A well-formed request id with no capture gets a 404 not_found_error, not someone else's events."""
    response = await client.get(f"{gateways.main.url}/v1/audit/req_{'0' * 24}", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("route", ["/v1/messages", "/v1/chat/completions"])
async def test_a_client_that_leaves_before_the_first_byte_of_a_stream_is_captured(
    gateways: Gateways, route: str
) -> None:
    """A streamed call whose client hangs up after the gateway dispatched it upstream but before the response
    headers went out (the upstream is slow to its first byte) is still captured exactly once, as
    ``client_cancelled``: the client never saw its request id, so the call is found by its trace id."""
    trace_id = uuid.uuid4().hex
    body = json.dumps(
        chat_body(stream=True) if route == "/v1/chat/completions" else message_body(stream=True)
    ).encode()
    head = (
        f"POST {route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nx-api-key: {AUTH['x-api-key']}\r\n"
        f"traceparent: 00-{trace_id}-{'1' * 16}-01\r\n{SCRIPT}: {LATE_FIRST_BYTE}\r\n\r\n"
    )
    _, writer = await asyncio.open_connection("127.0.0.1", gateways.main.server.port)
    writer.write(head.encode() + body)
    await writer.drain()
    # Dispatched: the upstream now waits 500 ms before its first byte. Hang up meanwhile.
    await gateways.main.dispatches.wait(trace_id)
    writer.close()
    await writer.wait_closed()

    await gateways.main.watch.wait(trace_id, limit_s=10.0)
    outcomes = await gateways.sql.rows("SELECT * FROM routing_outcomes WHERE trace_id = :t", t=trace_id)
    assert len(outcomes) == 1, outcomes
    rows = await captured(gateways.sql, outcomes[0]["request_id"])
    assert (len(rows.outcomes), len(rows.ledger), [e["kind"] for e in rows.events]) == (
        1,
        1,
        ["router", "outcome"],
    )
    assert (rows.outcome["outcome"], rows.outcome["stream_mode"]) == ("client_cancelled", "native")
    assert gateways.main.flow.dispatch_without_capture == 0
