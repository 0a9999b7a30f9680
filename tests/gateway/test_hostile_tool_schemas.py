"""Hostile tool schemas (issue 15): what the scripted upstream generates for a forced tool is budgeted, so no schema
stalls the event loop or crashes it; an unservable schema is one clean 400."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.upstream.scripted.tool_input import MAX_TOOL_INPUT_CHARS
from tests.hostile.support import envelope_problems
from tests.support.servers import ServerThread

AUTH = {"x-api-key": "k"}
PROBE_BOUND_S = 2.0

STALLING = {
    "minItems 2000000": {"type": "array", "minItems": 2_000_000},
    "minProperties 1e6": {"type": "object", "minProperties": 1_000_000},
    "minLength 2e8": {"type": "string", "minLength": 200_000_000},
    "nested minItems": {"type": "array", "minItems": 2000, "items": {"type": "array", "minItems": 2000}},
}
CRASHING = {
    "recursive $ref": {"$ref": "#/properties/p"},
    "recursive $defs": {"$ref": "#/$defs/n"},
    "minLength as a string": {"type": "string", "minLength": "5"},
    "exclusiveMinimum 1e308 with multipleOf": {
        "type": "integer",
        "exclusiveMinimum": 1e308,
        "multipleOf": 0.5,
    },
    "maximum as a string": {"type": "number", "minimum": 3, "maximum": "9"},
    "negative minItems": {"type": "array", "minItems": -4},
    "boolean minLength": {"type": "string", "minLength": True},
}


def forced_tool_body(property_schema: dict[str, Any], *, stream: bool = False) -> dict[str, Any]:
    return {
        "model": CANONICAL_MODEL,
        "max_tokens": 32_768,  # the contract's ceiling: the budget, not max_tokens, must stop the generator
        "stream": stream,
        "messages": [{"role": "user", "content": "call it"}],
        "tools": [{"name": "t", "input_schema": input_schema(property_schema)}],
        "tool_choice": {"type": "tool", "name": "t"},
    }


def input_schema(property_schema: dict[str, Any]) -> dict[str, Any]:
    """An object whose one required property ``p`` has ``property_schema``; ``$defs.n`` recurses without end."""
    return {
        "type": "object",
        "required": ["p"],
        "properties": {"p": property_schema},
        "$defs": {"n": {"type": "object", "required": ["x"], "properties": {"x": {"$ref": "#/$defs/n"}}}},
    }


def healthz_latencies(url: str, stop: threading.Event, probing: threading.Event, out: list[float]) -> None:
    with httpx.Client() as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get(f"{url}/healthz", timeout=30)
            out.append(time.perf_counter() - started)
            probing.set()


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("schema", list(STALLING.values()), ids=list(STALLING))
def test_huge_forced_tool_input_is_refused_without_stalling_the_loop(
    gateway: ServerThread, schema: dict[str, Any], stream: bool
) -> None:
    latencies: list[float] = []
    stop, probing = threading.Event(), threading.Event()
    prober = threading.Thread(target=healthz_latencies, args=(gateway.url, stop, probing, latencies))
    prober.start()
    try:
        assert probing.wait(timeout=30)
        r = httpx.post(
            f"{gateway.url}/v1/messages", json=forced_tool_body(schema, stream=stream), headers=AUTH
        )
    finally:
        stop.set()
        prober.join()
    assert r.status_code == 400, r.text[:300]
    assert not envelope_problems(r.status_code, dict(r.headers), r.content)
    assert str(MAX_TOOL_INPUT_CHARS) in r.json()["error"]["message"]
    assert latencies and max(latencies) < PROBE_BOUND_S, f"/healthz took {max(latencies):.2f}s"


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
@pytest.mark.parametrize("schema", list(CRASHING.values()), ids=list(CRASHING))
def test_malformed_tool_schema_is_a_clean_400(
    gateway: ServerThread, schema: dict[str, Any], path: str
) -> None:
    body = forced_tool_body(schema)
    if path == "/v1/chat/completions":
        body = {
            "model": CANONICAL_MODEL,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": "call it"}],
            "tools": [{"type": "function", "function": {"name": "t", "parameters": input_schema(schema)}}],
            "tool_choice": {"type": "function", "function": {"name": "t"}},
        }
    r = httpx.post(f"{gateway.url}{path}", json=body, headers=AUTH)
    assert r.status_code == 400, r.text[:300]
    assert not envelope_problems(r.status_code, dict(r.headers), r.content)


def test_schema_within_budget_still_gets_its_input(gateway: ServerThread) -> None:
    r = httpx.post(
        f"{gateway.url}/v1/messages", json=forced_tool_body({"type": "array", "minItems": 500}), headers=AUTH
    )
    assert r.status_code == 200, r.text[:300]
    assert len(r.json()["content"][-1]["input"]["p"]) == 500
