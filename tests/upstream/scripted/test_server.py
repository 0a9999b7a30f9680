"""The scripted upstream over real HTTP (``reference_server/upstream/scripted/server.py``), on a loopback
server started on a free port: both dialects match the in-process adapter, errors and bad input in the route's
dialect, drops, the OpenAI renderings, ``/_received``, and the official SDKs reading it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import jsonschema
import pytest

from reference_server.upstream.base import ERROR_TYPE_BY_STATUS, UpstreamRequest
from reference_server.upstream.scripted import DIRECTIVE_HEADER, ScriptedAdapter, scripted_words
from tests.upstream.scripted.support import (
    ERROR_STATUSES,
    TOOLS,
    WEATHER_SCHEMA,
    as_message_dict,
    check_grammar,
    fold,
)


def anthropic_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "scripted-model",
        "max_tokens": 256,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": "What is the weather like in Lisbon today?"}],
        **extra,
    }


def openai_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "scripted-model",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What is the weather like in Lisbon today?"},
        ],
        **extra,
    }


OPENAI_TOOLS = [
    {"type": "function", "function": {"name": t["name"], "parameters": t["input_schema"]}} for t in TOOLS
]


def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    """Strict SSE parsing: LF only, every frame ends with a blank line, event name equals JSON type."""
    text = raw.decode()
    assert "\r" not in text and not text.startswith("\ufeff") and text.endswith("\n\n")
    events = []
    for frame in text[:-2].split("\n\n"):
        name_line, data_line = frame.split("\n")
        event = json.loads(data_line.removeprefix("data: "))
        assert name_line == f"event: {event['type']}"
        events.append(event)
    return events


def parse_data_chunks(raw: bytes) -> list[Any]:
    text = raw.decode()
    assert text.endswith("data: [DONE]\n\n")
    frames = text[:-2].split("\n\n")
    return [
        f.removeprefix("data: ") if f == "data: [DONE]" else json.loads(f.removeprefix("data: "))
        for f in frames
    ]


async def test_server_anthropic_json_and_stream_match_the_adapter(
    upstream: str, http: aiohttp.ClientSession
) -> None:
    """POST /v1/messages serves the same answer as the adapter: JSON equals chat(), SSE folds to the JSON."""
    headers = {"X-Upstream-Script": "tool=get_weather; text_before_tool=1"}
    body = anthropic_body(tools=TOOLS)
    async with http.post(f"{upstream}/v1/messages", json=body, headers=headers) as resp:
        assert resp.status == 200
        message = await resp.json()
    request = UpstreamRequest(
        model=body["model"],
        max_tokens=body["max_tokens"],
        messages=body["messages"],
        system=body["system"],
        tools=TOOLS,
        headers={DIRECTIVE_HEADER: headers["X-Upstream-Script"]},
    )
    expected = as_message_dict(await ScriptedAdapter().chat(request))
    assert {k: message[k] for k in expected} == expected
    assert (message["type"], message["role"], message["model"]) == ("message", "assistant", "scripted-model")
    async with http.post(f"{upstream}/v1/messages", json={**body, "stream": True}, headers=headers) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        events = parse_sse(await resp.read())
    check_grammar(events)
    assert fold(events) == message


@pytest.mark.parametrize("status", ERROR_STATUSES)
async def test_server_errors_in_both_dialects(
    upstream: str, http: aiohttp.ClientSession, status: int
) -> None:
    """error=N is an HTTP N with an Anthropic error body on /v1/messages and an OpenAI one on
    /v1/chat/completions, streaming or not."""
    headers = {"X-Upstream-Script": f"error={status}"}
    async with http.post(
        f"{upstream}/v1/messages", json=anthropic_body(stream=True), headers=headers
    ) as resp:
        assert resp.status == status
        body = await resp.json()
    assert body["type"] == "error" and body["error"]["type"] == ERROR_TYPE_BY_STATUS.get(status, "api_error")
    async with http.post(f"{upstream}/v1/chat/completions", json=openai_body(), headers=headers) as resp:
        assert resp.status == status
        error = (await resp.json())["error"]
    assert error["message"] and error["type"] and error["code"] == body["error"]["type"]


async def test_server_bad_input_is_a_400(upstream: str, http: aiohttp.ClientSession) -> None:
    """A bad directive, malformed JSON or a bad max_tokens is a 400 in the route's dialect, naming it."""
    bad = {"X-Upstream-Script": "colour=blue"}
    async with http.post(f"{upstream}/v1/messages", json=anthropic_body(), headers=bad) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert body["error"]["type"] == "invalid_request_error" and "colour" in body["error"]["message"]
    async with http.post(f"{upstream}/v1/chat/completions", json=openai_body(), headers=bad) as resp:
        assert resp.status == 400 and "colour" in (await resp.json())["error"]["message"]
    async with http.post(f"{upstream}/v1/messages", data=b"{not json", headers=bad) as resp:
        assert resp.status == 400
    async with http.post(f"{upstream}/v1/messages", json=anthropic_body(max_tokens=-1)) as resp:
        assert resp.status == 400 and "max_tokens" in (await resp.json())["error"]["message"]


