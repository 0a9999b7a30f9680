"""Checks on an Anthropic event stream as an adapter or a translation hands it on: the §2 frame grammar (without
pings, which adapters drop) and the fold a client makes of it, to compare with the non-streamed message."""

from __future__ import annotations

import copy
import json
from typing import Any

from reference_server.upstream.base import StreamEvent, UpstreamMessage
from reference_server.upstream.finish_reasons import ANTHROPIC_STOP_REASONS


def check_grammar(events: list[StreamEvent], *, complete: bool = True) -> None:
    """``message_start (block_start delta* block_stop)* message_delta message_stop``, or a proper prefix."""
    assert events and events[0]["type"] == "message_start"
    next_index, open_block, fragments = 0, None, ""
    for position, event in enumerate(events[1:], start=1):
        kind = event["type"]
        assert kind != "ping"
        if kind == "content_block_start":
            assert open_block is None and event["index"] == next_index
            open_block, next_index, fragments = event["content_block"]["type"], next_index + 1, ""
        elif kind == "content_block_delta":
            assert event["index"] == next_index - 1 and open_block is not None
            expected = {"text": "text_delta", "tool_use": "input_json_delta"}[open_block]
            assert event["delta"]["type"] == expected
            fragments += event["delta"].get("partial_json", "")
        elif kind == "content_block_stop":
            assert event["index"] == next_index - 1 and open_block is not None
            if open_block == "tool_use":
                assert isinstance(json.loads(fragments), dict)
            open_block = None
        elif kind == "message_delta":
            assert open_block is None
            delta = event["delta"]
            assert delta["stop_reason"] in ANTHROPIC_STOP_REASONS
            assert (delta["stop_sequence"] is not None) == (delta["stop_reason"] == "stop_sequence")
            assert events[position + 1 :] == [{"type": "message_stop"}]
            return
        else:
            raise AssertionError(f"unexpected event {kind}")
    assert not complete, "stream ended without message_delta/message_stop"


def fold(events: list[StreamEvent]) -> dict[str, Any]:
    """The message a client assembles from a stream (input_tokens from message_delta when present)."""
    message: dict[str, Any] = {}
    fragments: dict[int, str] = {}
    for event in events:
        kind = event["type"]
        if kind == "message_start":
            message = copy.deepcopy(event["message"])
        elif kind == "content_block_start":
            message["content"].append(copy.deepcopy(event["content_block"]))
            if event["content_block"]["type"] == "tool_use":
                fragments[event["index"]] = ""
        elif kind == "content_block_delta":
            delta = event["delta"]
            if delta["type"] == "text_delta":
                message["content"][event["index"]]["text"] += delta["text"]
            else:
                fragments[event["index"]] += delta["partial_json"]
        elif kind == "content_block_stop" and event["index"] in fragments:
            message["content"][event["index"]]["input"] = json.loads(fragments[event["index"]])
        elif kind == "message_delta":
            message.update(event["delta"])
            message["usage"].update(event["usage"])
    return message


def as_message_dict(message: UpstreamMessage) -> dict[str, Any]:
    """The parts of a message that must agree between the two modes."""
    return {
        "content": message.content,
        "stop_reason": message.stop_reason,
        "stop_sequence": message.stop_sequence,
        "usage": {"input_tokens": message.usage.input_tokens, "output_tokens": message.usage.output_tokens},
    }


def folded_dict(events: list[StreamEvent]) -> dict[str, Any]:
    folded = fold(events)
    usage = folded["usage"]
    return {
        "content": folded["content"],
        "stop_reason": folded["stop_reason"],
        "stop_sequence": folded["stop_sequence"],
        "usage": {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"]},
    }
