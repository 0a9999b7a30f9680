"""Per-event schema checks: the JSON Schemas of ``contracts/sse-grammar.yaml``, with hand-written fast paths.

The schemas are the contract. jsonschema takes hundreds of microseconds per event, where parsing the event's JSON
takes a few, so every event type has a function below that decides exactly what its schema decides, and
jsonschema runs only when that function says no, to explain what is wrong. ``tests/sse/test_schemas.py`` holds
the functions to the schemas: on every event of the golden vectors, on every single-point mutation of each
distinct event shape, and on generated mutations.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from gateway_contracts.sse.grammar import Dialect, grammar

HandCheck = Callable[[dict[str, Any]], bool]


def _is_count(value: Any) -> bool:
    """JSON Schema's ``{"type": "integer", "minimum": 0}``: 2020-12 takes 1.0 as an integer, never a bool."""
    kind = type(value)
    if kind is int:
        return bool(value >= 0)
    return kind is float and value.is_integer() and value >= 0


def _is_str(value: Any) -> bool:
    return type(value) is str


def _is_str_or_null(value: Any) -> bool:
    return value is None or type(value) is str


# -- Anthropic -----------------------------------------------------------------------------------------------


def _ping(event: dict[str, Any]) -> bool:
    return event.get("type") == "ping"


def _content_block_stop(event: dict[str, Any]) -> bool:
    return event.get("type") == "content_block_stop" and _is_count(event.get("index"))


_DELTA_FIELDS = {
    "text_delta": "text",
    "input_json_delta": "partial_json",
    "thinking_delta": "thinking",
    "signature_delta": "signature",
}


def _content_block_delta(event: dict[str, Any]) -> bool:
    # The hottest check of all: the common integer index is tested inline before the general rule.
    index = event.get("index")
    if event.get("type") != "content_block_delta" or not (
        (type(index) is int and index >= 0) or _is_count(index)
    ):
        return False
    delta = event.get("delta")
    if type(delta) is not dict:
        return False
    kind = delta.get("type")
    if type(kind) is not str:
        return False
    field = _DELTA_FIELDS.get(kind)
    if field is not None:
        return type(delta.get(field)) is str
    if kind == "citations_delta":
        citation = delta.get("citation")
        return type(citation) is dict and type(citation.get("type")) is str
    # Any other kind is schema-valid: which kinds a block allows is SSE-021's business, not the schema's.
    return True


def _content_block(block: Any) -> bool:
    if type(block) is not dict:
        return False
    kind = block.get("type")
    if kind == "text":
        citations = block.get("citations", None)
        return type(block.get("text")) is str and (citations is None or type(citations) is list)
    if kind == "tool_use":
        ident, name = block.get("id"), block.get("name")
        return (
            type(ident) is str
            and len(ident) > 0
            and type(name) is str
            and len(name) > 0
            and type(block.get("input")) is dict
        )
    if kind == "thinking":
        return type(block.get("thinking")) is str and (
            "signature" not in block or type(block["signature"]) is str
        )
    if kind == "redacted_thinking":
        return type(block.get("data")) is str
    return type(kind) is str


def _content_block_start(event: dict[str, Any]) -> bool:
    return (
        event.get("type") == "content_block_start"
        and _is_count(event.get("index"))
        and _content_block(event.get("content_block"))
    )


def _message_stop(event: dict[str, Any]) -> bool:
    return event.get("type") == "message_stop"


