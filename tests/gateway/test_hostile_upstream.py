"""A hostile upstream (issue 15): an answer that is malformed, truncated, oversized or breaks the schema is one
documented error on every backend alike (500 ``api_error`` with code ``upstream_invalid_answer`` before the first
byte, one ``error`` event after it), captured as an upstream error, never passed on as if it were valid."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.upstream.answer_check import INVALID_ANSWER_CODE
from reference_server.upstream.scripted.directives import CORRUPT_VALUES
from reference_server.upstream.scripted.server import build_app as build_upstream_app
from tests.hostile.support import envelope_problems
from tests.support.servers import ServerThread

AUTH = {"x-api-key": "k"}
TOOL = {"name": "t", "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}}}
BACKENDS = ("anthropic", "openai", "groq")
"""Anthropic-native, and two OpenAI-compatible backends."""


@dataclass
class Served:
    url: str
    db: Path


@pytest.fixture(scope="module", params=["in-process", "over-http"])
def hostile_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The gateway on SQLite, in front of the scripted upstream in-process or over HTTP (the real adapters)."""
    tmp = tmp_path_factory.mktemp("hostile-upstream")
    upstream = ServerThread(build_upstream_app).start() if request.param == "over-http" else None
    upstreams = [upstream.url] if upstream is not None else ["scripted"]
    config = GatewayConfig(db_url=f"sqlite:///{tmp / 'gw.sqlite3'}", port=0, upstreams=upstreams)
    gateway = ServerThread(lambda: build_app(config)).start()
    yield Served(gateway.url, tmp / "gw.sqlite3")
    gateway.stop()
    if upstream is not None:
        upstream.stop()


def call(
    served: Served, backend: str, kind: str, *, stream: bool, path: str = "/v1/messages"
) -> httpx.Response:
    body: dict[str, Any] = {
        "model": CANONICAL_MODEL,
        "max_tokens": 256,
        "stream": stream,
        "messages": [{"role": "user", "content": "hi"}],
    }
    if kind == "tool_input_string":
        if path == "/v1/messages":
            body.update(tools=[TOOL], tool_choice={"type": "tool", "name": "t"})
        else:
            function = {"name": "t", "parameters": TOOL["input_schema"]}
            body.update(
                tools=[{"type": "function", "function": function}],
                tool_choice={"type": "function", "function": {"name": "t"}},
            )
    headers = {**AUTH, "x-ainfera-backend": backend, "x-upstream-script": f"corrupt={kind}"}
    return httpx.post(f"{served.url}{path}", json=body, headers=headers, timeout=60)


def outcome(served: Served, request_id: str) -> tuple[str, str | None]:
    with sqlite3.connect(served.db) as conn:
        rows = conn.execute(
            "SELECT outcome, error_type FROM routing_outcomes WHERE request_id = ?", (request_id,)
        ).fetchall()
    assert len(rows) == 1, rows
    return rows[0][0], rows[0][1]


def stream_error(text: str) -> dict[str, Any]:
    """The stream's last event, which must be its one ``error`` event (and no ``message_stop`` before it)."""
    events = [block for block in text.split("\n\n") if block.strip()]
    assert "event: message_stop" not in text, text[-300:]
    last = events[-1]
    assert last.startswith("event: error\n"), last[:300]
    error: dict[str, Any] = json.loads(last.split("data: ", 1)[1])["error"]
    return error


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_use_input_that_is_a_string_is_an_upstream_error_on_every_backend(
    hostile_gateway: Served, backend: str, stream: bool
) -> None:
    r = call(hostile_gateway, backend, "tool_input_string", stream=stream)
    assert_invalid_answer(hostile_gateway, r, stream=stream)


@pytest.mark.parametrize("kind", [k for k in CORRUPT_VALUES if k != "tool_input_string"])
@pytest.mark.parametrize("backend", ["anthropic", "openai"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_hostile_answer_never_reaches_the_client_as_valid(
    hostile_gateway: Served, kind: str, backend: str, stream: bool
) -> None:
    r = call(hostile_gateway, backend, kind, stream=stream)
    if kind == "truncate" and stream and r.status_code == 200:
        # A stream that ends without message_stop is a dropped stream (WIRE-016): one error event.
        assert stream_error(r.text)["type"] == "api_error"
        assert outcome(hostile_gateway, r.headers["request-id"]) == ("upstream_error", "api_error")
        return
    assert_invalid_answer(hostile_gateway, r, stream=stream)


@pytest.mark.parametrize("kind", ["tool_input_string", "wrong_types", "bad_json"])
def test_hostile_answer_on_the_openai_route_keeps_the_envelope(hostile_gateway: Served, kind: str) -> None:
    r = call(hostile_gateway, "openai", kind, stream=False, path="/v1/chat/completions")
    assert r.status_code == 500, r.text[:300]
    assert not envelope_problems(r.status_code, dict(r.headers), r.content)
    assert r.json()["error"]["code"] == INVALID_ANSWER_CODE


def assert_invalid_answer(served: Served, r: httpx.Response, *, stream: bool) -> None:
    if r.status_code == 200:
        assert stream, r.text[:300]
        error = stream_error(r.text)
        assert error["type"] == "api_error" and "sent an invalid answer" in error["message"], error
    else:
        assert r.status_code == 500, r.text[:300]
        assert not envelope_problems(r.status_code, dict(r.headers), r.content), r.text[:300]
        assert r.json()["error"]["code"] == INVALID_ANSWER_CODE, r.text[:300]
    assert outcome(served, r.headers["request-id"]) == ("upstream_error", "api_error")
