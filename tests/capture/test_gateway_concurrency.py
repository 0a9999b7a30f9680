"""200 concurrent mixed calls through the gateway over real HTTP: every one captured exactly once, and the audit
chain verifies with the real ``reference-gateway audit-verify`` CLI; on SQLite and PostgreSQL with one gateway,
and on one PostgreSQL database shared by two gateway processes.

The mix (fixed, so every run is the same): both routes (``/v1/messages`` and ``/v1/chat/completions``),
streamed and not, the canonical model and the three legacy aliases, 10% clients that disconnect mid-stream,
5% upstream errors before the first byte and 5% upstream drops mid-stream.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.upstream.base import UpstreamRequest
from reference_server.upstream.scripted.directives import parse_directives
from reference_server.upstream.scripted.engine import build_script
from reference_server.upstream.scripted.pacing import total_delay
from tests.capture.gateway_support import (
    AUTH,
    MODELS,
    SCRIPT,
    SLOW_STREAM,
    GatewayProcess,
    chat_body,
    message_body,
    run_cli,
    start_gateway,
    stream_and_disconnect,
    until,
)
from tests.capture.support import Sql

CALLS = 200


@dataclass(frozen=True)
class Planned:
    """One call of the mix and what the capture must say about it."""

    route: str
    model: str
    stream: bool
    script: str | None
    disconnect: bool
    status: int
    outcome: str

    def body(self) -> dict[str, Any]:
        if self.route == "/v1/chat/completions":
            return chat_body(self.model, stream=self.stream)
        return message_body(self.model, stream=self.stream)


def plan(i: int) -> Planned:
    """Call ``i`` of the fixed mix."""
    model = MODELS[i % len(MODELS)]
    route = "/v1/chat/completions" if i % 3 == 0 else "/v1/messages"
    if i % 10 == 7:  # 20 calls: the client hangs up after the first content delta
        return Planned(route, model, True, SLOW_STREAM, True, 200, "client_cancelled")
    if i % 20 == 11:  # 10 calls: the upstream fails before its first byte
        return Planned(route, model, i % 40 == 11, "error=529", False, 529, "upstream_error")
    if i % 20 == 13:  # 10 calls: the upstream dies mid-stream
        return Planned(route, model, True, "drop_after=2", False, 200, "upstream_error")
    return Planned(route, model, i % 2 == 0, None, False, 200, "ok")


PLAN = [plan(i) for i in range(CALLS)]


def test_the_mix_is_what_the_docstring_says() -> None:
    """The fixed mix covers both routes, both modes, all four model strings, and 10% / 5% / 5% of
    disconnects, errors before the first byte and drops mid-stream."""
    assert Counter(p.outcome for p in PLAN) == {"ok": 160, "client_cancelled": 20, "upstream_error": 20}
    assert sum(p.disconnect for p in PLAN) == 20
    assert {p.route for p in PLAN} == {"/v1/messages", "/v1/chat/completions"}
    assert {p.model for p in PLAN} == set(MODELS)
    assert {p.stream for p in PLAN if p.outcome == "ok"} == {True, False}


@pytest.mark.parametrize("planned", [p for p in PLAN if p.disconnect][:2], ids=lambda p: p.route)
def test_the_disconnected_streams_would_last_long_enough(planned: Planned) -> None:
    """A client that hangs up after the first delta must still be mid-stream when it goes, even on a loaded
    machine: the scripted answer for a disconnecting call, as the gateway would forward it, lasts >= 10 s (its
    ``max_tokens`` does not cut the slow stream short)."""
    body = planned.body()
    request = UpstreamRequest(
        model=CANONICAL_MODEL,
        max_tokens=int(body["max_tokens"]),
        messages=body["messages"],
        headers={SCRIPT: SLOW_STREAM},
    )
    assert total_delay(build_script(request, parse_directives(SLOW_STREAM))) >= 10.0


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=CALLS + 10, max_keepalive_connections=CALLS + 10)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as http:
        yield http


async def call(client: httpx.AsyncClient, base_url: str, planned: Planned) -> str:
    """Make one planned call; check its status; return the response's request id."""
    headers = {**AUTH, **({SCRIPT: planned.script} if planned.script else {})}
    url = f"{base_url}{planned.route}"
    if planned.disconnect:
        response = await stream_and_disconnect(client, url, planned.body(), headers)
    else:
        response = await client.post(url, json=planned.body(), headers=headers)
    assert response.status_code == planned.status, (planned, response.text[:500])
    return response.headers["request-id"]


