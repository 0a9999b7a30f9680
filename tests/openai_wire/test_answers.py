"""Answer translation (``reference_server/openai_wire``): inbound, the gateway's Anthropic answer as a
``chat.completion`` and as chunks; outbound, an upstream's completion and chunks read back into Anthropic form;
and both together, which fold back to the message they started from."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from reference_server.openai_wire import (
    AnthropicEventTranslator,
    OpenAIChunkTranslator,
    WireError,
    anthropic_events_to_openai_chunks,
    message_to_openai_completion,
    openai_completion_to_message,
)
from reference_server.upstream.base import StreamEvent, UpstreamMessage, Usage
from tests.support.anthropic_stream import as_message_dict, check_grammar, fold, folded_dict
from tests.upstream.scenarios import CANONICAL

TOOL_MESSAGE = UpstreamMessage(
    id="msg_01abc",
    content=[
        {"type": "text", "text": "Checking both."},
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"location": "Paris"}},
        {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"location": "Tokyo"}},
    ],
    stop_reason="tool_use",
    stop_sequence=None,
    usage=Usage(input_tokens=30, output_tokens=12),
)


def anthropic_stream_of(message: UpstreamMessage, *, split: int = 3) -> list[StreamEvent]:
    """The Anthropic event stream of a finished message, text and JSON cut into ``split``-character pieces."""
    events: list[StreamEvent] = [
        {"type": "message_start", "message": {"id": message.id, "type": "message", "role": "assistant",
         "model": CANONICAL, "content": [], "stop_reason": None, "stop_sequence": None,
         "usage": {"input_tokens": message.usage.input_tokens, "output_tokens": 1}}},
        {"type": "ping"},
    ]  # fmt: skip
    for index, block in enumerate(message.content):
        if block["type"] == "text":
            events.append(
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
            )
            pieces, kind, key = block["text"], "text_delta", "text"
        else:
            start = {**block, "input": {}}
            events.append({"type": "content_block_start", "index": index, "content_block": start})
            pieces, kind, key = json.dumps(block["input"]), "input_json_delta", "partial_json"
        for at in range(0, len(pieces), split):
            events.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": kind, key: pieces[at : at + split]},
                }
            )
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message.stop_reason, "stop_sequence": message.stop_sequence},
            "usage": {"output_tokens": message.usage.output_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return events


def test_message_to_openai_completion() -> None:
    completion = message_to_openai_completion(TOOL_MESSAGE, model=CANONICAL, created=1700000000)
    assert completion["id"] == "chatcmpl-01abc" and completion["object"] == "chat.completion"
    assert completion["model"] == CANONICAL and completion["created"] == 1700000000
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Checking both."
    assert [call["function"]["arguments"] for call in choice["message"]["tool_calls"]] == [
        '{"location":"Paris"}',
        '{"location":"Tokyo"}',
    ]
    assert completion["usage"] == {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}
    # And back: the OpenAI-compatible adapter reads it as the same message.
    back = openai_completion_to_message(completion)
    assert as_message_dict(back) == as_message_dict(TOOL_MESSAGE)


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
     ("refusal", "content_filter")],
)  # fmt: skip
def test_finish_reasons_both_ways(stop_reason: str, finish_reason: str) -> None:
    stop_sequence = "###" if stop_reason == "stop_sequence" else None
    message = UpstreamMessage(
        "msg_1", [{"type": "text", "text": "x"}], stop_reason, stop_sequence, Usage(1, 1)
    )
    completion = message_to_openai_completion(message, model=CANONICAL)
    assert completion["choices"][0]["finish_reason"] == finish_reason
    completion["choices"][0]["stop_reason"] = stop_sequence  # as vLLM reports it
    back = openai_completion_to_message(completion, stop_sequences=["###"])
    assert (back.stop_reason, back.stop_sequence) == (stop_reason, stop_sequence)


def test_vllm_stop_reason_outside_the_request_sequences_is_ignored() -> None:
    choice = {"index": 0, "message": {"content": "x"}, "finish_reason": "stop", "stop_reason": 128009}
    body: dict[str, Any] = {"id": "c", "choices": [choice]}
    assert openai_completion_to_message(body, stop_sequences=["###"]).stop_reason == "end_turn"
    body["choices"][0]["stop_reason"] = "END"
    assert openai_completion_to_message(body, stop_sequences=["###"]).stop_reason == "end_turn"


async def aiter_of(events: list[StreamEvent]) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event


@pytest.mark.parametrize("include_usage", [True, False])
async def test_anthropic_events_to_openai_chunks(include_usage: bool) -> None:
    chunks = [
        chunk
        async for chunk in anthropic_events_to_openai_chunks(
            aiter_of(anthropic_stream_of(TOOL_MESSAGE)), model=CANONICAL, include_usage=include_usage
        )
    ]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(chunk["object"] == "chat.completion.chunk" and chunk["model"] == CANONICAL for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    content = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks if chunk["choices"])
    assert content == "Checking both."
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for call in chunk["choices"][0]["delta"].get("tool_calls", []) if chunk["choices"] else []:
            entry = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
            entry["id"] += call.get("id", "")
            entry["name"] += call.get("function", {}).get("name", "")
            entry["arguments"] += call["function"].get("arguments", "")
    assert calls == {
        0: {"id": "toolu_a", "name": "get_weather", "arguments": '{"location": "Paris"}'},
        1: {"id": "toolu_b", "name": "get_weather", "arguments": '{"location": "Tokyo"}'},
    }
    finals = [chunk for chunk in chunks if chunk["choices"] and chunk["choices"][0]["finish_reason"]]
    assert len(finals) == 1 and finals[0]["choices"][0]["finish_reason"] == "tool_calls"
    if include_usage:
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"] == {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}
        assert all(chunk["usage"] is None for chunk in chunks[:-1])
        assert chunks[-2] is finals[0]
    else:
        assert chunks[-1] is finals[0] and all("usage" not in chunk for chunk in chunks)


def test_anthropic_error_event_becomes_an_openai_error_chunk() -> None:
    translator = AnthropicEventTranslator(model=CANONICAL, include_usage=True)
    event = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert translator.feed(event) == [
        {"error": {"message": "Overloaded", "type": "overloaded_error", "param": None, "code": None}}
    ]


@pytest.mark.parametrize(
    "message", [TOOL_MESSAGE, UpstreamMessage("msg_2", [], "max_tokens", None, Usage(5, 0))]
)
def test_gateway_chunks_read_back_by_the_adapter_fold_to_the_message(message: UpstreamMessage) -> None:
    """Anthropic events → OpenAI chunks (the gateway's route) → Anthropic events (the adapter) → fold."""
    forward = AnthropicEventTranslator(model=CANONICAL, include_usage=True)
    backward = OpenAIChunkTranslator(model=CANONICAL)
    events: list[StreamEvent] = []
    for event in anthropic_stream_of(message):
        for chunk in forward.feed(event):
            events.extend(backward.feed(json.loads(json.dumps(chunk))))
    events.extend(backward.finish())
    check_grammar(events)
    assert folded_dict(events) == as_message_dict(message)


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, **extra}]}


