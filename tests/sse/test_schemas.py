"""The compiled schema checks decide exactly what jsonschema decides on the YAML schemas (the schemas are the
contract, and the only copy of them)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from gateway_contracts.sse import Dialect, FrameParser, grammar
from gateway_contracts.sse.schemas import EventSchemas
from tests.sse.vectors import VECTORS


def event_kind(dialect: Dialect, obj: dict[str, Any]) -> str | None:
    """Which schema the validator would apply (None: no schema, e.g. an unknown event type)."""
    if dialect == "anthropic":
        kind = obj.get("type")
        return kind if isinstance(kind, str) and kind in grammar("anthropic").schemas else None
    if "error" in obj and "choices" not in obj:
        return "error"
    return "usage_chunk" if obj.get("choices") == [] else "chunk"


def vector_events() -> list[tuple[Dialect, str, dict[str, Any]]]:
    out: list[tuple[Dialect, str, dict[str, Any]]] = []
    for vector in VECTORS:
        parser = FrameParser(sentinels=frozenset({"[DONE]"}))
        for frame in [*parser.feed(vector.data), *parser.close()]:
            if frame.parsed and isinstance(frame.payload, dict):
                kind = event_kind(vector.dialect, frame.payload)
                if kind is not None:
                    out.append((vector.dialect, kind, frame.payload))
    return out


def shape(value: Any) -> Any:
    """An event's structure with the values blanked, except the discriminators (every `type`)."""
    if isinstance(value, dict):
        return tuple(sorted((k, value[k] if k == "type" else shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(shape(v) for v in value)
    return type(value).__name__


EVENTS = vector_events()
# One event per distinct shape, so a tool_use start weighs as much as the hundredth text delta.
HOT = list({(d, k, shape(o)): (d, k, o) for d, k, o in EVENTS}.values())
CHECKERS: dict[Dialect, EventSchemas] = {d: grammar(d).schemas for d in ("anthropic", "openai")}


def compiled_valid(dialect: Dialect, kind: str, obj: Any) -> bool:
    return CHECKERS[dialect].passes[kind](obj)


def test_every_schema_is_a_valid_2020_12_schema() -> None:
    for dialect in ("anthropic", "openai"):
        for schema in grammar(dialect).schemas.values():
            Draft202012Validator.check_schema(schema)


def test_every_schema_is_compiled() -> None:
    for dialect in ("anthropic", "openai"):
        schemas = grammar(dialect).schemas
        assert set(schemas.passes) == set(schemas) and schemas


def test_the_vectors_exercise_every_schema_both_ways() -> None:
    verdicts = {(d, k, CHECKERS[d].schema_valid(k, o)) for d, k, o in HOT}
    for dialect, schemas in CHECKERS.items():
        for kind in schemas:
            assert (dialect, kind, True) in verdicts, f"no valid {kind} in the vectors"
    assert any(not valid for _, _, valid in verdicts)


@pytest.mark.parametrize("index", range(len(EVENTS)))
def test_compiled_checks_agree_with_schemas_on_the_vectors(index: int) -> None:
    dialect, kind, obj = EVENTS[index]
    checker = CHECKERS[dialect]
    schema = checker.schema_valid(kind, obj)
    assert compiled_valid(dialect, kind, obj) == schema, (kind, obj)
    # The validator's verdict (problem is None) is the schema's.
    assert (checker.problem(kind, obj) is None) == schema


# -- mutations: replace any value inside a hot event with an arbitrary JSON value, or drop it -----------------

# The values where a compiled check and a schema are most likely to part ways, drawn often on purpose: negative and
# float-valued integers, booleans (not integers in JSON Schema), empty strings, nulls, the wrong container.
DISCRIMINATORS = ["text", "tool_use", "thinking", "redacted_thinking", "image", "function", "ping", "error"]
DISCRIMINATORS += ["text_delta", "input_json_delta", "thinking_delta", "signature_delta", "citations_delta"]
DISCRIMINATORS += [
    "message",
    "assistant",
    "content_block_start",
    "content_block_delta",
    "chat.completion.chunk",
]
# fmt: off
EDGE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 1.0, -1.0, 0.5, 1e300, "", "x", [], [0], {}, {"type": "x"}, *DISCRIMINATORS,
]
# fmt: on
JSON_VALUES = st.sampled_from(EDGE_VALUES) | st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from(["", "text", "function", "stop", "input_json_delta"]),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["type", "text", "index", "id", "name"]), inner, max_size=2)
    ),
    max_leaves=4,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(paths(item, (*prefix, i)))
    return out


def mutate(obj: dict[str, Any], path: tuple[Any, ...], replacement: Any, drop: bool) -> Any:
    if not path:
        return replacement
    result = copy.deepcopy(obj)
    parent: Any = result
    for step in path[:-1]:
        parent = parent[step]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return result


@settings(max_examples=1500)
@given(data=st.data(), event=st.sampled_from(HOT), replacement=JSON_VALUES, drop=st.booleans())
def test_compiled_checks_agree_with_schemas_on_mutations(
    data: st.DataObject, event: tuple[Dialect, str, dict[str, Any]], replacement: Any, drop: bool
) -> None:
    dialect, kind, obj = event
    path = data.draw(st.sampled_from(paths(obj)))
    mutated = mutate(obj, path, replacement, drop)
    if not isinstance(mutated, dict):
        return
    assert compiled_valid(dialect, kind, mutated) == CHECKERS[dialect].schema_valid(kind, mutated), (
        kind,
        mutated,
    )


def test_compiled_checks_agree_with_schemas_on_every_single_point_mutation() -> None:
    """Exhaustive where hypothesis samples: each distinct event shape, each value in it replaced by each edge
    value or dropped."""
    checked = 0
    for dialect, kind, obj in HOT:
        checker = CHECKERS[dialect]
        for path in paths(obj)[1:]:
            for replacement, drop in [*((value, False) for value in EDGE_VALUES), (None, True)]:
                mutated = mutate(obj, path, replacement, drop)
                assert compiled_valid(dialect, kind, mutated) == checker.schema_valid(kind, mutated), (
                    kind,
                    path,
                    mutated,
                )
                checked += 1
    assert checked > 1000
