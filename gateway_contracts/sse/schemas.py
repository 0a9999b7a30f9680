"""Per-event schema checks: the JSON Schemas of ``contracts/sse-grammar.yaml``, with hand-written fast paths.

The schemas are the contract. Running jsonschema on every ``content_block_delta`` would make the validator
several times slower than parsing the JSON in the first place, so the events that make up nearly all of a
stream (ping, the content block events, OpenAI's content chunks) are checked by the functions below, which
decide exactly what their schema decides; ``tests/sse/test_schemas.py`` holds them to that on every golden
vector and on generated mutations. Only when a hand check fails is jsonschema run, to say *what* is wrong;
rarer events (message_start, message_delta, error, the usage chunk) always go through jsonschema.
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
    if event.get("type") != "content_block_delta" or not _is_count(event.get("index")):
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
    role = delta.get("role")
    if role is not None and (type(role) is not str or role not in _ROLES):
        return False
    for key in ("content", "refusal"):
        if key in delta and not _is_str_or_null(delta[key]):
            return False
    if "tool_calls" in delta:
        calls = delta["tool_calls"]
        if calls is not None and (type(calls) is not list or not all(_tool_call_delta(c) for c in calls)):
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
    if type(choices) is not list or not choices or not all(_choice(c) for c in choices):
        return False
    for key in ("system_fingerprint", "service_tier"):
        if key in event and not _is_str_or_null(event[key]):
            return False
    return "usage" not in event or event["usage"] is None or _usage(event["usage"])


HAND_CHECKS: dict[Dialect, dict[str, HandCheck]] = {
    "anthropic": {
        "ping": _ping,
        "content_block_start": _content_block_start,
        "content_block_delta": _content_block_delta,
        "content_block_stop": _content_block_stop,
        "message_stop": _message_stop,
    },
    "openai": {"chunk": _chunk},
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
