"""One trace id across all hops (BRIEF §6) and the gateway's JSON log (BRIEF §5), on a real
``reference-gateway serve`` process with --log-file, in front of the scripted upstream over HTTP."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.observability.support import (
    INTERNAL_KEY,
    KEY_HEADER,
    GatewayProcess,
    db_rows,
    gateway_process,
    scrape,
)
from tests.support.servers import ServerThread

CLIENT_KEY = "sk-ant-api03-" + "Zq7" * 30 + "AA"
"""The key the client authenticates with: a fake Anthropic-shaped key, so a leak is recognisable."""
QUERY_SECRET = "qs" + secrets.token_hex(16)
PROMPT = "my passport number is X" + secrets.token_hex(4)


@pytest.fixture(scope="module")
def proc(tmp_path_factory: pytest.TempPathFactory, upstream: ServerThread) -> Iterator[GatewayProcess]:
    tmp: Path = tmp_path_factory.mktemp("serve")
    with gateway_process(tmp, "--upstream", upstream.url, "--internal-key", INTERNAL_KEY) as gw:
        yield gw


def call(gw: GatewayProcess, trace_id: str, *, stream: bool, model: str = "ainfera-auto") -> httpx.Response:
    return httpx.post(
        f"{gw.url}/v1/messages?api_key={QUERY_SECRET}&debug=1",
        headers={
            "authorization": f"Bearer {CLIENT_KEY}",
            "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
            "cookie": f"session={QUERY_SECRET}",
        },
        json={
            "model": model,
            "max_tokens": 32,
            "stream": stream,
            "messages": [{"role": "user", "content": PROMPT}],
            "metadata": {"user_id": "u-1"},
        },
        timeout=30,
    )


@pytest.mark.parametrize("stream", [False, True])
def test_one_trace_id_across_all_hops(proc: GatewayProcess, upstream: ServerThread, stream: bool) -> None:
    """TRACE: the caller's trace id is in the response's traceparent, in every log line of the request (alias
    event and access log included), in its outcome row and both audit events, and in the traceparent the
    upstream received (with the gateway's own span id, not the caller's)."""
    httpx.delete(f"{upstream.url}/_received")
    trace_id = secrets.token_hex(16)
    r = call(proc, trace_id, stream=stream)
    assert r.status_code == 200
    request_id = r.headers["request-id"]
    version, resp_trace, resp_span, _ = r.headers["traceparent"].split("-")
    assert (version, resp_trace) == ("00", trace_id)

    records = proc.wait_for_log(
        lambda rec: rec.get("request_id") == request_id and rec.get("event") == "http.access"
    )
    mine = [rec for rec in records if rec.get("request_id") == request_id]
    assert {rec.get("event") for rec in mine} >= {"router.alias_hit", "http.access"}
    assert all(rec["trace_id"] == trace_id for rec in mine)

    [(row_trace,)] = db_rows(
        proc.db_path, "SELECT trace_id FROM routing_outcomes WHERE request_id = ?", (request_id,)
    )
    events = db_rows(
        proc.db_path, "SELECT kind, trace_id FROM audit_events WHERE request_id = ?", (request_id,)
    )
    assert row_trace == trace_id
    assert sorted(events) == [("outcome", trace_id), ("router", trace_id)]

    received = httpx.get(f"{upstream.url}/_received").json()
    sent = [req for req in received if req["path"] == "/v1/messages"]
    assert len(sent) == 1
    up_version, up_trace, up_span, _ = sent[0]["headers"]["traceparent"].split("-")
    assert (up_version, up_trace, up_span) == ("00", trace_id, resp_span)


def test_a_trace_is_started_when_absent(proc: GatewayProcess) -> None:
    """TRACE: without traceparent the gateway starts a trace; its id is on the response and the call's log lines."""
    r = httpx.post(
        f"{proc.url}/v1/messages",
        headers={"x-api-key": "k"},
        json={"model": "ainfera-mithril", "max_tokens": 8, "messages": [{"role": "user", "content": "x"}]},
    )
    trace_id = r.headers["traceparent"].split("-")[1]
    assert len(trace_id) == 32 and set(trace_id) != {"0"}
    request_id = r.headers["request-id"]
    records = proc.wait_for_log(
        lambda rec: rec.get("request_id") == request_id and rec.get("event") == "http.access"
    )
    mine = [rec for rec in records if rec.get("request_id") == request_id]
    assert mine and all(rec["trace_id"] == trace_id for rec in mine)


