"""Tool calls (``reference_server/upstream/scripted/tool_input.py`` and the engine's tool choice): the input
validates against the tool's schema, generated schemas included, and arrives in fragments; ``tool_choice`` and
the ``tool`` directive pick the tool."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_server.upstream.base import UpstreamError
from reference_server.upstream.scripted import ScriptedAdapter, schema_instance
from tests.upstream.scripted.support import TOOLS, WEATHER_SCHEMA, collect, fold, make_request

SCHEMAS: list[dict[str, Any]] = [
    WEATHER_SCHEMA,
    {"type": "object", "properties": {}},
    {
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 3, "maxLength": 5},
            "limit": {"type": "integer", "exclusiveMinimum": 0, "multipleOf": 5},
            "ratio": {"type": "number", "minimum": 0.5, "exclusiveMaximum": 0.75},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": True},
            "filters": {
                "type": "object",
                "properties": {"since": {"type": "string", "format": "date-time"}, "owner": {"type": "null"}},
                "required": ["since", "owner"],
                "additionalProperties": False,
            },
            "kind": {"const": "search"},
            "mode": {"type": ["null", "string"], "enum": ["fast", "slow"]},
        },
        "required": ["query", "limit", "tags", "filters", "kind"],
        "additionalProperties": False,
    },
    {
        "type": "object",
        "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
        "properties": {
            "origin": {"$ref": "#/$defs/point"},
            "target": {"anyOf": [{"type": "integer", "minimum": 4}, {"type": "string"}]},
            "shape": {"allOf": [{"$ref": "#/$defs/point"}, {"properties": {"y": {"type": "integer"}}}]},
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "boolean"}, {"type": "integer"}],
                "minItems": 2,
            },
        },
        "required": ["origin", "target", "shape", "pair"],
    },
    {  # recursive: must terminate
        "type": "object",
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#"}},
                },
                "required": ["name"],
            }
        },
        "properties": {
            "root": {"$ref": "#/$defs/node"},
            "children": {"type": "array", "items": {"$ref": "#"}},
        },
        "required": ["root"],
    },
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: ",".join(s.get("properties", {})) or "empty")
async def test_forced_tool_input_validates_and_arrives_in_fragments(schema: dict[str, Any]) -> None:
    """A forced tool_choice answers with a tool_use whose input validates against the tool's input_schema
    (every declared property present), streamed as >= 3 input_json_delta fragments that parse to it."""
    tools = [{"name": "act", "input_schema": schema}]
    request = make_request(tools=tools, tool_choice={"type": "tool", "name": "act"}, max_tokens=4096)
    adapter = ScriptedAdapter()
    message = await adapter.chat(request)
    assert message.stop_reason == "tool_use"
    (block,) = message.content
    assert block["type"] == "tool_use" and block["name"] == "act" and block["id"].startswith("toolu_")
    jsonschema.validate(block["input"], schema, format_checker=jsonschema.FormatChecker())
    assert set(block["input"]) >= set(schema.get("properties", {}))
    events = await collect(adapter, request)
    fragments = [e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta"]
    assert json.loads("".join(fragments)) == block["input"]
    if len("".join(fragments)) >= 3:
        assert len(fragments) >= 3
    assert fold(events)["usage"]["output_tokens"] == len(fragments) == message.usage.output_tokens


scalar_schemas = st.one_of(
    st.builds(lambda lo: {"type": "integer", "minimum": lo}, st.integers(-50, 50)),
    st.builds(lambda hi: {"type": "integer", "exclusiveMaximum": hi}, st.integers(-50, 50)),
    st.builds(lambda lo: {"type": "number", "exclusiveMinimum": lo}, st.floats(-1e3, 1e3)),
    st.builds(lambda n: {"type": "string", "minLength": n}, st.integers(0, 40)),
    st.builds(lambda n: {"type": "string", "maxLength": n}, st.integers(0, 3)),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.builds(lambda values: {"enum": values}, st.lists(st.integers(), min_size=1, max_size=3)),
)
schemas = st.recursive(
    scalar_schemas,
    lambda inner: st.one_of(
        st.builds(
            lambda items, n: {"type": "array", "items": items, "minItems": n}, inner, st.integers(0, 3)
        ),
        st.builds(
            lambda props: {"type": "object", "properties": props, "required": sorted(props)},
            st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
        ),
    ),
    max_leaves=8,
)


@settings(max_examples=50)
@given(properties=st.dictionaries(st.sampled_from(["p", "q", "r", "s"]), schemas, max_size=4))
def test_generated_tool_inputs_validate(properties: dict[str, Any]) -> None:
    """For generated schemas (bounds, lengths, enums, nested arrays and objects), the tool input is valid."""
    schema = {"type": "object", "properties": properties, "required": sorted(properties)}
    jsonschema.validate(schema_instance(schema), schema)


async def test_tool_choice_any_directive_and_auto() -> None:
    """tool_choice any calls the first tool; tool=NAME calls NAME even under auto; auto alone answers
    with text; text_before_tool=1 puts a text block first."""
    adapter = ScriptedAdapter()
    anyone = await adapter.chat(make_request(tools=TOOLS, tool_choice={"type": "any"}))
    assert [b.get("name") for b in anyone.content] == ["get_weather"]
    chosen = await adapter.chat(make_request("tool=noop", tools=TOOLS, tool_choice={"type": "auto"}))
    assert [b.get("name") for b in chosen.content] == ["noop"] and chosen.content[0]["input"] == {}
    auto = await adapter.chat(make_request(tools=TOOLS, tool_choice={"type": "auto"}))
    assert [b["type"] for b in auto.content] == ["text"] and auto.stop_reason == "end_turn"
    both = await adapter.chat(
        make_request("tool=get_weather; text_before_tool=1; text_tokens=4", tools=TOOLS)
    )
    assert [b["type"] for b in both.content] == ["text", "tool_use"] and both.stop_reason == "tool_use"


async def test_tool_choice_naming_an_unknown_tool_is_a_400() -> None:
    """A tool_choice naming a tool that is not in tools is rejected like a real upstream does (400)."""
    with pytest.raises(UpstreamError) as caught:
        await ScriptedAdapter().chat(make_request(tools=TOOLS, tool_choice={"type": "tool", "name": "nope"}))
    assert (caught.value.status, caught.value.error_type) == (400, "invalid_request_error")
