"""Hostile answers (the ``corrupt`` directive): a scripted answer, JSON or stream, in either dialect, made into
what a broken or malicious upstream sends."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from typing import Any

HUGE_ANSWER_CHARS = 24 * 1024 * 1024
"""``corrupt=huge``: characters of text in the answer, past every gateway budget (and the reference's 16 MiB
read limit)."""
HUGE_DELTA_CHARS = 1024 * 1024
ENDLESS_MAX_DELTAS = 2_000_000
"""``corrupt=endless``: the stream is cut here by the scripted upstream itself (its own budget), long after a
gateway should have given up on it."""
NOT_JSON = '{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "amb'
"""The data of a ``corrupt=bad_json`` event: JSON cut off mid-string."""
INVALID_TOOL_INPUT = '"INVALID"'
"""``corrupt=tool_input_string``: the tool input's JSON, a string where an object belongs."""


def corrupt_document(document: dict[str, Any], kind: str, *, openai: bool) -> dict[str, Any] | bytes:
    """The non-streamed answer (an Anthropic message, or an OpenAI ``chat.completion``) made hostile; bytes when
    it is not JSON at all. ``endless`` is the caller's (a body that never ends); here it is ``huge``."""
    text = json.dumps(document)
    if kind == "bad_json":
        return (text[: len(text) // 2] + "\x00 ;not json").encode()
    if kind == "truncate":
        return text[: len(text) // 2].encode()
    out: dict[str, Any] = json.loads(text)
    if openai:
        message = out["choices"][0]["message"]
        if kind == "wrong_types":
            message["content"] = 42
            out["usage"]["completion_tokens"] = "many"
        elif kind == "tool_input_string":
            for call in message.get("tool_calls") or []:
                call["function"]["arguments"] = INVALID_TOOL_INPUT
        else:  # huge, endless
            message["content"] = "x" * HUGE_ANSWER_CHARS
        return out
    if kind == "wrong_types":
        out["usage"]["output_tokens"] = "many"
        for block in out["content"]:
            if block["type"] == "text":
                block["text"] = 42
    elif kind == "tool_input_string":
        for block in out["content"]:
            if block["type"] == "tool_use":
                block["input"] = json.loads(INVALID_TOOL_INPUT)
    else:  # huge, endless
        out["content"] = [{"type": "text", "text": "x" * HUGE_ANSWER_CHARS}]
    return out


def corrupt_stream(items: Sequence[tuple[float, Any]], kind: str, *, openai: bool) -> list[tuple[float, Any]]:
    """A paced stream (Anthropic events or OpenAI chunks) made hostile; an item that is a ``str`` is the raw
    ``data`` of an event that is not JSON. ``endless`` is the caller's (``endless_deltas``)."""
    out = list(items)
    if kind == "truncate":  # a clean end of the body, without message_stop or [DONE]
        return out[: max(1, len(out) // 2)]
    if kind == "bad_json":
        return [out[0], (0.0, NOT_JSON), *out[1:]]
    text_at = next((i for i, (_, item) in enumerate(out) if _is_text_delta(item, openai=openai)), None)
    if kind == "tool_input_string":
        first = next(i for i, (_, item) in enumerate(out) if _is_arguments_delta(item, openai=openai))
        kept = [pair for pair in out if not _is_arguments_delta(pair[1], openai=openai)]
        kept.insert(first, (0.0, _arguments_delta(out[first][1], INVALID_TOOL_INPUT, openai=openai)))
        return kept
    assert text_at is not None  # build_script refuses huge and wrong_types without text
    if kind == "wrong_types":
        out[text_at] = (out[text_at][0], _text_delta(out[text_at][1], 42, openai=openai))
        return out
    huge = _text_delta(out[text_at][1], "x" * HUGE_DELTA_CHARS, openai=openai)
    count = HUGE_ANSWER_CHARS // HUGE_DELTA_CHARS
    return [*out[:text_at], *[(0.0, huge)] * count, *out[text_at:]]


def endless_deltas(template: Any, *, openai: bool) -> Any:
    """``corrupt=endless``: the first text delta of the stream, again and again (``ENDLESS_MAX_DELTAS``)."""
    delta = _text_delta(template, " amber", openai=openai)
    return (delta for _ in range(ENDLESS_MAX_DELTAS))


def first_text_delta(items: Sequence[tuple[float, Any]], *, openai: bool) -> int:
    return next(i for i, (_, item) in enumerate(items) if _is_text_delta(item, openai=openai))


def _is_text_delta(item: Any, *, openai: bool) -> bool:
    if not isinstance(item, dict):
        return False
    if openai:
        return any(isinstance(c.get("delta", {}).get("content"), str) and c["delta"]["content"]
                   for c in item.get("choices", []))  # fmt: skip
    return item.get("type") == "content_block_delta" and item["delta"].get("type") == "text_delta"


def _is_arguments_delta(item: Any, *, openai: bool) -> bool:
    if not isinstance(item, dict):
        return False
    if openai:
        return any(
            "id" not in call and call.get("function", {}).get("arguments")
            for choice in item.get("choices", [])
            for call in choice.get("delta", {}).get("tool_calls", [])
        )
    return item.get("type") == "content_block_delta" and item["delta"].get("type") == "input_json_delta"


def _text_delta(template: dict[str, Any], text: Any, *, openai: bool) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(template))
    if openai:
        out["choices"][0]["delta"] = {"content": text}
    else:
        out["delta"] = {"type": "text_delta", "text": text}
    return out


def _arguments_delta(template: dict[str, Any], arguments: str, *, openai: bool) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(template))
    if openai:
        out["choices"][0]["delta"]["tool_calls"][0]["function"] = {"arguments": arguments}
    else:
        out["delta"] = {"type": "input_json_delta", "partial_json": arguments}
    return out


def hostile_stream(
    paced: list[tuple[float, Any]], kind: str | None, *, openai: bool
) -> Iterable[tuple[float, Any]]:
    """The paced stream as the ``corrupt`` directive wants it (unchanged without one). ``endless`` repeats the
    first text delta, each after the same delay as it (build_script refuses endless without text)."""
    if kind is None:
        return paced
    if kind == "endless":
        at = first_text_delta(paced, openai=openai)
        delay = paced[at][0]
        return itertools.chain(
            paced[:at], ((delay, item) for item in endless_deltas(paced[at][1], openai=openai))
        )
    return corrupt_stream(paced, kind, openai=openai)