async def run_mix(client: httpx.AsyncClient, base_urls: list[str]) -> dict[str, Planned]:
    """All CALLS calls at once, call ``i`` to ``base_urls[i % len(base_urls)]``; {request id: planned call}."""
    ids = await asyncio.gather(
        *(call(client, base_urls[i % len(base_urls)], planned) for i, planned in enumerate(PLAN))
    )
    assert len(set(ids)) == CALLS, "request ids must be unique"
    return dict(zip(ids, PLAN, strict=True))


async def assert_each_call_captured_once(sql: Sql, calls: dict[str, Planned]) -> None:
    """Exactly one outcome row and one ledger row per call (and nothing else), with the planned outcome and
    model string; a router and an outcome event per call; then the real ``audit-verify`` CLI exits 0."""
    outcomes = await sql.rows("SELECT request_id, outcome, model_requested FROM routing_outcomes")
    assert len(outcomes) == CALLS
    got = {r["request_id"]: (r["outcome"], r["model_requested"]) for r in outcomes}
    wrong = {
        request_id: (got.get(request_id), planned)
        for request_id, planned in calls.items()
        if got.get(request_id) != (planned.outcome, planned.model)
    }
    assert not wrong, wrong
    assert set(got) == set(calls)
    ledger = await sql.rows("SELECT request_id FROM ledger_entries")
    assert len(ledger) == CALLS
    assert {r["request_id"] for r in ledger} == set(calls)
    events = await sql.rows("SELECT request_id, kind FROM audit_events ORDER BY seq")
    assert len(events) == 2 * CALLS
    assert Counter((e["request_id"], e["kind"]) for e in events) == Counter(
        {(request_id, kind): 1 for request_id in calls for kind in ("router", "outcome")}
    )

    status, out, err = await run_cli("audit-verify", "--db-url", sql.url)
    assert status == 0, (out, err)
    assert out.strip() == (
        f"audit chain intact: {2 * CALLS} events (seq 1..{2 * CALLS}), every captured call's events present"
    )


async def test_200_concurrent_mixed_calls_through_one_gateway(db_url: str, client: httpx.AsyncClient) -> None:
    """200 concurrent mixed calls (routes, modes, aliases, 10% disconnects, upstream errors and drops) through
    one gateway: 200 outcome rows and 200 ledger rows with exactly the responses' request ids and the planned
    outcomes, 400 audit events, ``audit-verify`` exits 0, and no dispatch went without capture."""
    gateway = start_gateway(db_url)
    try:
        calls = await run_mix(client, [gateway.url])
        # The disconnected calls are captured after their clients left: wait for each capture, bounded.
        await gateway.watch.wait_all(list(calls))
        assert gateway.flow.dispatch_without_capture == 0
        assert gateway.store.capture_failures == 0
        batches, records = gateway.store.batches_committed, gateway.store.records_committed
    finally:
        gateway.stop()
    assert records == CALLS
    assert batches <= records
    await assert_each_call_captured_once(Sql(db_url), calls)


@pytest.mark.postgres
async def test_200_concurrent_calls_split_across_two_gateway_processes_on_one_postgres(
    pg_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Two ``reference-gateway serve`` processes started together on one empty PostgreSQL database (both
    migrate it at once) take the 200 calls alternately: 200 outcome rows and 200 ledger rows with the
    responses' request ids, 400 audit events in one chain (no fork, no gap: ``audit-verify`` exits 0), and
    both processes stop cleanly."""
    args = ["--db-url", pg_url, "--upstream", "scripted", "--client-key", AUTH["x-api-key"]]
    gateways = [GatewayProcess(args, tmp_path / f"gateway-{n}.stderr") for n in (1, 2)]
    started = await asyncio.gather(*(g.start() for g in gateways), return_exceptions=True)
    try:
        for result in started:
            if isinstance(result, BaseException):
                raise result
        sql = Sql(pg_url)
        calls = await run_mix(client, [g.url for g in gateways])

        async def all_captured() -> bool:
            # The disconnected calls are captured after their clients left, in another process: the database
            # is the only place to see them land (bounded poll).
            return int(await sql.count("routing_outcomes")) >= CALLS

        await until(all_captured)
    finally:
        statuses = [await g.stop() for g in gateways]
    assert statuses == [0, 0], [g.stderr_tail() for g in gateways]
    await assert_each_call_captured_once(sql, calls)