def translate(chunks: list[dict[str, Any]], stop_sequences: tuple[str, ...] = ()) -> list[StreamEvent]:
    translator = OpenAIChunkTranslator(model=CANONICAL, stop_sequences=stop_sequences)
    events = [event for item in chunks for event in translator.feed(item)]
    return events + translator.finish()


def test_chunk_translator_buffers_arguments_until_the_name_arrives_and_fills_empty_input() -> None:
    events = translate(
        [
            chunk({"tool_calls": [{"index": 0, "id": "call_1", "function": {"arguments": '{"a"'}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": ":1}"}}]}),
            chunk({"tool_calls": [{"index": 1, "id": "call_2", "function": {"name": "g"}}]}),
            chunk({}, "tool_calls"),
            {"id": "c1", "choices": [], "x_groq": {"usage": {"prompt_tokens": 4, "completion_tokens": 2}}},
        ]
    )
    check_grammar(events)
    folded = fold(events)
    assert folded["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
        {"type": "tool_use", "id": "call_2", "name": "g", "input": {}},
    ]
    assert folded["usage"] == {"input_tokens": 4, "output_tokens": 2}


def test_chunk_translator_maps_vllm_stop_reason_and_refusal() -> None:
    events = translate([chunk({"content": "1, 2"}), chunk({}, "stop", stop_reason="###")], ("###",))
    assert events[-2]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "###"}
    events = translate([chunk({"refusal": "I can't help with that."}), chunk({}, "stop")])
    check_grammar(events)
    assert fold(events)["stop_reason"] == "refusal"


@pytest.mark.parametrize(
    "chunks",
    [
        [  # arguments that do not parse
            chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": '{"a":'}}]}),
            chunk({}, "tool_calls"),
        ],
        [  # a fragment of call 0 after call 1 began: Anthropic's blocks cannot interleave
            chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}]}),
            chunk({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": " "}}]}),
        ],
        [
            chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"arguments": "{}"}}]}),
            chunk({}, "stop"),
        ],
    ],
)
def test_chunk_translator_refuses_what_anthropic_cannot_express(chunks: list[dict[str, Any]]) -> None:
    with pytest.raises(WireError):
        translate(chunks)
