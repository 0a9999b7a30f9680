"""What the scripted upstream's tests share: a request with a directive header, the tools it offers, and the
strict reading of an Anthropic stream (its grammar, and the message it folds to)."""

from __future__ import annotations

import copy
import json
from typing import Any

from reference_server.upstream.base import UpstreamMessage, UpstreamRequest
from reference_server.upstream.finish_reasons import ANTHROPIC_STOP_REASONS
from reference_server.upstream.scripted import DIRECTIVE_HEADER, ScriptedAdapter

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 12},
        "days": {"type": "integer", "minimum": 3, "maximum": 10},
        "unit": {"enum": ["celsius", "fahrenheit"]},
        "detailed": {"type": "boolean"},
    },
    "required": ["city"],
}
TOOLS: list[dict[str, Any]] = [
    {"name": "get_weather", "description": "Weather for a city", "input_schema": WEATHER_SCHEMA},
    {"name": "noop", "input_schema": {"type": "object", "properties": {}}},
]


def make_request(
    script: str = "",
    *,
    max_tokens: int = 256,
    content: str = "What is the weather like in Lisbon today?",
    tools: list[dict[str, Any]] | None = None,
    tool_choice: dict[str, Any] | None = None,
    stop_sequences: list[str] | None = None,
) -> UpstreamRequest:
    return UpstreamRequest(
        model="scripted-model",
        max_tokens=max_tokens,
        messages=[{"role": "user", "content": content}],
        system="You are terse.",
        stop_sequences=stop_sequences or [],
        tools=tools,
        tool_choice=tool_choice,
        headers={DIRECTIVE_HEADER: script, "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"},
    )


async def collect(adapter: ScriptedAdapter, request: UpstreamRequest) -> list[dict[str, Any]]:
    return [event async for event in adapter.stream_chat(request)]


# Not tests.support.anthropic_stream's reading: the scripted upstream sends pings, as Anthropic does, where an
# adapter's output must have none; and its streamed and JSON answers carry the same id, which two recordings of a
# provider do not. So this reading allows pings, compares ids and checks usage is cumulative.


def fold(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold an Anthropic event stream into the message it describes (the way a strict client would)."""
    message: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    for event in events:
        kind = event["type"]
        if kind == "message_start":
            message = copy.deepcopy(event["message"])
        elif kind == "content_block_start":
            blocks[event["index"]] = copy.deepcopy(event["content_block"])
            partial[event["index"]] = ""
        elif kind == "content_block_delta":
            delta = event["delta"]
            if delta["type"] == "text_delta":
                blocks[event["index"]]["text"] += delta["text"]
            else:
                partial[event["index"]] += delta["partial_json"]
        elif kind == "content_block_stop" and blocks[event["index"]]["type"] == "tool_use":
            blocks[event["index"]]["input"] = json.loads(partial[event["index"]])
        elif kind == "message_delta":
            message.update(event["delta"])
            message["usage"].update(event["usage"])
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message


def check_grammar(events: list[dict[str, Any]]) -> None:
    """Anthropic's frame order: message_start, blocks 0..n each start/deltas/stop, message_delta, message_stop
    (pings anywhere after message_start); delta kinds match their block; usage is cumulative."""
    kinds = [e["type"] for e in events if e["type"] != "ping"]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    open_block: dict[str, Any] | None = None
    next_index = 0
    for event in events[1:-2]:
        if event["type"] == "content_block_start":
            assert open_block is None and event["index"] == next_index
            open_block = event["content_block"]
        elif event["type"] == "content_block_delta":
            assert open_block is not None and event["index"] == next_index
            expected = "text_delta" if open_block["type"] == "text" else "input_json_delta"
            assert event["delta"]["type"] == expected
        elif event["type"] == "content_block_stop":
            assert open_block is not None and event["index"] == next_index
            open_block, next_index = None, next_index + 1
    assert open_block is None
    final = events[-2]
    assert final["delta"]["stop_reason"] in ANTHROPIC_STOP_REASONS
    assert (final["delta"]["stop_sequence"] is not None) == (final["delta"]["stop_reason"] == "stop_sequence")
    assert final["usage"]["output_tokens"] >= events[0]["message"]["usage"]["output_tokens"]


def as_message_dict(message: UpstreamMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "content": message.content,
        "stop_reason": message.stop_reason,
        "stop_sequence": message.stop_sequence,
        "usage": {"input_tokens": message.usage.input_tokens, "output_tokens": message.usage.output_tokens},
    }


def folded_view(events: list[dict[str, Any]]) -> dict[str, Any]:
    folded = fold(events)
    return {k: folded[k] for k in ("id", "content", "stop_reason", "stop_sequence", "usage")}


ERROR_STATUSES = [400, 401, 403, 404, 413, 429, 500, 503, 529]
