"""Mutants of the OpenAI-compatible surface (contracts/clauses/openai.yaml, OAI-*, and OAI-SSE-* in sse.yaml).

Stream mutants are faults in the chunk writer of ``/v1/chat/completions`` (``FAULTS``, see ``faults.py``): each
item fed is a ``chat.completion.chunk`` dict or the string ``"[DONE]"``. ``openai-alias-leak`` and
``openai-errors-openai-shaped`` sit in the route (``routes/chat_completions.py``), on the non-streaming paths.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from reference_server.mutants.base import Mutant
from reference_server.mutants.faults import Emitted, FaultSet, StreamFault

FAULTS = FaultSet()

# finish_reason → the Anthropic stop_reason it was translated from.
_ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def _is_chunk(item: Any) -> bool:
    return isinstance(item, dict) and bool(item.get("choices"))


def _is_usage_chunk(item: Any) -> bool:
    return isinstance(item, dict) and item.get("choices") == [] and "usage" in item


def _finishes(item: Any) -> bool:
    return _is_chunk(item) and any(c.get("finish_reason") for c in item["choices"])


def _with_choice(item: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**item, "choices": [{**item["choices"][0], **changes}]}


def _tool_calls(item: Any) -> list[dict[str, Any]]:
    return (item["choices"][0]["delta"].get("tool_calls") or []) if _is_chunk(item) else []


def _with_tool_calls(item: dict[str, Any], calls: list[dict[str, Any]]) -> dict[str, Any]:
    return _with_choice(item, delta={**item["choices"][0]["delta"], "tool_calls": calls})


@FAULTS.register(
    "openai-stream-strips-deltas",
    "OAI-002",
    "each streamed content delta is .strip()ped, so the spaces between deltas are lost",
)
class _StripsDeltas(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if _is_chunk(item):
            content = item["choices"][0]["delta"].get("content")
            if content:
                return [_with_choice(item, delta={**item["choices"][0]["delta"], "content": content.strip()})]
        return [item]


@FAULTS.register(
    "openai-usage-chunk-dropped",
    "OAI-003",
    "the usage chunk is never written under stream_options.include_usage",
)
class _UsageChunkDropped(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        return [] if _is_usage_chunk(item) else [item]


@FAULTS.register(
    "openai-tool-finish-stop",
    "OAI-004",
    "a stream that ends in a tool call finishes with finish_reason stop, not tool_calls",
)
class _ToolFinishStop(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if _is_chunk(item) and item["choices"][0].get("finish_reason") == "tool_calls":
            return [_with_choice(item, finish_reason="stop")]
        return [item]


@FAULTS.register(
    "openai-retry-frame",
    "OAI-SSE-005",
    "the stream opens with a reconnection hint frame (retry: 3000) that carries no data line",
)
class _RetryFrame(StreamFault):
    def __init__(self) -> None:
        self.started = False

    def feed(self, item: Any) -> list[Emitted]:
        if self.started:
            return [item]
        self.started = True
        return [b"retry: 3000\n\n", item]


@FAULTS.register(
    "openai-chunk-python-repr",
    "OAI-SSE-006",
    "the finish chunk is written as the Python repr of the dict, not JSON",
)
class _ChunkPythonRepr(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if _finishes(item):
            return [f"data: {item!r}\n\n".encode()]
        return [item]


@FAULTS.register(
    "openai-created-float",
    "OAI-SSE-007",
    "chunks carry created as time.time() (a float), not an integer number of seconds",
)
class _CreatedFloat(StreamFault):
    def __init__(self) -> None:
        self.created = time.time()

    def feed(self, item: Any) -> list[Emitted]:
        if isinstance(item, dict) and "created" in item:
            return [{**item, "created": self.created}]
        return [item]


@FAULTS.register(
    "openai-finish-chunk-new-id",
    "OAI-SSE-008",
    "the finish chunk is built with a freshly generated id instead of the stream's",
)
class _FinishChunkNewId(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if _finishes(item):
            return [{**item, "id": f"chatcmpl-{uuid.uuid4().hex}"}]
        return [item]


@FAULTS.register(
    "openai-finish-twice",
    "OAI-SSE-009",
    "the finish_reason chunk is written twice (on message_delta and again on message_stop)",
)
class _FinishTwice(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        return [item, item] if _finishes(item) else [item]


@FAULTS.register(
    "openai-anthropic-finish-reason",
    "OAI-SSE-010",
    "the Anthropic stop_reason (end_turn, tool_use, max_tokens) is passed through as finish_reason",
)
class _AnthropicFinishReason(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if _finishes(item):
            reason = item["choices"][0]["finish_reason"]
            return [_with_choice(item, finish_reason=_ANTHROPIC_STOP.get(reason, reason))]
        return [item]


@FAULTS.register(
    "openai-usage-before-finish",
    "OAI-SSE-011",
    "the usage chunk is written before the finish_reason chunk",
)
class _UsageBeforeFinish(StreamFault):
    def __init__(self) -> None:
        self.held: dict[str, Any] | None = None

    def feed(self, item: Any) -> list[Emitted]:
        if _finishes(item):
            self.held = item
            return []
        held, self.held = self.held, None
        if held is None:
            return [item]
        return [item, held] if _is_usage_chunk(item) else [held, item]

    def end(self) -> list[Emitted]:
        return [self.held] if self.held is not None else []


@FAULTS.register(
    "openai-usage-chunk-twice",
    "OAI-SSE-012",
    "the usage chunk is written twice (once with the finish, once before [DONE])",
)
class _UsageChunkTwice(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        return [item, item] if _is_usage_chunk(item) else [item]


@FAULTS.register(
    "openai-usage-total-is-completion",
    "OAI-SSE-013",
    "the usage chunk's total_tokens is set from the output tokens alone",
)
class _UsageTotalIsCompletion(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if _is_usage_chunk(item) and isinstance(item["usage"], dict):
            usage = item["usage"]
            return [{**item, "usage": {**usage, "total_tokens": usage["completion_tokens"]}}]
        return [item]


@FAULTS.register(
    "openai-tool-index-from-one", "OAI-SSE-014", "tool-call delta indices are counted from 1, not 0"
)
class _ToolIndexFromOne(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        calls = _tool_calls(item)
        if calls:
            return [_with_tool_calls(item, [{**c, "index": c["index"] + 1} for c in calls])]
        return [item]


@FAULTS.register(
    "openai-tool-open-without-id",
    "OAI-SSE-015",
    "the opening delta of a tool call carries its name but not its id",
)
class _ToolOpenWithoutId(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        calls = _tool_calls(item)
        if any("id" in c for c in calls):
            return [_with_tool_calls(item, [{k: v for k, v in c.items() if k != "id"} for c in calls])]
        return [item]


@FAULTS.register(
    "openai-tool-arguments-last-fragment-lost",
    "OAI-SSE-016",
    "the last buffered tool-call argument fragment is not flushed before the finish chunk",
)
class _ToolArgumentsLastFragmentLost(StreamFault):
    def __init__(self) -> None:
        self.held: dict[str, Any] | None = None

    def feed(self, item: Any) -> list[Emitted]:
        calls = _tool_calls(item)
        if calls and all("id" not in c and (c.get("function") or {}).get("arguments") for c in calls):
            out: list[Emitted] = [self.held] if self.held is not None else []
            self.held = item
            return out
        self.held = None  # the buffer is dropped, not flushed
        return [item]


@FAULTS.register("openai-no-done", "OAI-SSE-017", "the chunk stream ends without data: [DONE]")
class _NoDone(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        return [] if item == "[DONE]" else [item]


@FAULTS.register(
    "openai-usage-after-done", "OAI-SSE-018", "the usage chunk is written after data: [DONE], not before it"
)
class _UsageAfterDone(StreamFault):
    def __init__(self) -> None:
        self.held: dict[str, Any] | None = None

    def feed(self, item: Any) -> list[Emitted]:
        if _is_usage_chunk(item):
            self.held = item
            return []
        if item == "[DONE]" and self.held is not None:
            return [item, self.held]
        return [item]


@FAULTS.register(
    "openai-finish-after-error",
    "OAI-SSE-019",
    "after a mid-stream error payload the choice is still closed with a finish_reason chunk",
)
class _FinishAfterError(StreamFault):
    def __init__(self) -> None:
        self.last: dict[str, Any] | None = None

    def feed(self, item: Any) -> list[Emitted]:
        if _is_chunk(item):
            self.last = item
        elif isinstance(item, dict) and "error" in item and self.last is not None:
            return [item, _with_choice(self.last, delta={}, finish_reason="stop")]
        return [item]


MUTANTS = (
    Mutant(
        "openai-alias-leak", "ALIAS-002", "a JSON chat completion reports the requested alias as its model"
    ),
    Mutant(
        "completion-object-chunk",
        "OAI-001",
        'a JSON chat completion says "object": "chat.completion.chunk" (a serializer shared with the stream)',
    ),
    *FAULTS.mutants,
    Mutant(
        "chat-invalid-is-500",
        "OAI-005",
        "schema-invalid chat-completion requests escape as 500 api_error instead of a 400",
    ),
    Mutant(
        "openai-errors-openai-shaped",
        "OAI-006",
        "invalid chat-completion requests get OpenAI's error shape, not the gateway's envelope",
    ),
)
