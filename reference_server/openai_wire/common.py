"""What both halves of the OpenAI translation share: the error they raise and the small readers of OpenAI shapes
that the outbound half (reading an upstream's answer) and the inbound half (reading a client's request) both
need."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

Json = dict[str, Any]


class WireError(ValueError):
    """A shape that cannot be translated into the other dialect."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def openai_text(content: Any, separator: str = "\n\n") -> str:
    """OpenAI message content (a string, null, or text parts) as one string."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, Mapping) or part.get("type") != "text":
                raise WireError("expected text content parts only")
            texts.append(str(part.get("text", "")))
        return separator.join(texts)
    raise WireError("content must be a string or a list of content parts")


def tool_call_to_block(call: Any) -> Json:
    """An OpenAI ``tool_calls`` entry as an Anthropic ``tool_use`` block."""
    if not isinstance(call, Mapping) or not isinstance(call.get("function"), Mapping):
        raise WireError("a tool call needs a function")
    function = call["function"]
    return {
        "type": "tool_use",
        "id": call.get("id") or new_tool_id(),
        "name": function.get("name"),
        "input": parse_arguments(function.get("arguments")),
    }


def parse_arguments(arguments: Any) -> Json:
    if arguments is None or arguments == "":
        return {}  # several providers send "" for a function without parameters
    if isinstance(arguments, Mapping):
        return dict(arguments)
    try:
        parsed = json.loads(arguments)
    except (TypeError, ValueError) as exc:
        raise WireError("tool call arguments are not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise WireError("tool call arguments are not a JSON object")
    return parsed


def token_count(value: Any) -> int:
    """A token count as reported, or 0 for anything that is not a non-negative integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def new_tool_id() -> str:
    return f"toolu_{uuid.uuid4().hex[:24]}"


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
