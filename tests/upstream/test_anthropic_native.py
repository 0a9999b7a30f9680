"""The Anthropic-native adapter (``reference_server/upstream/anthropic_native.py``) against recorded Anthropic
traffic (``scenarios``): JSON and streamed answers, tool use in both modes, overload, an error event mid-stream,
a stream cut before ``message_stop``."""

from __future__ import annotations

import json

import pytest

from reference_server.upstream.base import UpstreamError, Usage
from tests.support.anthropic_stream import as_message_dict, check_grammar, fold, folded_dict
from tests.upstream.scenarios import (
    CANONICAL,
    FAKE_KEY,
    SCENARIOS,
    adapter_for,
    collect_until_error,
    hello_request,
    replay_events,
    replay_message,
    replaying,
)


async def test_anthropic_text_message() -> None:
    message = await replay_message("anthropic_text")
    assert message.id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert message.content == [{"type": "text", "text": "Hello there, nice to meet!"}]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage == Usage(input_tokens=21, output_tokens=10)


async def test_anthropic_stream_text_is_forwarded_in_order_without_pings() -> None:
    events = await replay_events("anthropic_stream_text")
    assert [event["type"] for event in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    check_grammar(events)
    # The provider's model id never reaches the gateway's clients.
    assert events[0]["message"]["model"] == CANONICAL
    folded = fold(events)
    assert folded["content"] == [{"type": "text", "text": "Hello there, nice to meet!"}]
    assert folded["usage"]["input_tokens"] == 21 and folded["usage"]["output_tokens"] == 10


async def test_anthropic_stream_text_folds_to_the_json_message() -> None:
    streamed = await replay_events("anthropic_stream_text")
    message = await replay_message("anthropic_text")
    assert folded_dict(streamed) == as_message_dict(message)


async def test_anthropic_stream_tool_use_fragments_join_to_the_tool_input() -> None:
    events = await replay_events("anthropic_stream_tool_use")
    check_grammar(events)
    fragments = [
        event["delta"]["partial_json"]
        for event in events
        if event["type"] == "content_block_delta" and event["index"] == 1
    ]
    assert len(fragments) == 5
    assert json.loads("".join(fragments)) == {"location": "Paris, France", "unit": "celsius"}
    assert fold(events)["stop_reason"] == "tool_use"


async def test_anthropic_tool_use_is_the_same_message_in_both_modes() -> None:
    streamed = await replay_events("anthropic_stream_tool_use")
    message = await replay_message("anthropic_tool_use")
    assert [block["type"] for block in message.content] == ["text", "tool_use"]
    assert message.stop_reason == "tool_use"
    assert folded_dict(streamed) == as_message_dict(message)


async def test_anthropic_529_overloaded_in_both_modes() -> None:
    async with replaying("anthropic_overloaded.yaml") as holder:
        adapter = adapter_for("anthropic", holder)
        with pytest.raises(UpstreamError) as caught:
            await adapter.chat(hello_request())
        events, streamed = await collect_until_error(adapter.stream_chat(hello_request()))
    for error in (caught.value, streamed):
        assert (error.status, error.error_type, error.dropped) == (529, "overloaded_error", False)
        assert "backend 'anthropic'" in error.message and "Overloaded" in error.message
        assert FAKE_KEY not in error.message
    assert events == []  # the error came before any event: the gateway answers it as an HTTP error


async def test_anthropic_error_event_mid_stream_is_an_upstream_error() -> None:
    scenario = SCENARIOS["anthropic_stream_error_event"]
    async with replaying(scenario.cassette) as holder:
        events, error = await collect_until_error(
            adapter_for("anthropic", holder).stream_chat(hello_request())
        )
    check_grammar(events, complete=False)
    assert [event["type"] for event in events][-1] == "content_block_delta"
    assert (error.status, error.error_type, error.dropped) == (529, "overloaded_error", False)


async def test_anthropic_stream_without_message_stop_is_a_drop() -> None:
    scenario = SCENARIOS["anthropic_stream_dropped"]
    async with replaying(scenario.cassette) as holder:
        events, error = await collect_until_error(
            adapter_for("anthropic", holder).stream_chat(hello_request())
        )
    check_grammar(events, complete=False)
    assert error.dropped and error.error_type == "api_error" and "message_stop" in error.message