def test_log_is_json_lines_with_required_fields(proc: GatewayProcess) -> None:
    """LOG: every line of the log file, from the first startup line on, is one JSON object with timestamp,
    level, logger, message, request_id and trace_id; the first line is the gateway's own startup event."""
    call(proc, secrets.token_hex(16), stream=False)
    records = proc.wait_for_log(lambda rec: rec.get("event") == "http.access")
    assert records[0]["event"] == "gateway.starting"
    for rec in records:
        assert {"timestamp", "level", "logger", "message", "request_id", "trace_id"} <= rec.keys()
        assert rec["timestamp"].endswith("Z")
    assert any(rec.get("event") == "gateway.listening" for rec in records)


def test_no_secret_or_prompt_in_the_log(proc: GatewayProcess) -> None:
    """LOG: the client's key (sent as Bearer), a secret in the query string, a cookie and the prompt text appear
    nowhere in the log; the access log keeps the query parameter names, never their values."""
    call(proc, secrets.token_hex(16), stream=True)
    httpx.get(f"{proc.url}/metrics?token={QUERY_SECRET}", headers={KEY_HEADER: "wrong"})
    records = proc.wait_for_log(lambda rec: rec.get("path") == "/metrics")
    text = proc.log_file.read_text(encoding="utf-8")
    for needle in (CLIENT_KEY, CLIENT_KEY[:24], QUERY_SECRET, PROMPT, INTERNAL_KEY):
        assert needle not in text
    access = [
        rec for rec in records if rec.get("event") == "http.access" and rec.get("route") == "/v1/messages"
    ]
    assert access and access[-1]["query_params"] == ["api_key", "debug"]
    assert "?" not in access[-1]["path"] and "?" not in access[-1]["message"]


def test_alias_hit_is_one_structured_event(proc: GatewayProcess) -> None:
    """LOG: one request naming an alias writes exactly one structured alias event naming it, and the alias
    counter moves by one."""
    before = scrape(proc.url).value("ainfera_router_alias_hit_total", alias="ainfera/auto")
    r = call(proc, secrets.token_hex(16), stream=False, model="ainfera/auto")
    request_id = r.headers["request-id"]
    records = proc.wait_for_log(
        lambda rec: rec.get("request_id") == request_id and rec.get("event") == "http.access"
    )
    events = [
        rec
        for rec in records
        if rec.get("request_id") == request_id and rec.get("event") == "router.alias_hit"
    ]
    assert [rec["alias"] for rec in events] == ["ainfera/auto"]
    assert scrape(proc.url).value("ainfera_router_alias_hit_total", alias="ainfera/auto") - before == 1


def test_scrub_command_leaves_the_clean_log_unchanged(proc: GatewayProcess) -> None:
    """`gateway-contracts scrub --check` finds nothing to redact in the gateway's own log (it was scrubbed as
    it was written), and `scrub` passes it through byte for byte."""
    import subprocess
    import sys

    log = proc.log_file.read_bytes()
    check = subprocess.run(
        [sys.executable, "-m", "gateway_contracts.cli", "scrub", "--check", str(proc.log_file)],
        capture_output=True,
    )
    assert check.returncode == 0, check.stdout.decode()[:2000]
    passthrough = subprocess.run(
        [sys.executable, "-m", "gateway_contracts.cli", "scrub"], input=log, capture_output=True
    )
    assert passthrough.returncode == 0 and passthrough.stdout == log
    assert all(json.loads(line) for line in log.decode().splitlines())
