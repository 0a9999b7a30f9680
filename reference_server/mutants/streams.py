"""Mutants of the Anthropic event stream (contracts/clauses/sse.yaml, SSE-*).

Most are faults in the frame writer of ``/v1/messages`` (``FAULTS``, see ``faults.py``); ``no-message-stop`` sits
in the call flow, where the gateway holds message_stop back until the capture commits.
"""

from __future__ import annotations

import json
from typing import Any

from reference_server.mutants.base import Mutant
from reference_server.mutants.faults import Emitted, FaultSet, StreamFault

FAULTS = FaultSet()

SAME = object()
"""In ``_at``'s replacement: the event itself."""


def _at(name: str, breaks: str, description: str, event_type: str, *replacement: Any) -> None:
    """A stateless fault: every event of ``event_type`` is written as ``replacement`` (``SAME`` for the event
    itself, another event, or raw bytes); nothing, when no replacement is given. Events of other types pass."""

    class _Fault(StreamFault):
        def feed(self, item: Any) -> list[Emitted]:
            if item["type"] != event_type:
                return [item]
            return [item if r is SAME else r for r in replacement]

    _Fault.__name__ = f"_Fault_{name.replace('-', '_')}"
    FAULTS.register(name, breaks, description)(_Fault)


_at(
    "ping-without-data",
    "SSE-005",
    "a keep-alive ping frame is written with no data line",
    "message_start",
    SAME,
    b"event: ping\n\n",
)


def _frame(event: dict[str, Any], name: str | None = None) -> bytes:
    """A frame as the route writes it, with its event name chosen by the fault."""
    return f"event: {name or event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


_at(
    "ping-data-not-json",
    "SSE-006",
    "the gateway's keep-alive ping frame is hand-written with Python repr data",
    "message_start",
    SAME,
    f"event: ping\ndata: {dict(type='ping')!r}\n\n".encode(),
)


@FAULTS.register(
    "event-name-from-delta",
    "SSE-007",
    "content_block_delta frames are named after the delta kind (event: text_delta)",
)
class _EventNameFromDelta(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "content_block_delta":
            return [_frame(item, item["delta"]["type"])]
        return [item]


_at(
    "keepalive-event",
    "SSE-008",
    "the gateway's keep-alive is a `keepalive` event instead of a ping",
    "message_start",
    SAME,
    {"type": "keepalive"},
)


@FAULTS.register("message-delta-no-usage", "SSE-009", "message_delta is written without its usage object")
class _MessageDeltaNoUsage(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "message_delta":
            return [{k: v for k, v in item.items() if k != "usage"}]
        return [item]


_at(
    "no-message-start",
    "SSE-010",
    "message_start is swallowed (read for its id and never written)",
    "message_start",
)

_at(
    "message-start-twice",
    "SSE-011",
    "message_start is written twice (once early, once on relay)",
    "message_start",
    SAME,
    SAME,
)


@FAULTS.register("block-index-from-one", "SSE-012", "content block indices are counted from 1, not 0")
class _BlockIndexFromOne(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if "index" in item and item["type"].startswith("content_block_"):
            return [{**item, "index": item["index"] + 1}]
        return [item]


@FAULTS.register(
    "block-stop-late",
    "SSE-013",
    "a block's content_block_stop is written after the next block's content_block_start",
)
class _BlockStopLate(StreamFault):
    def __init__(self) -> None:
        self.held: dict[str, Any] | None = None

    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "content_block_stop":
            self.held = item
            return []
        held, self.held = self.held, None
        if held is None:
            return [item]
        return [item, held] if item["type"] == "content_block_start" else [held, item]

    def end(self) -> list[Emitted]:
        return [self.held] if self.held is not None else []


@FAULTS.register(
    "last-block-not-stopped", "SSE-014", "the last content block's content_block_stop is never written"
)
class _LastBlockNotStopped(StreamFault):
    def __init__(self) -> None:
        self.held: dict[str, Any] | None = None

    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "content_block_stop":
            self.held = item
            return []
        held, self.held = self.held, None
        if held is None or item["type"] == "message_delta":
            return [item]
        return [held, item]

    def end(self) -> list[Emitted]:
        return [self.held] if self.held is not None else []


_at(
    "no-message-delta",
    "SSE-015",
    "message_delta is dropped: message_stop follows the last block",
    "message_delta",
)

_at(
    "message-delta-twice",
    "SSE-016",
    "message_delta is written twice (with the stop reason, then with final usage)",
    "message_delta",
    SAME,
    SAME,
)

_at(
    "ping-after-message-stop",
    "SSE-017",
    "the keep-alive timer is not cancelled: a ping follows message_stop",
    "message_stop",
    SAME,
    {"type": "ping"},
)

_at(
    "message-stop-after-error",
    "SSE-018",
    "an errored stream is still closed with message_stop",
    "error",
    SAME,
    {"type": "message_stop"},
)


@FAULTS.register(
    "tool-block-as-tool-call", "SSE-020", "tool_use blocks are opened with OpenAI's kind tool_call"
)
class _ToolBlockAsToolCall(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "content_block_start" and item["content_block"].get("type") == "tool_use":
            return [{**item, "content_block": {**item["content_block"], "type": "tool_call"}}]
        return [item]


@FAULTS.register(
    "tool-input-as-text-delta",
    "SSE-021",
    "tool input fragments are relayed as text_delta, not input_json_delta",
)
class _ToolInputAsTextDelta(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "content_block_delta" and item["delta"].get("type") == "input_json_delta":
            return [{**item, "delta": {"type": "text_delta", "text": item["delta"]["partial_json"]}}]
        return [item]


@FAULTS.register(
    "tool-input-last-fragment-lost",
    "SSE-022",
    "the last buffered input_json_delta is not flushed before the block stops",
)
class _ToolInputLastFragmentLost(StreamFault):
    def __init__(self) -> None:
        self.held: dict[str, Any] | None = None

    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "content_block_delta" and item["delta"].get("type") == "input_json_delta":
            out: list[Emitted] = [self.held] if self.held is not None else []
            self.held = item
            return out
        held, self.held = self.held, None
        if held is None or item["type"] == "content_block_stop":
            return [item]
        return [held, item]

    def end(self) -> list[Emitted]:
        return [self.held] if self.held is not None else []


@FAULTS.register("openai-stop-reason", "SSE-023", "end_turn is written as OpenAI's finish_reason stop")
class _OpenAIStopReason(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "message_delta" and item["delta"].get("stop_reason") == "end_turn":
            return [{**item, "delta": {**item["delta"], "stop_reason": "stop"}}]
        return [item]


@FAULTS.register(
    "stop-sequence-empty-string", "SSE-024", 'stop_sequence is "" instead of null when no sequence matched'
)
class _StopSequenceEmptyString(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "message_delta":
            return [
                {
                    **item,
                    "delta": {**item["delta"], "stop_sequence": item["delta"].get("stop_sequence") or ""},
                }
            ]
        return [item]


@FAULTS.register(
    "message-delta-input-tokens-zero",
    "SSE-025",
    "message_delta's usage reports input_tokens 0 (the counter is never carried over)",
)
class _MessageDeltaInputTokensZero(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "message_delta":
            return [{**item, "usage": {**item["usage"], "input_tokens": 0}}]
        return [item]


MUTANTS = (
    Mutant(
        "no-message-stop",
        "SSE-019",
        "streams end after message_delta without message_stop",
        fuzz_check="sse_grammar",
        fuzz_phases="examples",
    ),
    *FAULTS.mutants,
)
