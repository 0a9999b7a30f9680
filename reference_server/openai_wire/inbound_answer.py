"""Inbound, the answer: the gateway's Anthropic-form answer as what its ``POST /v1/chat/completions`` route
returns: ``message_to_openai_completion`` for a JSON answer, ``anthropic_events_to_openai_chunks`` (or
``AnthropicEventTranslator``) for a stream."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from reference_server.mutants import mutated
from reference_server.openai_wire.common import Json, compact_json, token_count
from reference_server.upstream.base import StreamEvent, UpstreamMessage
from reference_server.upstream.finish_reasons import anthropic_to_openai


def message_to_openai_completion(
    message: UpstreamMessage, *, model: str, completion_id: str | None = None, created: int | None = None
) -> Json:
    """A ``chat.completion`` object. ``model`` is the name to report (the canonical one)."""
    texts = [block.get("text", "") for block in message.content if block.get("type") == "text"]
    tool_calls = [_tool_call(block) for block in message.content if block.get("type") == "tool_use"]
    reply: Json = {"role": "assistant", "content": "".join(texts) if texts or not tool_calls else None}
    if tool_calls:
        reply["tool_calls"] = tool_calls
    reply["refusal"] = None
    usage = message.usage
    return {
        "id": completion_id or _completion_id(message.id),
        "object": "chat.completion.chunk" if mutated("completion-object-chunk") else "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": anthropic_to_openai(message.stop_reason),
            }
        ],
        "usage": _openai_usage(usage.input_tokens, usage.output_tokens),
    }


def _tool_call(block: Mapping[str, Any]) -> Json:
    return {
        "id": block.get("id"),
        "type": "function",
        "function": {"name": block.get("name"), "arguments": compact_json(block.get("input", {}))},
    }


def _openai_usage(input_tokens: int, output_tokens: int) -> Json:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def _completion_id(message_id: str) -> str:
    return f"chatcmpl-{message_id.removeprefix('msg_')}" if message_id else f"chatcmpl-{uuid.uuid4().hex}"


class AnthropicEventTranslator:
    """Turns Anthropic stream events into ``chat.completion.chunk`` dicts.

    The first chunk carries the role; text deltas become ``content``; each ``tool_use`` block becomes a tool
    call numbered by its position among the tool calls (OpenAI's ``index``), opened with its id and name and
    continued with argument fragments; ``message_stop`` gives the chunk with ``finish_reason`` and, when
    ``include_usage``, the usage chunk with ``choices: []``. An ``error`` event gives one
    ``{"error": {...}}`` dict, the way OpenAI reports an error mid-stream. The route writes each dict as
    ``data: <json>`` and, after a normal end, ``data: [DONE]``. Other block kinds (thinking) and ``ping``
    produce nothing.
    """

    def __init__(
        self, *, model: str, include_usage: bool, completion_id: str | None = None, created: int | None = None
    ) -> None:
        self.model = model
        self.include_usage = include_usage
        self.completion_id = completion_id
        self.created = int(time.time()) if created is None else created
        self._tool_index: dict[int, int] = {}  # Anthropic block index → OpenAI tool call index
        self._stop_reason: str | None = None
        self._input_tokens = 0
        self._output_tokens = 0

    def feed(self, event: Mapping[str, Any]) -> list[Json]:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message")
            message = message if isinstance(message, Mapping) else {}
            if self.completion_id is None:
                self.completion_id = _completion_id(str(message.get("id") or ""))
            self._take_usage(message.get("usage"))
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "content_block_delta":
            return self._block_delta(event)
        if kind == "message_delta":
            delta = event.get("delta")
            if isinstance(delta, Mapping) and delta.get("stop_reason"):
                self._stop_reason = str(delta["stop_reason"])
            self._take_usage(event.get("usage"))
            return []
        if kind == "message_stop":
            chunks = [self._chunk({}, finish_reason=anthropic_to_openai(self._stop_reason))]
            if self.include_usage:
                usage_chunk = self._envelope([])
                usage_chunk["usage"] = _openai_usage(self._input_tokens, self._output_tokens)
                chunks.append(usage_chunk)
            return chunks
        if kind == "error":
            error = event.get("error")
            error = error if isinstance(error, Mapping) else {}
            return [
                {
                    "error": {
                        "message": error.get("message", "upstream error"),
                        "type": error.get("type", "api_error"),
                        "param": None,
                        "code": None,
                    }
                }
            ]
        return []

    def _block_start(self, event: Mapping[str, Any]) -> list[Json]:
        block = event.get("content_block")
        block = block if isinstance(block, Mapping) else {}
        if block.get("type") == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        if block.get("type") != "tool_use":
            return []
        tool_index = self._tool_index[int(event.get("index", 0))] = len(self._tool_index)
        call = {
            "index": tool_index,
            "id": block.get("id"),
            "type": "function",
            "function": {"name": block.get("name"), "arguments": ""},
        }
        return [self._chunk({"tool_calls": [call]})]

    def _block_delta(self, event: Mapping[str, Any]) -> list[Json]:
        delta = event.get("delta")
        delta = delta if isinstance(delta, Mapping) else {}
        if delta.get("type") == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        tool_index = self._tool_index.get(int(event.get("index", -1)))
        if delta.get("type") == "input_json_delta" and delta.get("partial_json") and tool_index is not None:
            call = {"index": tool_index, "function": {"arguments": delta["partial_json"]}}
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _take_usage(self, usage: Any) -> None:
        if isinstance(usage, Mapping):
            if "input_tokens" in usage:
                self._input_tokens = token_count(usage.get("input_tokens"))
            if "output_tokens" in usage:
                self._output_tokens = token_count(usage.get("output_tokens"))

    def _envelope(self, choices: list[Json]) -> Json:
        return {
            "id": self.completion_id or _completion_id(""),
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }

    def _chunk(self, delta: Json, finish_reason: str | None = None) -> Json:
        chunk = self._envelope(
            [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        )
        if self.include_usage:
            chunk["usage"] = None  # as OpenAI does: every chunk but the last says usage: null
        return chunk


async def anthropic_events_to_openai_chunks(
    events: AsyncIterator[StreamEvent],
    *,
    model: str,
    include_usage: bool,
    completion_id: str | None = None,
    created: int | None = None,
) -> AsyncIterator[Json]:
    """``AnthropicEventTranslator`` over an async iterator. An ``UpstreamError`` raised by ``events`` is not
    caught: the route decides how to report it (and records the outcome)."""
    translator = AnthropicEventTranslator(
        model=model, include_usage=include_usage, completion_id=completion_id, created=created
    )
    async for event in events:
        for chunk in translator.feed(event):
            yield chunk
        if event.get("type") in ("message_stop", "error"):
            return
