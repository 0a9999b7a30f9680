"""Folding a stream into the object it describes: an Anthropic ``Message``, or an OpenAI ``chat.completion``.

The suite compares a folded stream with the non-streaming answer for the same upstream behaviour (stream-fold
parity, BRIEF §2), so the fold accumulates exactly as the official SDKs do (text appended, tool input parsed
from the concatenated ``partial_json`` at the block's stop, usage counters overwritten by the cumulative
values of ``message_delta``), and it refuses what no valid stream contains: an error event, a missing
``message_start`` or end, a delta for a block never opened, tool input that does not parse. ``check=True`` on
the text forms runs the validator first and refuses any MUST-level violation, naming the clauses.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from gateway_contracts.sse.framing import FrameParser, parse_json_text
from gateway_contracts.sse.rules import Dialect
from gateway_contracts.sse.validator import validate
from gateway_contracts.sse.violations import Violation

DONE = "[DONE]"


class FoldError(ValueError):
    """The stream does not describe a complete message; ``violations`` holds what ``check=True`` found."""

    def __init__(self, message: str, violations: Iterable[Violation] = ()) -> None:
        super().__init__(message)
        self.violations = list(violations)


# -- Anthropic -----------------------------------------------------------------------------------------------


def fold_anthropic(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``Message`` a sequence of Anthropic stream events (parsed JSON objects) describes."""
    message: dict[str, Any] | None = None
    blocks: dict[Any, dict[str, Any]] = {}
    partial: dict[Any, list[str]] = {}
    for event in events:
        kind = event.get("type")
        if kind == "ping":
            continue
        if kind == "error":
            raise FoldError(f"the stream reports an error: {event.get('error')}")
        if message is None:
            if kind != "message_start":
                raise FoldError(f"{kind} before message_start")
            message = copy.deepcopy(dict(event["message"]))
            message["content"] = list(message.get("content") or [])
            continue
        if kind == "content_block_start":
            index = event["index"]
            block = copy.deepcopy(dict(event["content_block"]))
            blocks[index] = block
            message["content"].append(block)
            if block.get("type") == "tool_use":
                partial[index] = []
        elif kind == "content_block_delta":
            _apply_delta(blocks, partial, event)
        elif kind == "content_block_stop":
            index = event["index"]
            text = "".join(partial.pop(index, []))
            if text:
                ok, value, error = parse_json_text(text)
                if not ok or not isinstance(value, dict):
                    why = error or f"a JSON {type(value).__name__}"
                    raise FoldError(f"tool_use block {index}: input is not a JSON object ({why})")
                blocks[index]["input"] = value
        elif kind == "message_delta":
            message.update(event.get("delta") or {})
            usage = message.setdefault("usage", {})
            for counter, value in (event.get("usage") or {}).items():
                # Cumulative totals overwrite; an optional counter sent as null keeps message_start's value.
                if value is not None or counter not in usage:
                    usage[counter] = value
        elif kind == "message_stop":
            return message
        # Unknown event types carry nothing a Message holds: skipped, as the SDK does.
    if message is None:
        raise FoldError("no message_start in the stream")
    raise FoldError("the stream ended before message_stop")


def _apply_delta(
    blocks: dict[Any, dict[str, Any]], partial: dict[Any, list[str]], event: Mapping[str, Any]
) -> None:
    index = event["index"]
    block = blocks.get(index)
    if block is None:
        raise FoldError(f"content_block_delta for block {index}, which was never started")
    delta = event["delta"]
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + delta["text"]
    elif kind == "input_json_delta":
        partial.setdefault(index, []).append(delta["partial_json"])
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + delta["thinking"]
    elif kind == "signature_delta":
        block["signature"] = delta["signature"]
    elif kind == "citations_delta":
        block["citations"] = [*(block.get("citations") or []), delta["citation"]]
    else:
        raise FoldError(f"unknown delta kind {kind!r} in block {index}")


# -- OpenAI --------------------------------------------------------------------------------------------------


