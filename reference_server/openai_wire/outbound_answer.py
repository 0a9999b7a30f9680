"""Outbound, the answer: what an OpenAI-compatible upstream answered, in Anthropic form, for the adapter
(``upstream/openai_compat.py``): ``openai_completion_to_message`` for a JSON answer, ``OpenAIChunkTranslator``
for a chunk stream."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reference_server.openai_wire.common import (
    Json,
    WireError,
    new_tool_id,
    openai_text,
    token_count,
    tool_call_to_block,
)
from reference_server.upstream.base import StreamEvent, UpstreamMessage, Usage
from reference_server.upstream.finish_reasons import openai_to_anthropic


def matched_stop_sequence(choice: Mapping[str, Any], stop_sequences: Sequence[str]) -> str | None:
    """vLLM (and the scripted upstream) report the matched stop string as the choice's ``stop_reason``; it
    counts only if it is one of the request's sequences (vLLM also puts token ids there)."""
    value = choice.get("stop_reason")
    return value if isinstance(value, str) and value in stop_sequences else None


def openai_completion_to_message(
    body: Mapping[str, Any], *, stop_sequences: Sequence[str] = ()
) -> UpstreamMessage:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise WireError("the completion has no choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise WireError("the completion's choice has no message")
    content: list[Json] = []
    text = openai_text(message.get("content"), separator="")
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal and not text:
        text = refusal
    if text:
        content.append({"type": "text", "text": text})
    content.extend(tool_call_to_block(call) for call in message.get("tool_calls") or [])
    stop_reason, stop_sequence = openai_to_anthropic(
        choice.get("finish_reason"), matched_stop_sequence(choice, stop_sequences)
    )
    if isinstance(refusal, str) and refusal:
        stop_reason, stop_sequence = "refusal", None
    return UpstreamMessage(
        id=_message_id(body.get("id")),
        content=content,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        usage=openai_usage(body.get("usage")),
    )


def openai_usage(usage: Any) -> Usage:
    if not isinstance(usage, Mapping):
        return Usage(input_tokens=0, output_tokens=0)
    return Usage(
        input_tokens=token_count(usage.get("prompt_tokens")),
        output_tokens=token_count(usage.get("completion_tokens")),
    )


def _message_id(upstream_id: Any) -> str:
    if isinstance(upstream_id, str) and upstream_id:
        return upstream_id if upstream_id.startswith("msg_") else f"msg_{upstream_id}"
    return f"msg_{uuid.uuid4().hex}"


@dataclass
class _ToolCall:
    id: str | None
    name: str | None
    pending: list[str] = field(default_factory=list)
    """Argument fragments that arrived before the name, replayed when the block opens."""
    block: int | None = None
    closed: bool = False


class OpenAIChunkTranslator:
    """Turns Chat Completions chunks into Anthropic stream events as they arrive.

    ``feed`` each parsed ``data:`` chunk, and call ``finish`` on ``data: [DONE]`` (and only then: a stream
    without it was cut, which the caller reports as a drop). ``message_start`` cannot know the input tokens,
    which OpenAI sends only in its last chunk, so it says 0 and the ``message_delta`` usage carries both
    cumulative counts. Raises ``WireError`` when the stream cannot be rendered in Anthropic's grammar: a tool
    call whose arguments do not join to a JSON object, or fragments of a tool call after another block began.
    """

    def __init__(self, *, model: str, stop_sequences: Sequence[str] = ()) -> None:
        self.model = model
        self.stop_sequences = list(stop_sequences)
        self.finish_reason: str | None = None
        self._started = False
        self._next_block = 0
        self._open: tuple[str, int] | None = None  # ("text", block) or ("tool", openai tool index)
        self._tools: dict[int, _ToolCall] = {}
        self._args: list[str] = []  # fragments of the open tool block
        self._matched_stop: str | None = None
        self._refused = False
        self._usage = Usage(input_tokens=0, output_tokens=0)

    def feed(self, chunk: Mapping[str, Any]) -> list[StreamEvent]:
        events = self._start(chunk.get("id"))
        usage = chunk.get("usage")
        if not isinstance(usage, Mapping):  # Groq puts it under x_groq
            extra = chunk.get("x_groq")
            usage = extra.get("usage") if isinstance(extra, Mapping) else None
        if isinstance(usage, Mapping):
            self._usage = openai_usage(usage)
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if isinstance(delta, Mapping):
                events.extend(self._delta(delta))
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
                self._matched_stop = matched_stop_sequence(choice, self.stop_sequences)
                events.extend(self._close())
        return events

    def finish(self) -> list[StreamEvent]:
        events = self._start(None)
        events.extend(self._close())
        unopened = [call for call in self._tools.values() if call.block is None]
        if unopened:
            raise WireError("a streamed tool call never got a name")
        stop_reason, stop_sequence = openai_to_anthropic(self.finish_reason, self._matched_stop)
        if self._refused:
            stop_reason, stop_sequence = "refusal", None
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": {
                    "input_tokens": self._usage.input_tokens,
                    "output_tokens": self._usage.output_tokens,
                },
            }
        )
        events.append({"type": "message_stop"})
        return events

    def _start(self, upstream_id: Any) -> list[StreamEvent]:
        if self._started:
            return []
        self._started = True
        message: Json = {
            "id": _message_id(upstream_id),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return [{"type": "message_start", "message": message}]

    def _delta(self, delta: Mapping[str, Any]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for key in ("content", "refusal"):
            text = delta.get(key)
            if text is not None and not isinstance(text, str):
                raise WireError(f"a streamed delta's {key} is not a string")
            if isinstance(text, str) and text:
                self._refused = self._refused or key == "refusal"
                events.extend(self._text(text))
        for position, call in enumerate(delta.get("tool_calls") or []):
            if isinstance(call, Mapping):
                events.extend(self._tool_fragment(call, position))
        return events

    def _text(self, text: str) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if self._open is None or self._open[0] != "text":
            events.extend(self._close())
            events.append(self._block_start({"type": "text", "text": ""}))
            self._open = ("text", self._next_block - 1)
        events.append(self._block_delta({"type": "text_delta", "text": text}))
        return events

    def _tool_fragment(self, fragment: Mapping[str, Any], position: int) -> list[StreamEvent]:
        index = fragment.get("index")
        if not isinstance(index, int):
            # Some providers leave out the index: a new id starts a new call, else it continues the last one.
            if fragment.get("id") and all(call.id != fragment.get("id") for call in self._tools.values()):
                index = len(self._tools)
            else:
                index = max(self._tools, default=position)
        function = fragment.get("function")
        function = function if isinstance(function, Mapping) else {}
        call = self._tools.get(index)
        if call is None:
            call = self._tools[index] = _ToolCall(id=None, name=None)
        if call.closed:
            raise WireError(f"tool call {index} continued after another content block had started")
        if call.block is None:
            call.id = call.id or _str_or_none(fragment.get("id"))
            call.name = call.name or _str_or_none(function.get("name"))
        events: list[StreamEvent] = []
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            raise WireError("a streamed tool call's arguments are not a string")
        if isinstance(arguments, str) and arguments:
            call.pending.append(arguments)
        if call.block is None and call.name:
            events.extend(self._close())
            events.append(
                self._block_start(
                    {"type": "tool_use", "id": call.id or new_tool_id(), "name": call.name, "input": {}}
                )
            )
            call.block = self._next_block - 1
            self._open = ("tool", index)
        if call.block is not None:
            for piece in call.pending:
                self._args.append(piece)
                events.append(self._block_delta({"type": "input_json_delta", "partial_json": piece}))
            call.pending.clear()
        return events

    def _block_start(self, block: Json) -> StreamEvent:
        event = {"type": "content_block_start", "index": self._next_block, "content_block": block}
        self._next_block += 1
        return event

    def _block_delta(self, delta: Json) -> StreamEvent:
        return {"type": "content_block_delta", "index": self._next_block - 1, "delta": delta}

    def _close(self) -> list[StreamEvent]:
        if self._open is None:
            return []
        kind, key = self._open
        self._open = None
        events: list[StreamEvent] = []
        if kind == "tool":
            call = self._tools[key]
            call.closed = True
            if not self._args:
                # Anthropic's grammar wants the fragments to join to an object, even for no arguments.
                events.append(self._block_delta({"type": "input_json_delta", "partial_json": "{}"}))
                self._args.append("{}")
            joined, self._args = "".join(self._args), []
            try:
                parsed = json.loads(joined)
            except ValueError as exc:
                raise WireError(
                    f"the arguments of streamed tool call {call.name!r} are not valid JSON"
                ) from exc
            if not isinstance(parsed, dict):
                raise WireError(f"the arguments of streamed tool call {call.name!r} are not a JSON object")
        events.append({"type": "content_block_stop", "index": self._next_block - 1})
        return events


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
