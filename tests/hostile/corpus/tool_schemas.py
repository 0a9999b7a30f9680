"""Tool schema cases: ``input_schema`` values the scripted upstream must refuse or serve within its budget."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from tests.hostile.corpus.case import Case, chat_body, messages_body, post_json
from tests.hostile.support import SECRET


def tool_schema_cases() -> Iterator[Case]:
    magnitudes: list[Any] = [10, 1000, 100_000, 2_000_000, 10**9, 1e308, -1, "5", 1.5, True, None, [], {}]
    keywords = ["minItems", "minProperties", "minLength", "maxItems", "maxLength"]
    types = {
        "minItems": "array",
        "minProperties": "object",
        "minLength": "string",
        "maxItems": "array",
        "maxLength": "string",
    }
    schemas: list[tuple[str, Any]] = []
    for keyword, value in itertools.product(keywords, magnitudes):
        schemas.append((f"{keyword}-{value!r}"[:40], {"type": types[keyword], keyword: value}))
    numeric = [
        {"type": "integer", "exclusiveMinimum": 1e308}, {"type": "number", "exclusiveMinimum": 1e308, "multipleOf": 0.5},
        {"type": "integer", "minimum": 1e308, "maximum": 1.7e308}, {"type": "number", "maximum": -1e308},
        {"type": "integer", "minimum": 10, "maximum": 1}, {"type": "number", "multipleOf": 0},
        {"type": "number", "multipleOf": 1e-308, "minimum": 1}, {"type": "integer", "minimum": "5"},
        {"type": "number", "exclusiveMaximum": True, "maximum": 0}, {"type": "integer", "multipleOf": -3},
    ]  # fmt: skip
    schemas += [(f"numeric-{i}", s) for i, s in enumerate(numeric)]
    structural: list[Any] = [
        {"$ref": "#"}, {"$ref": "#/properties/p"}, {"$ref": "#/$defs/missing"}, {"$ref": "https://evil/" + SECRET},
        {"allOf": [{"$ref": "#/properties/p"}]}, {"anyOf": []}, {"oneOf": [None, 5]}, {"type": ["null"]},
        {"type": 5}, {"type": [SECRET]}, {"properties": [1, 2]}, {"required": "x"}, {"items": [1]},
        {"prefixItems": "x", "type": "array"}, {"enum": []}, {"const": {"k": [1, None]}}, True, False, None, 5,
        {"type": "array", "minItems": 2000, "items": {"type": "array", "minItems": 2000}},
        {"type": "object", "required": [f"r{i}" for i in range(5000)]},
    ]  # fmt: skip
    schemas += [(f"structural-{i}", s) for i, s in enumerate(structural)]
    for (name, schema), (path, stream) in itertools.product(
        schemas, [("/v1/messages", False), ("/v1/messages", True), ("/v1/chat/completions", False)]
    ):
        input_schema = {"type": "object", "required": ["p"], "properties": {"p": schema}}
        if path == "/v1/messages":
            body = messages_body(
                max_tokens=32_768, stream=stream, tools=[{"name": "t", "input_schema": input_schema}],
                tool_choice={"type": "tool", "name": "t"},
            )  # fmt: skip
        else:
            function = {"name": "t", "parameters": input_schema}
            body = chat_body(
                max_tokens=4096, tools=[{"type": "function", "function": function}],
                tool_choice={"type": "function", "function": {"name": "t"}},
            )  # fmt: skip
        route = path.rsplit("/", 1)[-1]
        yield Case(f"tools/{route}/{'stream' if stream else 'json'}/{name}", "tools", post_json(path, body))
