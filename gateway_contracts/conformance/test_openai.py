"""OpenAI profile: POST /v1/chat/completions, JSON and streamed (BRIEF §2)."""

from __future__ import annotations

import json

import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.envelopes import assert_error, assert_openai_error
from gateway_contracts.conformance.schemas import validate
from gateway_contracts.conformance.streams import assert_stream_follows_grammar, data_chunks
from gateway_contracts.failures import checking

pytestmark = pytest.mark.needs("surface:chat-completions")

FUNCTION = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.mark.clause("OAI-001")
def test_json_completion(gw: Exchanges) -> None:
    r = gw.post("/v1/chat/completions", gw.chat())
    assert r.status_code == 200, r.text[:300]
    validate(r.json(), "ChatCompletion")


@pytest.mark.clause("OAI-002")
def test_stream_chunks_end_in_done(gw: Exchanges) -> None:
    whole = gw.post("/v1/chat/completions", gw.chat())
    r = gw.post("/v1/chat/completions", gw.chat(stream=True))
    assert r.status_code == 200 and r.headers.get("content-type", "").startswith("text/event-stream")
    assert_stream_follows_grammar(r.content, "openai")
    chunks = data_chunks(r.text)
    assert chunks[-1] == "[DONE]"
    if "scripted-upstream" not in gw.target.features:
        return  # the same text twice needs a deterministic upstream
    text = "".join(
        (c["choices"][0]["delta"].get("content") or "")
        for c in chunks[:-1]
        if isinstance(c, dict) and c["choices"]
    )
    assert text == whole.json()["choices"][0]["message"]["content"]


@pytest.mark.clause("OAI-003")
def test_include_usage_chunk(gw: Exchanges) -> None:
    r = gw.post("/v1/chat/completions", gw.chat(stream=True, stream_options={"include_usage": True}))
    assert r.status_code == 200
    assert_stream_follows_grammar(r.content, "openai")  # a broken stream is its OAI-SSE clause's finding
    chunks = [c for c in data_chunks(r.text) if c != "[DONE]"]
    usage_chunks = [c for c in chunks if isinstance(c, dict) and c.get("usage")]
    assert len(usage_chunks) == 1, f"{len(usage_chunks)} chunks carry usage"
    assert usage_chunks[0] is chunks[-1] and usage_chunks[0]["choices"] == []
    usage = usage_chunks[0]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.clause("OAI-004")
def test_tool_call_deltas(gw: Exchanges) -> None:
    body = gw.chat(
        stream=True,
        max_tokens=200,
        tools=[FUNCTION],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    r = gw.post("/v1/chat/completions", body)
    assert r.status_code == 200, r.text[:300]
    assert_stream_follows_grammar(r.content, "openai")
    args: dict[int, str] = {}
    first: dict[int, dict[str, object]] = {}
    finish = None
    for chunk in data_chunks(r.text):
        if not isinstance(chunk, dict):
            continue
        for choice in chunk["choices"]:
            for call in choice["delta"].get("tool_calls") or []:
                first.setdefault(call["index"], call)
                args[call["index"]] = args.get(call["index"], "") + (
                    call.get("function", {}).get("arguments") or ""
                )
            finish = choice.get("finish_reason") or finish
    assert finish == "tool_calls" and 0 in first, f"finish={finish}, tool calls={sorted(first)}"
    assert first[0].get("id") and first[0]["function"]["name"] == "get_weather"  # type: ignore[index]
    assert isinstance(json.loads(args[0]), dict)


@pytest.mark.clause("OAI-005")
@pytest.mark.parametrize(
    "change",
    [{"messages": [{"role": "wizard", "content": "x"}]}, {"max_tokens": -3}, {"messages": []}, {"model": 7}],
    ids=["role", "max_tokens", "empty-messages", "model-type"],
)
def test_invalid_chat_request(gw: Exchanges, change: dict[str, object]) -> None:
    r = gw.post("/v1/chat/completions", {**gw.chat(), **change})
    assert 400 <= r.status_code < 500, f"status {r.status_code}"
    assert_openai_error(r)


@pytest.mark.clause("OAI-006")
@pytest.mark.parametrize(
    "change",
    [{"messages": [{"role": "wizard", "content": "x"}]}, {"max_tokens": -3}],
    ids=["role", "max_tokens"],
)
def test_chat_errors_in_the_seeds_envelope(gw: Exchanges, change: dict[str, object]) -> None:
    r = gw.post("/v1/chat/completions", {**gw.chat(), **change})
    with checking("OAI-005"):  # the status is OAI-005's promise; this clause is about the envelope
        assert 400 <= r.status_code < 500, f"status {r.status_code}"
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
    assert isinstance(body, dict) and body.get("type") == "error", (
        f"not the Anthropic envelope: {r.text[:200]}"
    )
    assert_error(r, r.status_code)
