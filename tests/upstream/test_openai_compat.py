"""The OpenAI-compatible adapter (``reference_server/upstream/openai_compat.py``) against recorded OpenAI and
vLLM traffic (``scenarios``) and, for what a cassette cannot hold, a loopback server: answers and streams read
into Anthropic form, tool call deltas, rate limits, drops, an error chunk mid-stream, Mistral's quirks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from reference_server.upstream.base import UpstreamError, Usage
from reference_server.upstream.http_session import SessionHolder
from reference_server.upstream.openai_compat import OpenAICompatAdapter
from reference_server.upstream.registry import BACKENDS
from tests.support.anthropic_stream import as_message_dict, check_grammar, folded_dict
from tests.upstream.loopback import loopback
from tests.upstream.scenarios import (
    CANONICAL,
    PARIS,
    SCENARIOS,
    TOOLS,
    adapter_for,
    collect_until_error,
    hello_request,
    replay_events,
    replay_message,
    replaying,
    weather_request,
)


async def test_openai_json_text_becomes_an_anthropic_message() -> None:
    message = await replay_message("openai_text")
    assert message.id == "msg_chatcmpl-CK2hW9fPq0mZ3xYvB7nT4sLr8uEa1"
    assert message.content == [{"type": "text", "text": "Hello there, nice to meet!"}]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage == Usage(input_tokens=22, output_tokens=8)


async def test_openai_stream_with_include_usage() -> None:
    events = await replay_events("openai_stream_text")
    check_grammar(events)
    assert [event["type"] for event in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[0]["message"]["model"] == CANONICAL
    # The usage chunk (choices: []) arrives last; its counts are in message_delta, cumulative.
    assert events[-2]["usage"] == {"input_tokens": 22, "output_tokens": 8}
    assert folded_dict(events) == as_message_dict(await replay_message("openai_text"))


async def test_openai_stream_tool_call_deltas_become_tool_use_blocks() -> None:
    events = await replay_events("openai_stream_tool_calls")
    check_grammar(events)
    starts = [event["content_block"] for event in events if event["type"] == "content_block_start"]
    assert starts == [
        {"type": "tool_use", "id": "call_Xk2bP9qLm4nR7sT1uV3wY5zA", "name": "get_weather", "input": {}},
        {"type": "tool_use", "id": "call_Bc6dE8fG0hI2jK4lM6nO8pQr", "name": "get_weather", "input": {}},
    ]
    for index, city, pieces in ((0, "Paris, France", 3), (1, "Tokyo, Japan", 2)):
        fragments = [
            event["delta"]["partial_json"]
            for event in events
            if event["type"] == "content_block_delta" and event["index"] == index
        ]
        assert len(fragments) == pieces
        assert json.loads("".join(fragments)) == {"location": city, "unit": "celsius"}
    assert events[-2]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}


async def test_openai_tool_calls_are_the_same_message_in_both_modes() -> None:
    message = await replay_message("openai_tool_calls")
    assert [block["type"] for block in message.content] == ["tool_use", "tool_use"]
    assert message.stop_reason == "tool_use"
    assert folded_dict(await replay_events("openai_stream_tool_calls")) == as_message_dict(message)


async def test_openai_429_maps_to_rate_limit_error_in_both_modes() -> None:
    async with replaying("openai_rate_limited.yaml") as holder:
        adapter = adapter_for("openai", holder)
        with pytest.raises(UpstreamError) as caught:
            await adapter.chat(hello_request())
        events, streamed = await collect_until_error(adapter.stream_chat(hello_request()))
    assert events == []
    for error in (caught.value, streamed):
        # OpenAI's own type ("tokens"/"requests") is replaced by Anthropic's type for the status.
        assert (error.status, error.error_type, error.dropped) == (429, "rate_limit_error", False)
        assert "backend 'openai' answered HTTP 429" in error.message and "Rate limit reached" in error.message


async def test_openai_stream_without_done_is_a_drop() -> None:
    scenario = SCENARIOS["openai_stream_no_done"]
    async with replaying(scenario.cassette) as holder:
        events, error = await collect_until_error(adapter_for("openai", holder).stream_chat(hello_request()))
    check_grammar(events, complete=False)
    assert error.dropped and "[DONE]" in error.message


async def test_vllm_stop_reason_names_the_matched_stop_sequence_in_both_modes() -> None:
    message = await replay_message("vllm_stop_sequence")
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "###")
    events = await replay_events("vllm_stream_stop_sequence")
    check_grammar(events)
    assert events[-2]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "###"}
    assert folded_dict(events) == as_message_dict(message)


async def test_openai_error_chunk_mid_stream() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n')
        await response.write(
            b'data: {"error":{"message":"The server is overloaded","type":"server_error"}}\n\n'
        )
        return response

    holder = SessionHolder()
    try:
        async with loopback(handler) as url:
            adapter = OpenAICompatAdapter("together", url, "key", TOOLS, holder, "m")
            events, error = await collect_until_error(adapter.stream_chat(hello_request()))
    finally:
        await holder.close()
    assert len(events) == 3
    assert (error.status, error.error_type, error.dropped) == (500, "api_error", False)


async def test_mistral_quirks_no_stream_options_short_tool_ids_and_its_error_shape() -> None:
    received: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        received.append(await request.json())
        detail = {"detail": [{"type": "extra_forbidden", "loc": ["body", "x"], "msg": "Extra inputs"}]}
        body = {"object": "error", "message": detail, "type": "invalid_request_error", "code": None}
        return web.json_response(body, status=422)

    request = weather_request(PARIS)
    request.messages += [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9",
                                           "name": "get_weather", "input": {"location": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                                      "content": "18C"}]},
    ]  # fmt: skip
    holder = SessionHolder()
    try:
        async with loopback(handler) as url:
            spec = BACKENDS["mistral"]
            mistral = OpenAICompatAdapter(
                "mistral", url, "key", TOOLS, holder, "m",
                stream_usage_option=spec.stream_usage_option, short_tool_ids=spec.short_tool_ids,
            )  # fmt: skip
            events, error = await collect_until_error(mistral.stream_chat(request))
    finally:
        await holder.close()
    body = received[0]
    assert body["stream"] is True and "stream_options" not in body
    call_id = body["messages"][1]["tool_calls"][0]["id"]
    assert len(call_id) == 9 and call_id.isalnum() and body["messages"][2]["tool_call_id"] == call_id
    assert events == [] and (error.status, error.error_type) == (400, "invalid_request_error")
    assert "extra_forbidden" in error.message
