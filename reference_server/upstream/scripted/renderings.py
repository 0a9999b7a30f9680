"""A Script rendered in each dialect the scripted upstream speaks: Anthropic's message and event stream,
OpenAI's ``chat.completion`` and chunk stream. Each rendering is made straight from the Script, independent of the
others, so that no dialect's rendering inherits another's mistakes; the predicates ``is_*_delta`` / ``is_*_end``
tell ``pacing.pace`` which items carry content and which one ends the message."""

from __future__ import annotations

import json
from typing import Any

from reference_server.upstream.base import StreamEvent, UpstreamMessage, Usage
from reference_server.upstream.finish_reasons import anthropic_to_openai
from reference_server.upstream.scripted.engine import Block, Script, TextBlock, ToolUseBlock

OPENAI_CREATED = 1_700_000_000
"""A fixed ``created`` timestamp: answers stay byte-for-byte reproducible."""


# --- Anthropic ------------------------------------------------------------------------------------


def _block_json(block: Block) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    return {
        "type": "tool_use",
        "id": block.id,
        "name": block.name,
        "input": json.loads(json.dumps(block.input)),
    }


def anthropic_message(script: Script) -> dict[str, Any]:
    """The non-streaming Anthropic ``Message`` JSON."""
    return {
        "id": script.message_id,
        "type": "message",
        "role": "assistant",
        "model": script.model,
        "content": [_block_json(b) for b in script.blocks],
        "stop_reason": script.stop_reason,
        "stop_sequence": script.stop_sequence,
        "usage": {"input_tokens": script.input_tokens, "output_tokens": script.output_tokens},
    }


def upstream_message(script: Script) -> UpstreamMessage:
    """The non-streaming answer as the adapter interface returns it."""
    return UpstreamMessage(
        id=script.message_id,
        content=[_block_json(b) for b in script.blocks],
        stop_reason=script.stop_reason,
        stop_sequence=script.stop_sequence,
        usage=Usage(input_tokens=script.input_tokens, output_tokens=script.output_tokens),
    )


def anthropic_events(script: Script) -> list[StreamEvent]:
    """The complete stream, in Anthropic's order, with one ``ping`` after ``message_start`` as the real API
    sends. Failures are not in here: ``pace`` cuts the list where a ``drop_after`` script dies."""
    start_usage = {"input_tokens": script.input_tokens, "output_tokens": min(1, script.output_tokens)}
    events: list[StreamEvent] = [
        {
            "type": "message_start",
            "message": {
                "id": script.message_id,
                "type": "message",
                "role": "assistant",
                "model": script.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        },
        {"type": "ping"},
    ]
    for index, block in enumerate(script.blocks):
        if isinstance(block, TextBlock):
            opening: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": t} for t in block.deltas]
        else:
            opening = {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": f} for f in block.fragments]
        events.append({"type": "content_block_start", "index": index, "content_block": opening})
        events.extend({"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas)
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": script.stop_reason, "stop_sequence": script.stop_sequence},
            "usage": {"output_tokens": script.output_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return events


def is_anthropic_delta(event: StreamEvent) -> bool:
    return event.get("type") == "content_block_delta"


def is_anthropic_end(event: StreamEvent) -> bool:
    return event.get("type") == "message_delta"


# --- OpenAI ---------------------------------------------------------------------------------------


def _openai_text(script: Script) -> str | None:
    """The message content: null only beside tool calls, as OpenAI does; an empty answer is ``""``."""
    texts = [b.text for b in script.blocks if isinstance(b, TextBlock)]
    if texts:
        return "".join(texts)
    return None if any(isinstance(b, ToolUseBlock) for b in script.blocks) else ""


def _openai_call_id(block: ToolUseBlock) -> str:
    return "call_" + block.id.removeprefix("toolu_")


def _finish(script: Script) -> dict[str, Any]:
    """finish_reason, plus vLLM's ``stop_reason`` naming the matched stop sequence, so that an adapter can
    tell Anthropic's ``stop_sequence`` from ``end_turn`` (both are OpenAI's ``stop``)."""
    finish: dict[str, Any] = {"finish_reason": anthropic_to_openai(script.stop_reason)}
    if script.stop_sequence is not None:
        finish["stop_reason"] = script.stop_sequence
    return finish


def _openai_usage(script: Script) -> dict[str, int]:
    total = script.input_tokens + script.output_tokens
    return {
        "prompt_tokens": script.input_tokens,
        "completion_tokens": script.output_tokens,
        "total_tokens": total,
    }


def openai_completion(script: Script) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": _openai_text(script)}
    calls = [
        {
            "id": _openai_call_id(b),
            "type": "function",
            "function": {"name": b.name, "arguments": "".join(b.fragments)},
        }
        for b in script.blocks
        if isinstance(b, ToolUseBlock)
    ]
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-" + script.hex,
        "object": "chat.completion",
        "created": OPENAI_CREATED,
        "model": script.model,
        "choices": [{"index": 0, "message": message, **_finish(script)}],
        "usage": _openai_usage(script),
    }


def openai_chunks(script: Script, *, include_usage: bool) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` sequence (without the ``[DONE]`` sentinel)."""
    base: dict[str, Any] = {
        "id": "chatcmpl-" + script.hex,
        "object": "chat.completion.chunk",
        "created": OPENAI_CREATED,
        "model": script.model,
    }
    if include_usage:
        base["usage"] = None  # as OpenAI does: every chunk but the last carries "usage": null

    def chunk(delta: dict[str, Any], finish: dict[str, Any] | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, **(finish or {"finish_reason": None})}
        return {**base, "choices": [choice]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    call_index = 0
    for block in script.blocks:
        if isinstance(block, TextBlock):
            chunks.extend(chunk({"content": text}) for text in block.deltas)
            continue
        opening = {"name": block.name, "arguments": ""}
        call = {"index": call_index, "id": _openai_call_id(block), "type": "function", "function": opening}
        chunks.append(chunk({"tool_calls": [call]}))
        chunks.extend(
            chunk({"tool_calls": [{"index": call_index, "function": {"arguments": f}}]})
            for f in block.fragments
        )
        call_index += 1
    chunks.append(chunk({}, _finish(script)))
    if include_usage:
        chunks.append({**base, "choices": [], "usage": _openai_usage(script)})
    return chunks


def is_openai_delta(chunk: dict[str, Any]) -> bool:
    """A chunk carrying content: text, or tool-call argument text (not the opening chunk of a call)."""
    for choice in chunk.get("choices", []):
        delta = choice.get("delta", {})
        if delta.get("content") or any(
            c.get("function", {}).get("arguments") for c in delta.get("tool_calls", [])
        ):
            return True
    return False


def is_openai_end(chunk: dict[str, Any]) -> bool:
    return any(choice.get("finish_reason") is not None for choice in chunk.get("choices", []))