def _optional_counts(usage: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """``{"type": ["integer", "null"], "minimum": 0}`` for each key that is present."""
    return all(usage[k] is None or _is_count(usage[k]) for k in keys if k in usage)


_CACHE_COUNTS = ("cache_creation_input_tokens", "cache_read_input_tokens")


def _message_start(event: dict[str, Any]) -> bool:
    message = event.get("message")
    if event.get("type") != "message_start" or type(message) is not dict:
        return False
    ident, model, content, usage = (
        message.get("id"),
        message.get("model"),
        message.get("content"),
        message.get("usage"),
    )
    return (
        type(ident) is str
        and len(ident) > 0
        and message.get("type") == "message"
        and message.get("role") == "assistant"
        and type(model) is str
        and len(model) > 0
        and type(content) is list
        and not content
        and "stop_reason" in message
        and message["stop_reason"] is None
        and "stop_sequence" in message
        and message["stop_sequence"] is None
        and type(usage) is dict
        and _is_count(usage.get("input_tokens"))
        and _is_count(usage.get("output_tokens"))
        and _optional_counts(usage, _CACHE_COUNTS)
    )


def _message_delta(event: dict[str, Any]) -> bool:
    delta, usage = event.get("delta"), event.get("usage")
    return (
        event.get("type") == "message_delta"
        and type(delta) is dict
        and "stop_reason" in delta
        and _is_str_or_null(delta["stop_reason"])
        and "stop_sequence" in delta
        and _is_str_or_null(delta["stop_sequence"])
        and type(usage) is dict
        and _is_count(usage.get("output_tokens"))
        and _optional_counts(usage, ("input_tokens", *_CACHE_COUNTS))
    )


def _anthropic_error(event: dict[str, Any]) -> bool:
    error = event.get("error")
    if event.get("type") != "error" or type(error) is not dict:
        return False
    kind = error.get("type")
    return type(kind) is str and len(kind) > 0 and type(error.get("message")) is str


# -- OpenAI --------------------------------------------------------------------------------------------------

_ROLES = frozenset({"developer", "system", "user", "assistant", "tool"})


def _tool_call_delta(call: Any) -> bool:
    if type(call) is not dict or not _is_count(call.get("index")):
        return False
    if "id" in call and not (type(call["id"]) is str and call["id"]):
        return False
    if "type" in call and call["type"] != "function":
        return False
    if "function" in call:
        function = call["function"]
        if type(function) is not dict:
            return False
        if "name" in function and not (type(function["name"]) is str and function["name"]):
            return False
        if "arguments" in function and type(function["arguments"]) is not str:
            return False
    return True


def _choice(choice: Any) -> bool:
    if type(choice) is not dict or not _is_count(choice.get("index")):
        return False
    delta = choice.get("delta")
    if type(delta) is not dict:
        return False
    # One pass over what the delta holds (usually one key) rather than a lookup per known key.
    for key, value in delta.items():
        if value is None:
            continue  # role, content, refusal and tool_calls all allow null; other keys anything
        if key == "content" or key == "refusal":
            if type(value) is not str:
                return False
        elif key == "role":
            if type(value) is not str or value not in _ROLES:
                return False
        elif key == "tool_calls":
            if type(value) is not list:
                return False
            for call in value:
                if not _tool_call_delta(call):
                    return False
    return "finish_reason" not in choice or _is_str_or_null(choice["finish_reason"])


def _usage(usage: Any) -> bool:
    return (
        type(usage) is dict
        and _is_count(usage.get("prompt_tokens"))
        and _is_count(usage.get("completion_tokens"))
        and _is_count(usage.get("total_tokens"))
    )


def _chunk(event: dict[str, Any]) -> bool:
    ident, model, choices = event.get("id"), event.get("model"), event.get("choices")
    if not (type(ident) is str and ident and type(model) is str and model):
        return False
    if event.get("object") != "chat.completion.chunk" or not _is_count(event.get("created")):
        return False
    if type(choices) is not list or not choices:
        return False
    for choice in choices:
        if not _choice(choice):
            return False
    for key in ("system_fingerprint", "service_tier"):
        if key in event and not _is_str_or_null(event[key]):
            return False
    return "usage" not in event or event["usage"] is None or _usage(event["usage"])


def _usage_chunk(event: dict[str, Any]) -> bool:
    ident, model, choices = event.get("id"), event.get("model"), event.get("choices")
    return (
        type(ident) is str
        and len(ident) > 0
        and type(model) is str
        and len(model) > 0
        and event.get("object") == "chat.completion.chunk"
        and _is_count(event.get("created"))
        and type(choices) is list
        and not choices
        and _usage(event.get("usage"))
    )


def _openai_error(event: dict[str, Any]) -> bool:
    error = event.get("error")
    if type(error) is not dict or type(error.get("message")) is not str:
        return False
    for key in ("type", "param"):
        if key in error and not _is_str_or_null(error[key]):
            return False
    if "code" in error:
        code = error["code"]
        kind = type(code)
        return code is None or kind is str or kind is int or (kind is float and code.is_integer())
    return True


HAND_CHECKS: dict[Dialect, dict[str, HandCheck]] = {
    "anthropic": {
        "ping": _ping,
        "message_start": _message_start,
        "content_block_start": _content_block_start,
        "content_block_delta": _content_block_delta,
        "content_block_stop": _content_block_stop,
        "message_delta": _message_delta,
        "message_stop": _message_stop,
        "error": _anthropic_error,
    },
    "openai": {"chunk": _chunk, "usage_chunk": _usage_chunk, "error": _openai_error},
}


@functools.cache
def compiled(dialect: Dialect) -> dict[str, Draft202012Validator]:
    """One compiled validator per event schema of the dialect (built once per process)."""
    out: dict[str, Draft202012Validator] = {}
    for event, schema in grammar(dialect).schemas.items():
        Draft202012Validator.check_schema(schema)
        out[event] = Draft202012Validator(schema)
    return out


class SchemaChecker:
    """``problem(event_type, obj)`` → None when the object matches its schema, else a one-line reason."""

    def __init__(self, dialect: Dialect) -> None:
        self._validators = compiled(dialect)
        self._hand = HAND_CHECKS[dialect]

    def problem(self, event: str, obj: dict[str, Any]) -> str | None:
        hand = self._hand.get(event)
        if hand is not None and hand(obj):
            return None
        validator = self._validators[event]
        error = best_match(validator.iter_errors(obj))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{event} does not match its schema: {where + ': ' if where else ''}{error.message}"

    def schema_valid(self, event: str, obj: dict[str, Any]) -> bool:
        """The schema's own verdict, without the fast path (for the agreement tests)."""
        return bool(self._validators[event].is_valid(obj))

    def hand_valid(self, event: str, obj: dict[str, Any]) -> bool | None:
        """The fast path's verdict, or None when the event has none."""
        hand = self._hand.get(event)
        return None if hand is None else hand(obj)