async def test_server_drop_after_aborts_the_connection(upstream: str, http: aiohttp.ClientSession) -> None:
    """drop_after=N on the server: N content deltas, then the connection dies without a terminating event
    (Anthropic route) or finish chunk and [DONE] (OpenAI route)."""
    headers = {"X-Upstream-Script": "drop_after=2"}
    for path, body in (
        ("/v1/messages", anthropic_body(stream=True)),
        ("/v1/chat/completions", openai_body(stream=True)),
    ):
        received = b""
        async with http.post(f"{upstream}{path}", json=body, headers=headers) as resp:
            assert resp.status == 200
            with pytest.raises(aiohttp.ClientPayloadError):
                async for line in resp.content:
                    received += line
        text = received.decode()
        assert text.count('"text_delta"') + text.count('"content": "') - text.count('"content": ""') == 2
        assert "message_stop" not in text and "[DONE]" not in text and 'finish_reason": "stop' not in text
    async with http.post(f"{upstream}/v1/messages", json=anthropic_body(), headers=headers) as resp:
        assert resp.status == 500 and (await resp.json())["error"]["type"] == "api_error"


async def test_server_openai_json_rendering(upstream: str, http: aiohttp.ClientSession) -> None:
    """chat.completion objects: text with usage; tool_calls with JSON arguments valid against the
    parameters; stop sequences as finish_reason stop plus vLLM's stop_reason; refusal as content_filter."""
    async with http.post(f"{upstream}/v1/chat/completions", json=openai_body(max_tokens=50)) as resp:
        completion = await resp.json()
    assert completion["id"].startswith("chatcmpl-") and completion["object"] == "chat.completion"
    (choice,) = completion["choices"]
    assert choice["message"] == {"role": "assistant", "content": " ".join(scripted_words(12))}
    assert choice["finish_reason"] == "stop" and "stop_reason" not in choice
    usage = completion["usage"]
    assert usage["completion_tokens"] == 12 and usage["total_tokens"] == usage["prompt_tokens"] + 12

    body = openai_body(
        tools=OPENAI_TOOLS, tool_choice={"type": "function", "function": {"name": "get_weather"}}
    )
    async with http.post(f"{upstream}/v1/chat/completions", json=body) as resp:
        (choice,) = (await resp.json())["choices"]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["function"]["name"] == "get_weather"
    jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER_SCHEMA)

    async with http.post(
        f"{upstream}/v1/chat/completions",
        json=openai_body(stop="END"),
        headers={"X-Upstream-Script": "finish=stop_sequence"},
    ) as resp:
        (choice,) = (await resp.json())["choices"]
    assert (choice["finish_reason"], choice["stop_reason"]) == ("stop", "END")
    async with http.post(
        f"{upstream}/v1/chat/completions", json=openai_body(), headers={"X-Upstream-Script": "finish=refusal"}
    ) as resp:
        assert (await resp.json())["choices"][0]["finish_reason"] == "content_filter"