def fold_openai(chunks: Iterable[Mapping[str, Any] | str]) -> dict[str, Any]:
    """The ``chat.completion`` a sequence of chunks (parsed JSON objects, then the string ``"[DONE]"``)
    describes. ``usage`` is the usage chunk's, or None when the stream had none."""
    completion: dict[str, Any] | None = None
    choices: dict[Any, dict[str, Any]] = {}
    for chunk in chunks:
        if isinstance(chunk, str):
            if chunk != DONE:
                raise FoldError(f"unexpected data {chunk[:40]!r}")
            if completion is None:
                raise FoldError("[DONE] before any chunk")
            completion["choices"] = [choices[i] for i in sorted(choices)]
            return completion
        if "error" in chunk and "choices" not in chunk:
            raise FoldError(f"the stream reports an error: {chunk['error']}")
        if completion is None:
            completion = {
                "id": chunk["id"],
                "object": "chat.completion",
                "created": chunk["created"],
                "model": chunk["model"],
                "choices": [],
                "usage": None,
            }
            for key in ("system_fingerprint", "service_tier"):
                if key in chunk:
                    completion[key] = chunk[key]
        for choice in chunk.get("choices") or []:
            _apply_choice(choices, choice)
        if chunk.get("usage") is not None:
            completion["usage"] = copy.deepcopy(chunk["usage"])
    raise FoldError("the stream ended before data [DONE]")


def _apply_choice(choices: dict[Any, dict[str, Any]], choice: Mapping[str, Any]) -> None:
    index = choice["index"]
    state = choices.get(index)
    if state is None:
        state = choices[index] = {
            "index": index,
            "message": {"role": "assistant", "content": None, "refusal": None},
            "logprobs": None,
            "finish_reason": None,
        }
    message = state["message"]
    delta = choice.get("delta") or {}
    if delta.get("role"):
        message["role"] = delta["role"]
    for key in ("content", "refusal"):
        piece = delta.get(key)
        if piece is not None:
            message[key] = (message[key] or "") + piece
    for call in delta.get("tool_calls") or []:
        calls: list[dict[str, Any]] = message.setdefault("tool_calls", [])
        number = call["index"]
        function = call.get("function") or {}
        while len(calls) <= number:
            calls.append({"id": None, "type": "function", "function": {"name": None, "arguments": ""}})
        target = calls[number]
        if call.get("id"):
            target["id"] = call["id"]
        if function.get("name"):
            target["function"]["name"] = function["name"]
        target["function"]["arguments"] += function.get("arguments") or ""
    if choice.get("finish_reason") is not None:
        state["finish_reason"] = choice["finish_reason"]


# -- from the wire -------------------------------------------------------------------------------------------


def stream_payloads(text: bytes | str, dialect: Dialect = "anthropic") -> Iterator[Any]:
    """The data payloads of a stream, in order: parsed JSON objects, and ``"[DONE]"`` for OpenAI's sentinel.
    Lenient: frames that cannot be read are skipped (use the validator to find them)."""
    parser = FrameParser(sentinels=frozenset({DONE}) if dialect == "openai" else frozenset())
    for frame in [*parser.feed(text), *parser.close()]:
        if frame.parsed:
            yield frame.payload
        elif dialect == "openai" and frame.data == DONE:
            yield DONE


def _checked(text: bytes | str, dialect: Dialect) -> None:
    violations = [v for v in validate(text, dialect, strict=False) if v.level == "MUST"]
    if violations:
        clauses = ", ".join(sorted({v.clause for v in violations}))
        raise FoldError(f"the stream breaks {clauses}: {violations[0]}", violations)


def fold_anthropic_text(text: bytes | str, *, check: bool = False) -> dict[str, Any]:
    """The ``Message`` an Anthropic event stream (a response body) describes."""
    if check:
        _checked(text, "anthropic")
    return fold_anthropic(p for p in stream_payloads(text, "anthropic") if isinstance(p, dict))


def fold_openai_text(text: bytes | str, *, check: bool = False) -> dict[str, Any]:
    """The ``chat.completion`` an OpenAI chunk stream (a response body) describes."""
    if check:
        _checked(text, "openai")
    return fold_openai(p for p in stream_payloads(text, "openai") if isinstance(p, dict | str))
