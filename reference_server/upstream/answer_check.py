"""What an upstream answers is untrusted input: the one check every answer passes, whatever backend sent it.

The adapters turn their dialect into the gateway's internal (Anthropic) form; this module then holds that form to
the contract before anything reaches a client: the finished message (``check_message``) and the stream, event by
event (``StreamGuard``). An answer that is malformed, truncated, oversized or violates the schema (a ``tool_use``
whose ``input`` is a string, a token count that is text, a stream whose blocks are out of order or that never
ends) is one error on every backend alike: ``InvalidAnswer``, an ``UpstreamError`` 500 ``api_error`` that the
client sees with the code ``upstream_invalid_answer`` and that the capture records as an upstream error. The
adapters raise the same error for what they cannot even decode (bad JSON, an answer over ``MAX_ANSWER_BYTES``).

Budgets: an answer may carry at most ``answer_char_budget(max_tokens)`` characters of text and tool input (64
per token asked for, plus 64 KiB), and a stream at most ``4 * max_tokens + 1024`` events; no model's answer comes
near either, and an endless or huge one is cut there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reference_server.upstream.base import UpstreamError, UpstreamMessage

INVALID_ANSWER_CODE = "upstream_invalid_answer"
MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""Largest non-streamed answer body an adapter reads; past it the answer is invalid, unread."""
MAX_STREAM_BYTES = 64 * 1024 * 1024
"""Largest streamed answer an adapter reads in all (comments and pings included)."""
CHARS_PER_TOKEN = 64
CHAR_FLOOR = 64 * 1024
STOP_REASONS = frozenset({"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"})


class InvalidAnswer(UpstreamError):
    """An upstream answer the gateway will not pass on (see the module docstring)."""

    def __init__(self, slug: str, what: str) -> None:
        super().__init__(500, "api_error", f"backend '{slug}' sent an invalid answer: {what}")


def answer_char_budget(max_tokens: int) -> int:
    return CHAR_FLOOR + CHARS_PER_TOKEN * max(0, max_tokens)


def stream_event_budget(max_tokens: int) -> int:
    return 1024 + 4 * max(0, max_tokens)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_message(msg: Any, slug: str, max_tokens: int) -> None:
    """Raise ``InvalidAnswer`` unless ``msg`` is a well-formed ``UpstreamMessage`` within the budget."""
    if not isinstance(msg, UpstreamMessage):
        raise InvalidAnswer(slug, "not a message")
    if not isinstance(msg.id, str):
        raise InvalidAnswer(slug, "the message id is not a string")
    if not isinstance(msg.content, list):
        raise InvalidAnswer(slug, "content is not a list of blocks")
    chars = 0
    for index, block in enumerate(msg.content):
        chars += _block_chars(block, slug, f"content[{index}]")
    if chars > answer_char_budget(max_tokens):
        raise InvalidAnswer(slug, f"the answer is larger than its budget for max_tokens={max_tokens}")
    if msg.stop_reason not in STOP_REASONS:
        raise InvalidAnswer(slug, "stop_reason is not one of the stop reasons")
    if msg.stop_sequence is not None and not isinstance(msg.stop_sequence, str):
        raise InvalidAnswer(slug, "stop_sequence is neither a string nor null")
    usage = msg.usage
    if not (_is_count(usage.input_tokens) and _is_count(usage.output_tokens)):
        raise InvalidAnswer(slug, "usage token counts are not non-negative integers")


def _block_chars(block: Any, slug: str, where: str) -> int:
    if not isinstance(block, dict):
        raise InvalidAnswer(slug, f"{where} is not an object")
    kind = block.get("type")
    if kind == "text":
        if not isinstance(block.get("text"), str):
            raise InvalidAnswer(slug, f"{where}.text is not a string")
        return len(block["text"])
    if kind == "tool_use":
        if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
            raise InvalidAnswer(slug, f"{where} (tool_use) lacks a string id or name")
        if not isinstance(block.get("input"), dict):
            raise InvalidAnswer(slug, f"{where}.input (tool_use) is not an object")
        try:
            return len(json.dumps(block["input"]))
        except (TypeError, ValueError, RecursionError):
            raise InvalidAnswer(slug, f"{where}.input (tool_use) is not JSON data") from None
    raise InvalidAnswer(slug, f"{where} is neither a text nor a tool_use block")


