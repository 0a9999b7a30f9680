"""``serve --loop``: the reference gateway on uvloop (the default where installed) and on asyncio's own loop.

The loop is a performance choice (docs/benchmarks.md); these tests pin that the choice is honoured, that the
process says in its log which loop it runs on, and that a call is served and captured the same on either.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
import pytest

from contracts.exits import EXIT_USAGE, CliError
from reference_server.commands import _loop
from tests.observability.support import GatewayProcess, db_rows, gateway_process
from tests.support.servers import ServerThread

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


def _listening_loop(gw: GatewayProcess) -> str:
    records = gw.wait_for_log(lambda rec: rec.get("event") == "gateway.listening")
    (listening,) = [rec for rec in records if rec.get("event") == "gateway.listening"]
    return str(listening["loop"])


def _one_call_each_way(gw: GatewayProcess) -> None:
    """A non-streamed and a streamed call: both 200, both captured with their request ids."""
    body = {"model": "ainfera-auto", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": "sk-ant-test-loop"}
    plain = httpx.post(f"{gw.url}/v1/messages", headers=headers, json=body, timeout=30)
    streamed = httpx.post(f"{gw.url}/v1/messages", headers=headers, json={**body, "stream": True}, timeout=30)
    assert plain.status_code == 200, plain.text
    assert streamed.status_code == 200, streamed.text
    assert streamed.text.rstrip().endswith('event: message_stop\ndata: {"type": "message_stop"}'), (
        streamed.text[-200:]
    )
    ids = {plain.headers["request-id"], streamed.headers["request-id"]}
    rows = db_rows(gw.db_path, "SELECT request_id, outcome FROM routing_outcomes")
    assert {(rid, "ok") for rid in ids} <= set(rows)


@pytest.mark.skipif(
    not HAS_UVLOOP, reason="uvloop is not installed here (it is a dependency on Linux and macOS)"
)
def test_serve_runs_on_uvloop_by_default(tmp_path: Path, upstream: ServerThread) -> None:
    with gateway_process(tmp_path, "--upstream", upstream.url) as gw:
        assert _listening_loop(gw) == "uvloop"
        _one_call_each_way(gw)


def test_serve_runs_on_asyncio_when_asked(tmp_path: Path, upstream: ServerThread) -> None:
    with gateway_process(tmp_path, "--upstream", upstream.url, "--loop", "asyncio") as gw:
        assert _listening_loop(gw) == "asyncio"
        _one_call_each_way(gw)


def test_asking_for_uvloop_where_it_is_missing_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        _loop.importlib.util, "find_spec", lambda name, *a: None if name == "uvloop" else real(name, *a)
    )
    with pytest.raises(CliError) as raised:
        _loop.loop_factory("uvloop")
    assert raised.value.status == EXIT_USAGE
    assert "uvloop is not installed" in str(raised.value) and "--loop asyncio" in str(raised.value)
    assert _loop.loop_factory("auto") is None  # auto falls back to asyncio's own loop, silently