async def test_server_openai_stream_rendering(upstream: str, http: aiohttp.ClientSession) -> None:
    """Streamed chunks: a role chunk first, text deltas that add up to the JSON content, tool-call deltas by
    index (id and name first, then argument fragments), a finish chunk, the usage chunk only with
    include_usage, and data: [DONE] last."""
    body = openai_body(tools=OPENAI_TOOLS, tool_choice="required")
    headers = {"X-Upstream-Script": "text_before_tool=1; text_tokens=5"}
    async with http.post(f"{upstream}/v1/chat/completions", json=body, headers=headers) as resp:
        completion = await resp.json()
    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    async with http.post(f"{upstream}/v1/chat/completions", json=stream_body, headers=headers) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        chunks = parse_data_chunks(await resp.read())
    assert chunks[-1] == "[DONE]"
    usage_chunk, finish_chunk = chunks[-2], chunks[-3]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"] == completion["usage"]
    assert finish_chunk["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [c["choices"][0]["delta"] for c in chunks[:-2]]
    text = "".join(d.get("content") or "" for d in deltas)
    assert text == completion["choices"][0]["message"]["content"]
    calls = [tc for d in deltas for tc in d.get("tool_calls", [])]
    assert all(tc["index"] == 0 for tc in calls)
    assert calls[0]["id"].startswith("call_") and calls[0]["function"] == {
        "name": "get_weather",
        "arguments": "",
    }
    arguments = "".join(tc["function"]["arguments"] for tc in calls)
    assert len(calls) - 1 >= 3
    expected_call = completion["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(arguments) == json.loads(expected_call["function"]["arguments"])

    async with http.post(
        f"{upstream}/v1/chat/completions", json={**body, "stream": True}, headers=headers
    ) as resp:
        plain = parse_data_chunks(await resp.read())
    assert all(c == "[DONE]" or (c["choices"] and "usage" not in c) for c in plain)


async def test_received_records_headers_and_bodies(upstream: str, http: aiohttp.ClientSession) -> None:
    """GET /_received lists what the server got (lower-case headers, JSON body), newest last, at most 200;
    DELETE clears it."""
    traceparent = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    for n in range(3):
        body = anthropic_body(metadata={"user_id": f"user-{n}"})
        async with http.post(
            f"{upstream}/v1/messages", json=body, headers={"traceparent": traceparent}
        ) as resp:
            assert resp.status == 200
    async with http.get(f"{upstream}/_received") as resp:
        log = await resp.json()
    assert [entry["json"]["metadata"]["user_id"] for entry in log] == ["user-0", "user-1", "user-2"]
    assert log[-1]["headers"]["traceparent"] == traceparent and log[-1]["path"] == "/v1/messages"
    async with http.delete(f"{upstream}/_received") as resp:
        assert resp.status == 204
    await asyncio.gather(*(http.post(f"{upstream}/v1/messages", json=anthropic_body()) for _ in range(205)))
    async with http.get(f"{upstream}/_received") as resp:
        assert len(await resp.json()) == 200


async def test_official_sdks_accept_the_server(upstream: str) -> None:
    """The anthropic and openai SDKs parse the server's answers; the anthropic stream's final message equals
    the non-streaming one."""
    anthropic = pytest.importorskip("anthropic")
    openai = pytest.importorskip("openai")
    headers = {"X-Upstream-Script": "tool=get_weather; text_before_tool=1"}
    client = anthropic.AsyncAnthropic(base_url=upstream, api_key="test-key", default_headers=headers)
    kwargs = {k: v for k, v in anthropic_body(tools=TOOLS).items()}
    message = await client.messages.create(**kwargs)
    async with client.messages.stream(**kwargs) as stream:
        final = await stream.get_final_message()
    assert final.model_dump() == message.model_dump()
    await client.close()
    oai = openai.AsyncOpenAI(base_url=f"{upstream}/v1", api_key="test-key")
    completion = await oai.chat.completions.create(**openai_body())
    assert completion.choices[0].message.content == " ".join(scripted_words(12))
    await oai.close()


async def test_latency_on_the_server_is_a_lower_bound(upstream: str, http: aiohttp.ClientSession) -> None:
    """first_byte_ms delays the response headers on the server too."""
    started = time.monotonic()
    async with http.post(
        f"{upstream}/v1/messages",
        json=anthropic_body(stream=True),
        headers={"X-Upstream-Script": "first_byte_ms=50"},
    ) as resp:
        assert resp.status == 200
        await resp.read()
    assert time.monotonic() - started >= 0.045