class StreamGuard:
    """Holds one stream to the grammar of Anthropic's events and to its budget, one event at a time.

    ``message_start`` first and once; blocks opened in index order, one at a time, each delta of its block's
    kind; a ``tool_use`` block's ``partial_json`` fragments must add up to a JSON object; ``message_delta``
    with no block open; ``message_stop`` last. ``ping`` may come anywhere."""

    def __init__(self, slug: str, max_tokens: int) -> None:
        self.slug = slug
        self.max_tokens = max_tokens
        self._chars_left = answer_char_budget(max_tokens)
        self._events_left = stream_event_budget(max_tokens)
        self._started = False
        self._ended = False
        self._next_index = 0
        self._open: str | None = None  # the kind of the open block
        self._json: list[str] = []  # a tool_use block's fragments so far

    def _fail(self, what: str) -> InvalidAnswer:
        return InvalidAnswer(self.slug, what)

    def check(self, event: Any) -> None:
        self._events_left -= 1
        if self._events_left < 0:
            raise self._fail(f"the stream has more events than its budget for max_tokens={self.max_tokens}")
        if not isinstance(event, Mapping):
            raise self._fail("a stream event is not an object")
        kind = event.get("type")
        if self._ended:
            raise self._fail("an event came after message_stop")
        if kind == "ping":
            return
        if not self._started:
            if kind != "message_start":
                raise self._fail("the stream does not begin with message_start")
            self._message_start(event)
            return
        if kind == "content_block_start":
            self._block_start(event)
        elif kind == "content_block_delta":
            self._delta(event)
        elif kind == "content_block_stop":
            self._block_stop(event)
        elif kind == "message_delta":
            self._message_delta(event)
        elif kind == "message_stop":
            if self._open is not None:
                raise self._fail("message_stop came with a content block still open")
            self._ended = True
        else:
            raise self._fail("an event of a type the stream grammar does not have")

    def _message_start(self, event: Mapping[str, Any]) -> None:
        message = event.get("message")
        if not isinstance(message, Mapping):
            raise self._fail("message_start carries no message object")
        usage = message.get("usage", {})
        if not isinstance(usage, Mapping) or not all(
            _is_count(usage[k]) for k in ("input_tokens", "output_tokens") if k in usage
        ):
            raise self._fail("message_start's usage counts are not non-negative integers")
        self._started = True

    def _index(self, event: Mapping[str, Any]) -> int:
        index = event.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise self._fail(f"{event.get('type')} has no integer index")
        return index

    def _block_start(self, event: Mapping[str, Any]) -> None:
        if self._open is not None or self._index(event) != self._next_index:
            raise self._fail("content_block_start out of order")
        block = event.get("content_block")
        if not isinstance(block, Mapping):
            raise self._fail("content_block_start carries no block object")
        kind = block.get("type")
        if kind == "text":
            if not isinstance(block.get("text", ""), str):
                raise self._fail("a text block's text is not a string")
        elif kind == "tool_use":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise self._fail("a tool_use block lacks a string id or name")
            initial = block.get("input", {})
            if not isinstance(initial, Mapping) or initial:
                # Anthropic opens a tool_use with "input": {} and streams the input as partial_json.
                raise self._fail("a tool_use block starts with an input that is not {}")
        else:
            raise self._fail("a content block is neither text nor tool_use")
        self._open = kind
        self._json = []

    def _spend(self, chars: int) -> None:
        self._chars_left -= chars
        if self._chars_left < 0:
            raise self._fail(f"the answer is larger than its budget for max_tokens={self.max_tokens}")

    def _delta(self, event: Mapping[str, Any]) -> None:
        if self._open is None or self._index(event) != self._next_index:
            raise self._fail("content_block_delta for a block that is not open")
        delta = event.get("delta")
        if not isinstance(delta, Mapping):
            raise self._fail("content_block_delta carries no delta object")
        kind = delta.get("type")
        if self._open == "text" and kind == "text_delta":
            text = delta.get("text")
            if not isinstance(text, str):
                raise self._fail("a text_delta's text is not a string")
            self._spend(len(text))
        elif self._open == "tool_use" and kind == "input_json_delta":
            fragment = delta.get("partial_json")
            if not isinstance(fragment, str):
                raise self._fail("an input_json_delta's partial_json is not a string")
            self._spend(len(fragment))
            self._json.append(fragment)
        else:
            raise self._fail("a delta does not fit the kind of its block")

    def _block_stop(self, event: Mapping[str, Any]) -> None:
        if self._open is None or self._index(event) != self._next_index:
            raise self._fail("content_block_stop for a block that is not open")
        if self._open == "tool_use":
            text = "".join(self._json)
            try:
                value = json.loads(text) if text.strip() else {}
            except (ValueError, RecursionError):
                raise self._fail("a tool_use block's input is not JSON") from None
            if not isinstance(value, dict):
                raise self._fail("a tool_use block's input is not an object")
        self._open = None
        self._json = []
        self._next_index += 1

    def _message_delta(self, event: Mapping[str, Any]) -> None:
        if self._open is not None:
            raise self._fail("message_delta came with a content block still open")
        delta = event.get("delta", {})
        if not isinstance(delta, Mapping):
            raise self._fail("message_delta carries no delta object")
        reason = delta.get("stop_reason")
        if reason is not None and reason not in STOP_REASONS:
            raise self._fail("message_delta's stop_reason is not one of the stop reasons")
        usage = event.get("usage", {})
        if not isinstance(usage, Mapping) or not all(
            _is_count(usage[k]) or (k == "input_tokens" and usage[k] is None)
            for k in ("input_tokens", "output_tokens")
            if k in usage
        ):
            raise self._fail("message_delta's usage counts are not non-negative integers")
