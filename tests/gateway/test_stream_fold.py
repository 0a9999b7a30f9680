"""One content shape in both modes (BRIEF §2): folding the stream gives exactly the non-streaming message.

A hypothesis property over scripted upstream behaviours (text length, chunking, stop sequences, truncation,
forced tools, refusals), checked through both the in-process scripted backend and the real HTTP adapters against
the scripted upstream served on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.upstream.scripted.server import build_app as build_upstream_app
from tests.support.gateway import CLIENT_KEY
from tests.support.servers import ServerThread

AUTH = {"x-api-key": CLIENT_KEY}
TOOL = {
    "name": "lookup",
    "input_schema": {
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
        "required": ["query", "limit"],
    },
}


def fold(sse_text: str) -> dict[str, Any]:
    """Fold an Anthropic event stream into the message it describes (the way an SDK accumulates it)."""
    message: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for frame in sse_text.split("\n\n"):
        data = [line[6:] for line in frame.split("\n") if line.startswith("data: ")]
        if not data:
            continue
        event = json.loads("\n".join(data))
        kind = event["type"]
        if kind == "message_start":
            message = event["message"]
        elif kind == "content_block_start":
            message["content"].append(dict(event["content_block"]))
        elif kind == "content_block_delta":
            block, delta = message["content"][event["index"]], event["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            else:
                partial[event["index"]] = partial.get(event["index"], "") + delta["partial_json"]
        elif kind == "content_block_stop" and event["index"] in partial:
            message["content"][event["index"]]["input"] = json.loads(partial.pop(event["index"]))
        elif kind == "message_delta":
            message.update(event["delta"])
            message["usage"] = {**message["usage"], **event["usage"]}
        elif kind == "error":
            raise AssertionError(f"stream ended with an error: {event}")
    return message


@pytest.fixture(scope="module")
def loopback_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """The gateway fronting the scripted upstream over real HTTP, through the Anthropic and OpenAI adapters."""
    upstream = ServerThread(build_upstream_app).start()
    tmp: Path = tmp_path_factory.mktemp("loopback")
    config = GatewayConfig(db_url=f"sqlite:///{tmp / 'gw.sqlite3'}", upstreams=[upstream.url])
    gateway = ServerThread(lambda: build_app(config)).start()
    yield gateway
    gateway.stop()
    upstream.stop()


behaviours = st.fixed_dictionaries(
    {
        "text_tokens": st.integers(0, 40),
        "chunk": st.integers(1, 7),
        "seed": st.integers(0, 5),
    },
    optional={
        "stop": st.sampled_from(["STOP", "END"]),
        "tool": st.booleans(),
        "finish": st.sampled_from(["refusal"]),
    },
)


def exchange(
    server: ServerThread, b: dict[str, Any], max_tokens: int, backend: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    directive = f"text_tokens={b['text_tokens']}; chunk={b['chunk']}; seed={b['seed']}"
    body: dict[str, Any] = {
        "model": CANONICAL_MODEL,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "tell me something"}],
    }
    if "stop" in b:
        directive += f"; stop_sequence={b['stop']}"
        body["stop_sequences"] = [b["stop"]]
    if b.get("tool"):
        body["tools"] = [TOOL]
        body["tool_choice"] = {"type": "tool", "name": "lookup"}
    if "finish" in b:
        directive += f"; finish={b['finish']}"
    headers = {**AUTH, "x-upstream-script": directive, "x-ainfera-backend": backend}
    whole = httpx.post(f"{server.url}/v1/messages", headers=headers, json=body)
    streamed = httpx.post(f"{server.url}/v1/messages", headers=headers, json={**body, "stream": True})
    assert whole.status_code == streamed.status_code == 200, (whole.text, streamed.text)
    return whole.json(), fold(streamed.text)


@settings(max_examples=40)
@given(b=behaviours, max_tokens=st.integers(1, 60), backend=st.sampled_from(["anthropic", "mistral"]))
def test_fold_equals_message_in_process(
    gateway: ServerThread, b: dict[str, Any], max_tokens: int, backend: str
) -> None:
    """WIRE: in-process scripted backends — the folded stream equals the non-streaming message."""
    whole, folded = exchange(gateway, b, max_tokens, backend)
    assert folded == whole


@settings(max_examples=30)
@given(b=behaviours, max_tokens=st.integers(1, 60), backend=st.sampled_from(["anthropic", "openai"]))
def test_fold_equals_message_over_real_adapters(
    loopback_gateway: ServerThread, b: dict[str, Any], max_tokens: int, backend: str
) -> None:
    """WIRE: Anthropic-native and OpenAI-compatible adapters over loopback HTTP — the same fold property.

    Through the OpenAI dialect, message ids and tool-call ids are minted per call, so they are compared by shape.
    """
    whole, folded = exchange(loopback_gateway, b, max_tokens, backend)
    if backend == "openai":
        for m in (whole, folded):
            m["id"] = "msg_*"
            for block in m["content"]:
                if block["type"] == "tool_use":
                    block["id"] = "toolu_*"
    assert folded == whole
