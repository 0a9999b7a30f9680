"""Found by the conformance property tests: schema-valid edge values and adapter bugs never escape as an
uncaptured 500."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from reference_server.upstream.base import Capabilities, StreamEvent, UpstreamMessage, UpstreamRequest
from tests.support.gateway import CLIENT_KEY
from tests.support.servers import ServerThread

AUTH = {"x-api-key": CLIENT_KEY}
BODY = {"model": "ainfera-inference", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


def test_integral_float_max_tokens(gateway: ServerThread) -> None:
    """WIRE-007: JSON Schema counts 1.0 as an integer, so the gateway must accept it as one (it was a 500)."""
    r = httpx.post(f"{gateway.url}/v1/messages", headers=AUTH, json={**BODY, "max_tokens": 1.0})
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["output_tokens"] <= 1


class BrokenAdapter:
    """An adapter with a bug: it raises something that is not an UpstreamError."""

    slug = "anthropic"
    capabilities = Capabilities(tools=True, native_streaming=True)

    async def chat(self, request: UpstreamRequest) -> UpstreamMessage:
        raise RuntimeError("adapter bug with secret sk-ant-api03-leakme")

    async def stream_chat(self, request: UpstreamRequest) -> AsyncIterator[StreamEvent]:
        raise RuntimeError("adapter bug with secret sk-ant-api03-leakme")
        yield {}  # pragma: no cover - makes this an async generator

    async def close(self) -> None:
        return None


@pytest.fixture()
def broken(tmp_path: Path) -> Iterator[tuple[ServerThread, Path]]:
    db = tmp_path / "gw.sqlite3"
    config = GatewayConfig(db_url=f"sqlite:///{db}")
    server = ServerThread(lambda: build_app(config, adapters={"anthropic": BrokenAdapter()})).start()
    yield server, db
    server.stop()


@pytest.mark.parametrize("stream", [False, True])
def test_adapter_bug_is_captured_500(broken: tuple[ServerThread, Path], stream: bool) -> None:
    """CAP-001/WIRE-004: an adapter bug is a dispatched call: captured once, a clean 500 envelope, nothing leaked."""
    server, db = broken
    r = httpx.post(f"{server.url}/v1/messages", headers=AUTH, json={**BODY, "stream": stream})
    assert r.status_code == 500 and r.json()["error"]["type"] == "api_error"
    assert "leakme" not in r.text
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT outcome, error_type FROM routing_outcomes WHERE request_id = ?",
            (r.headers["request-id"],),
        ).fetchall()
        ledger = conn.execute(
            "SELECT count(*) FROM ledger_entries WHERE request_id = ?", (r.headers["request-id"],)
        )
        assert rows == [("upstream_error", "api_error")] and ledger.fetchone() == (1,)
