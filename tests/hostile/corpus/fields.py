"""Field cases: both request schemas of the contract walked, every property (nested ones too) given wrong types
and boundary values, with secrets planted where the contract does not echo by design."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from contracts import inlined_component_schema
from tests.hostile.corpus.case import Case, chat_body, messages_body, post_json
from tests.hostile.support import SECRET

WRONG_TYPES: list[Any] = [None, True, 0, -1, 1.5, "", SECRET, [], {}, [SECRET], {"k": SECRET}, 2**70]


def _boundaries(schema: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for key, delta in (("minimum", -1), ("maximum", 1), ("exclusiveMinimum", 0), ("exclusiveMaximum", 0)):
        if isinstance(schema.get(key), int | float) and not isinstance(schema.get(key), bool):
            out += [schema[key] + delta, schema[key]]
    if isinstance(schema.get("minLength"), int):
        out.append("x" * max(0, schema["minLength"] - 1))
    if isinstance(schema.get("maxLength"), int):
        out.append("x" * (schema["maxLength"] + 1))
    if isinstance(schema.get("minItems"), int):
        out.append([] if schema["minItems"] > 0 else [SECRET])
    if isinstance(schema.get("maxItems"), int):
        out.append(["x"] * (schema["maxItems"] + 1))
    if "enum" in schema or "const" in schema:
        out.append(SECRET)
    return out


def _walk(schema: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every (path, schema) of a property, depth first; arrays step into their first item."""
    if not isinstance(schema, dict) or len(path) > 6:
        return
    for branch_key in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(branch_key) or []:
            yield from _walk(branch, path)
    for name, sub in (schema.get("properties") or {}).items():
        yield (*path, name), sub
        yield from _walk(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], (*path, 0))


def _set(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    out = json.loads(json.dumps(document))
    node = out
    for step in path[:-1]:
        if isinstance(step, int):
            if not isinstance(node, list) or not node:
                return None
            node = node[0]
        else:
            if not isinstance(node, dict):
                return None
            node = node.setdefault(step, {})
    if isinstance(path[-1], int) or not isinstance(node, dict):
        return None
    node[path[-1]] = value
    return out


# Fields whose value the contract answers with, by design: a secret there is not an echo to look for.
_ECHOED_BY_DESIGN = {"stop_sequences", "stop", "name", "model"}


def field_cases() -> Iterator[Case]:
    tool = {
        "name": "t",
        "description": "d",
        "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}},
    }
    templates = {
        ("/v1/messages", "MessagesRequest"): messages_body(
            system="s", stop_sequences=["zz"], temperature=0.5, top_p=0.5, tools=[tool],
            tool_choice={"type": "auto"}, metadata={"user_id": "u"}, stream=False,
        ),
        ("/v1/chat/completions", "ChatCompletionRequest"): chat_body(
            stop=["zz"], temperature=0.5, top_p=0.5, stream=False,
            tools=[{"type": "function", "function": {"name": "t", "parameters": tool["input_schema"]}}],
            tool_choice="auto",
        ),
    }  # fmt: skip
    seen: set[str] = set()
    for (path, component), template in templates.items():
        for field_path, schema in _walk(inlined_component_schema(component), ()):
            name = ".".join(str(p) for p in field_path)
            for index, value in enumerate([*WRONG_TYPES, *_boundaries(schema)]):
                if field_path[-1] in _ECHOED_BY_DESIGN and SECRET in json.dumps(value):
                    continue
                document = _set(template, field_path, value)
                if document is None:
                    continue
                case_id = f"fields/{component}/{name}/{index}"
                if case_id in seen:
                    continue
                seen.add(case_id)
                yield Case(case_id, "fields", post_json(path, document))
