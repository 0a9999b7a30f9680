"""The scripted upstream: directives, the engine, the in-process adapter and the HTTP server.

Everything runs offline; the HTTP tests use a real loopback server started on a free port.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jsonschema
import pytest
from hypothesis import event as note_event
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_server.upstream.base import (
    ERROR_TYPE_BY_STATUS,
    Capabilities,
    UpstreamAdapter,
    UpstreamError,
    UpstreamMessage,
    UpstreamRequest,
)
from reference_server.upstream.finish_reasons import ANTHROPIC_STOP_REASONS
from reference_server.upstream.scripted import (
    DIRECTIVE_HEADER,
    DirectiveError,
    Directives,
    ScriptedAdapter,
    parse_directives,
    schema_instance,
    scripted_words,
)
from reference_server.upstream.scripted.server import start_server

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 12},
        "days": {"type": "integer", "minimum": 3, "maximum": 10},
        "unit": {"enum": ["celsius", "fahrenheit"]},
        "detailed": {"type": "boolean"},
    },
    "required": ["city"],
}
TOOLS: list[dict[str, Any]] = [
    {"name": "get_weather", "description": "Weather for a city", "input_schema": WEATHER_SCHEMA},
    {"name": "noop", "input_schema": {"type": "object", "properties": {}}},
]


def make_request(
    script: str = "",
    *,
    max_tokens: int = 256,
    content: str = "What is the weather like in Lisbon today?",
    tools: list[dict[str, Any]] | None = None,
    tool_choice: dict[str, Any] | None = None,
    stop_sequences: list[str] | None = None,
) -> UpstreamRequest:
    return UpstreamRequest(
        model="scripted-model",
        max_tokens=max_tokens,
        messages=[{"role": "user", "content": content}],
        system="You are terse.",
        stop_sequences=stop_sequences or [],
        tools=tools,
        tool_choice=tool_choice,
        headers={DIRECTIVE_HEADER: script, "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"},
    )


async def collect(adapter: ScriptedAdapter, request: UpstreamRequest) -> list[dict[str, Any]]:
    return [event async for event in adapter.stream_chat(request)]


def fold(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold an Anthropic event stream into the message it describes (the way a strict client would)."""
    message: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    for event in events:
        kind = event["type"]
        if kind == "message_start":
            message = copy.deepcopy(event["message"])
        elif kind == "content_block_start":
            blocks[event["index"]] = copy.deepcopy(event["content_block"])
            partial[event["index"]] = ""
        elif kind == "content_block_delta":
            delta = event["delta"]
            if delta["type"] == "text_delta":
                blocks[event["index"]]["text"] += delta["text"]
            else:
                partial[event["index"]] += delta["partial_json"]
        elif kind == "content_block_stop" and blocks[event["index"]]["type"] == "tool_use":
            blocks[event["index"]]["input"] = json.loads(partial[event["index"]])
        elif kind == "message_delta":
            message.update(event["delta"])
            message["usage"].update(event["usage"])
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message


def check_grammar(events: list[dict[str, Any]]) -> None:
    """Anthropic's frame order: message_start, blocks 0..n each start/deltas/stop, message_delta, message_stop
    (pings anywhere after message_start); delta kinds match their block; usage is cumulative."""
    kinds = [e["type"] for e in events if e["type"] != "ping"]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    open_block: dict[str, Any] | None = None
    next_index = 0
    for event in events[1:-2]:
        if event["type"] == "content_block_start":
            assert open_block is None and event["index"] == next_index
            open_block = event["content_block"]
        elif event["type"] == "content_block_delta":
            assert open_block is not None and event["index"] == next_index
            expected = "text_delta" if open_block["type"] == "text" else "input_json_delta"
            assert event["delta"]["type"] == expected
        elif event["type"] == "content_block_stop":
            assert open_block is not None and event["index"] == next_index
            open_block, next_index = None, next_index + 1
    assert open_block is None
    final = events[-2]
    assert final["delta"]["stop_reason"] in ANTHROPIC_STOP_REASONS
    assert (final["delta"]["stop_sequence"] is not None) == (final["delta"]["stop_reason"] == "stop_sequence")
    assert final["usage"]["output_tokens"] >= events[0]["message"]["usage"]["output_tokens"]


def as_message_dict(message: UpstreamMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "content": message.content,
        "stop_reason": message.stop_reason,
        "stop_sequence": message.stop_sequence,
        "usage": {"input_tokens": message.usage.input_tokens, "output_tokens": message.usage.output_tokens},
    }


def folded_view(events: list[dict[str, Any]]) -> dict[str, Any]:
    folded = fold(events)
    return {k: folded[k] for k in ("id", "content", "stop_reason", "stop_sequence", "usage")}


# --- Directives -----------------------------------------------------------------------------------------


def test_directive_header_parses_every_key() -> None:
    """Every documented key parses; spaces around items are ignored and values are percent-decoded."""
    parsed = parse_directives(
        " text_tokens=5; chunk=2;latency_ms=1; first_byte_ms=2; error=503; drop_after=1;"
        " stop_sequence=%3B%20END; finish=refusal; tool=noop; text_before_tool=1; seed=7;"
    )
    assert parsed == Directives(
        text_tokens=5,
        chunk=2,
        latency_ms=1,
        first_byte_ms=2,
        error=503,
        drop_after=1,
        stop_sequence="; END",
        finish="refusal",
        tool="noop",
        text_before_tool=True,
        seed=7,
    )
    assert parse_directives(None) == parse_directives("") == Directives()


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("colour=blue", "colour"),
        ("text_tokens=many", "text_tokens"),
        ("text_tokens=-1", "text_tokens"),
        ("chunk=0", "chunk"),
        ("error=200", "error"),
        ("error=600", "error"),
        ("finish=banana", "finish"),
        ("text_before_tool=yes", "text_before_tool"),
        ("seed", "seed"),
        ("seed=1; seed=2", "seed"),
        ("stop_sequence=", "stop_sequence"),
    ],
)
def test_bad_directive_is_a_value_error_naming_the_key(value: str, key: str) -> None:
    """Unknown keys and bad values raise a ValueError that names the offending key."""
    with pytest.raises(ValueError, match=key) as caught:
        parse_directives(value)
    assert isinstance(caught.value, DirectiveError) and caught.value.key == key


async def test_bad_directive_surfaces_from_both_adapter_calls() -> None:
    """The adapter raises the DirectiveError from chat() and from the first step of stream_chat()."""
    adapter = ScriptedAdapter()
    with pytest.raises(DirectiveError, match="finish"):
        await adapter.chat(make_request("finish=sideways"))
    with pytest.raises(DirectiveError, match="tool"):
        await collect(adapter, make_request("tool=missing", tools=TOOLS))


# --- Engine ---------------------------------------------------------------------------------------------


async def test_default_answer_is_a_short_text() -> None:
    """Without directives: 12 words in 3-word deltas, end_turn, output_tokens = words, input_tokens = words
    of system + messages."""
    adapter = ScriptedAdapter()
    request = make_request()
    message = await adapter.chat(request)
    assert message.id.startswith("msg_")
    assert message.content == [{"type": "text", "text": " ".join(scripted_words(12))}]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage.output_tokens == 12
    system_words = 3  # "You are terse."
    assert message.usage.input_tokens == system_words + len(request.messages[0]["content"].split())
    deltas = [e for e in await collect(adapter, request) if e["type"] == "content_block_delta"]
    assert len(deltas) == 4


async def test_same_request_gives_the_same_answer() -> None:
    """Determinism: two adapters, same request → identical messages and streams; a new seed changes the
    words and a new prompt changes the id, but a new traceparent changes nothing."""
    first, second = ScriptedAdapter(), ScriptedAdapter()
    request = make_request("tool=get_weather; text_before_tool=1", tools=TOOLS)
    assert await first.chat(request) == await second.chat(request)
    assert await collect(first, request) == await collect(second, request)
    other_trace = make_request("tool=get_weather; text_before_tool=1", tools=TOOLS)
    other_trace.headers["traceparent"] = "00-" + "c" * 32 + "-" + "d" * 16 + "-01"
    assert (await first.chat(other_trace)) == await first.chat(request)
    reseeded = await first.chat(make_request("seed=1"))
    assert reseeded.content != (await first.chat(make_request("seed=0"))).content
    assert (await first.chat(make_request(content="Hello"))).id != (await first.chat(make_request())).id


def test_adapter_satisfies_the_protocol() -> None:
    """ScriptedAdapter is an UpstreamAdapter with the slug and capabilities it was given."""
    adapter = ScriptedAdapter("scripted-notools", Capabilities(tools=False, native_streaming=False))
    assert isinstance(adapter, UpstreamAdapter)
    assert adapter.slug == "scripted-notools" and adapter.capabilities.tools is False


directive_sets = st.fixed_dictionaries(
    {},
    optional={
        "text_tokens": st.integers(0, 40),
        "chunk": st.integers(1, 7),
        "seed": st.integers(0, 5),
        "stop_sequence": st.sampled_from(["zzz", "END", "ridge", "a"]),
        "finish": st.sampled_from(["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]),
        "tool": st.sampled_from(["get_weather", "noop"]),
        "text_before_tool": st.sampled_from(["0", "1"]),
    },
)
tool_choices = st.sampled_from(
    [None, {"type": "auto"}, {"type": "any"}, {"type": "none"}, {"type": "tool", "name": "get_weather"}]
)


@st.composite
def scenarios(draw: st.DrawFn) -> UpstreamRequest:
    """A request plus a directive header. Tool directives mostly come with tools: a script that names a tool
    the request lacks is a plain DirectiveError and would otherwise crowd out the interesting cases."""
    with_tools = draw(st.booleans())
    directives = draw(directive_sets)
    if not with_tools and draw(st.integers(0, 9)) > 0:
        directives.pop("tool", None)
        if directives.get("finish") == "tool_use":
            del directives["finish"]
    return make_request(
        "; ".join(f"{k}={v}" for k, v in directives.items()),
        max_tokens=draw(st.one_of(st.integers(1, 30), st.integers(100, 400))),
        tools=TOOLS if with_tools else None,
        tool_choice=draw(tool_choices) if with_tools else None,
        stop_sequences=draw(st.sampled_from([[], [], ["meadow"], ["zzz", "ridge"]])),
    )


@settings(max_examples=50)
@given(request=scenarios())
def test_stream_folds_to_chat(request: UpstreamRequest) -> None:
    """For any directive combination, folding stream_chat() gives exactly chat() (content, stop reason and
    sequence, usage, id), the stream follows Anthropic's grammar, no output exceeds max_tokens, and no matched
    stop sequence appears in the text. A script that cannot apply fails the same way in both calls."""
    max_tokens = request.max_tokens
    adapter = ScriptedAdapter()

    async def both() -> tuple[Any, Any]:
        try:
            message: Any = await adapter.chat(request)
        except (ValueError, UpstreamError) as exc:
            message = type(exc)
        try:
            events: Any = await collect(adapter, request)
        except (ValueError, UpstreamError) as exc:
            events = type(exc)
        return message, events

    message, events = asyncio.run(both())
    if isinstance(message, type):
        note_event(f"fails with {message.__name__}")
        assert events is message
        return
    note_event(f"stop_reason={message.stop_reason}")
    check_grammar(events)
    assert folded_view(events) == as_message_dict(message)
    assert message.usage.output_tokens <= max_tokens
    text = "".join(b["text"] for b in message.content if b["type"] == "text")
    if message.stop_sequence is not None:
        assert message.stop_sequence not in text


# --- Tools ----------------------------------------------------------------------------------------------

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


# --- Failures -------------------------------------------------------------------------------------------

ERROR_STATUSES = [400, 401, 403, 404, 413, 429, 500, 503, 529]


@pytest.mark.parametrize("status", ERROR_STATUSES)
async def test_error_directive_fails_before_the_first_event(status: int) -> None:
    """error=N raises UpstreamError(N, Anthropic's type for N) from chat() and before any stream event."""
    adapter = ScriptedAdapter()
    expected_type = ERROR_TYPE_BY_STATUS.get(status, "api_error")
    with pytest.raises(UpstreamError) as from_chat:
        await adapter.chat(make_request(f"error={status}"))
    assert (from_chat.value.status, from_chat.value.error_type) == (status, expected_type)
    stream = adapter.stream_chat(make_request(f"error={status}"))
    with pytest.raises(UpstreamError) as from_stream:
        await anext(stream)
    assert (from_stream.value.status, from_stream.value.dropped) == (status, False)


@pytest.mark.parametrize("drop_after", [0, 1, 3, 99])
async def test_drop_after_kills_the_stream_mid_way(drop_after: int) -> None:
    """drop_after=N: the stream carries min(N, all) content deltas, never reaches message_delta, then raises
    UpstreamError(dropped=True); the non-streaming call is an upstream 500."""
    adapter = ScriptedAdapter()
    request = make_request(f"drop_after={drop_after}")
    events: list[dict[str, Any]] = []
    with pytest.raises(UpstreamError) as caught:
        async for event in adapter.stream_chat(request):
            events.append(event)
    assert caught.value.dropped and caught.value.status == 500
    assert sum(e["type"] == "content_block_delta" for e in events) == min(drop_after, 4)
    assert events[0]["type"] == "message_start"
    assert not {"message_delta", "message_stop"} & {e["type"] for e in events}
    with pytest.raises(UpstreamError) as non_streaming:
        await adapter.chat(request)
    assert (non_streaming.value.status, non_streaming.value.dropped) == (500, False)


async def test_stop_sequence_directive_ends_the_text_before_it() -> None:
    """stop_sequence=STR: the text is generated in full, STR is reported as matched and is not in the text."""
    message = await ScriptedAdapter().chat(make_request("stop_sequence=%0A%0AHuman:; text_tokens=5"))
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "\n\nHuman:")
    assert message.content[0]["text"] == " ".join(scripted_words(5))


async def test_request_stop_sequence_cuts_the_text_where_it_appears() -> None:
    """A request stop sequence that the generated words produce ends generation before the word that
    produced it, and is reported as the matched sequence."""
    words = scripted_words(12)
    position = next(i for i, w in enumerate(words) if w not in words[:i] and i > 0)
    message = await ScriptedAdapter().chat(make_request(stop_sequences=["@@", words[position]]))
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", words[position])
    assert message.content[0]["text"] == " ".join(words[:position])
    assert message.usage.output_tokens == position


async def test_text_longer_than_max_tokens_is_truncated() -> None:
    """text_tokens > max_tokens: exactly max_tokens words and stop_reason max_tokens; a tool call that no
    longer fits is left out."""
    adapter = ScriptedAdapter()
    message = await adapter.chat(make_request("text_tokens=20", max_tokens=7))
    assert message.content[0]["text"] == " ".join(scripted_words(7))
    assert (message.stop_reason, message.usage.output_tokens) == ("max_tokens", 7)
    tight = await adapter.chat(
        make_request("tool=get_weather; text_before_tool=1; text_tokens=4", tools=TOOLS, max_tokens=6)
    )
    assert [b["type"] for b in tight.content] == ["text"] and tight.stop_reason == "max_tokens"


async def test_finish_directive_forces_the_stop_reason() -> None:
    """finish=X relabels the ending (refusal, max_tokens, ...); stop_sequence is set only for that reason."""
    adapter = ScriptedAdapter()
    for reason in ("end_turn", "max_tokens", "refusal"):
        message = await adapter.chat(make_request(f"finish={reason}"))
        assert (message.stop_reason, message.stop_sequence) == (reason, None)
    forced = await adapter.chat(make_request("finish=stop_sequence", stop_sequences=["###"]))
    assert (forced.stop_reason, forced.stop_sequence) == ("stop_sequence", "###")
    tool = await adapter.chat(make_request("finish=tool_use", tools=TOOLS))
    assert tool.stop_reason == "tool_use" and tool.content[-1]["name"] == "get_weather"
    with pytest.raises(DirectiveError, match="finish"):
        await adapter.chat(make_request("finish=stop_sequence"))


async def test_latency_and_first_byte_delay_the_answer() -> None:
    """latency_ms is waited before each delta and first_byte_ms before the first event (lower bounds only)."""
    adapter = ScriptedAdapter()
    loop = asyncio.get_running_loop()
    started = loop.time()
    stream = adapter.stream_chat(make_request("first_byte_ms=60; latency_ms=15; text_tokens=6; chunk=2"))
    await anext(stream)
    first_event_at = loop.time() - started
    async for _ in stream:
        pass
    assert first_event_at >= 0.05
    assert loop.time() - started >= 0.05 + 3 * 0.012


async def test_adapter_records_what_it_received() -> None:
    """The adapter keeps the requests it was asked, with their headers (e.g. the gateway's traceparent)."""
    adapter = ScriptedAdapter()
    request = make_request()
    await adapter.chat(request)
    assert adapter.received[-1].headers["traceparent"] == request.headers["traceparent"]


# --- HTTP server ----------------------------------------------------------------------------------------


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    runner, port = await start_server()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def anthropic_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "scripted-model",
        "max_tokens": 256,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": "What is the weather like in Lisbon today?"}],
        **extra,
    }


def openai_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "scripted-model",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What is the weather like in Lisbon today?"},
        ],
        **extra,
    }


OPENAI_TOOLS = [
    {"type": "function", "function": {"name": t["name"], "parameters": t["input_schema"]}} for t in TOOLS
]


def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    """Strict SSE parsing: LF only, every frame ends with a blank line, event name equals JSON type."""
    text = raw.decode()
    assert "\r" not in text and not text.startswith("\ufeff") and text.endswith("\n\n")
    events = []
    for frame in text[:-2].split("\n\n"):
        name_line, data_line = frame.split("\n")
        event = json.loads(data_line.removeprefix("data: "))
        assert name_line == f"event: {event['type']}"
        events.append(event)
    return events


def parse_data_chunks(raw: bytes) -> list[Any]:
    text = raw.decode()
    assert text.endswith("data: [DONE]\n\n")
    frames = text[:-2].split("\n\n")
    return [
        f.removeprefix("data: ") if f == "data: [DONE]" else json.loads(f.removeprefix("data: "))
        for f in frames
    ]


async def test_server_anthropic_json_and_stream_match_the_adapter(
    upstream: str, http: aiohttp.ClientSession
) -> None:
    """POST /v1/messages serves the same answer as the adapter: JSON equals chat(), SSE folds to the JSON."""
    headers = {"X-Upstream-Script": "tool=get_weather; text_before_tool=1"}
    body = anthropic_body(tools=TOOLS)
    async with http.post(f"{upstream}/v1/messages", json=body, headers=headers) as resp:
        assert resp.status == 200
        message = await resp.json()
    request = UpstreamRequest(
        model=body["model"],
        max_tokens=body["max_tokens"],
        messages=body["messages"],
        system=body["system"],
        tools=TOOLS,
        headers={DIRECTIVE_HEADER: headers["X-Upstream-Script"]},
    )
    expected = as_message_dict(await ScriptedAdapter().chat(request))
    assert {k: message[k] for k in expected} == expected
    assert (message["type"], message["role"], message["model"]) == ("message", "assistant", "scripted-model")
    async with http.post(f"{upstream}/v1/messages", json={**body, "stream": True}, headers=headers) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        events = parse_sse(await resp.read())
    check_grammar(events)
    assert fold(events) == message


@pytest.mark.parametrize("status", ERROR_STATUSES)
async def test_server_errors_in_both_dialects(
    upstream: str, http: aiohttp.ClientSession, status: int
) -> None:
    """error=N is an HTTP N with an Anthropic error body on /v1/messages and an OpenAI one on
    /v1/chat/completions, streaming or not."""
    headers = {"X-Upstream-Script": f"error={status}"}
    async with http.post(
        f"{upstream}/v1/messages", json=anthropic_body(stream=True), headers=headers
    ) as resp:
        assert resp.status == status
        body = await resp.json()
    assert body["type"] == "error" and body["error"]["type"] == ERROR_TYPE_BY_STATUS.get(status, "api_error")
    async with http.post(f"{upstream}/v1/chat/completions", json=openai_body(), headers=headers) as resp:
        assert resp.status == status
        error = (await resp.json())["error"]
    assert error["message"] and error["type"] and error["code"] == body["error"]["type"]


async def test_server_bad_input_is_a_400(upstream: str, http: aiohttp.ClientSession) -> None:
    """A bad directive, malformed JSON or a bad max_tokens is a 400 in the route's dialect, naming it."""
    bad = {"X-Upstream-Script": "colour=blue"}
    async with http.post(f"{upstream}/v1/messages", json=anthropic_body(), headers=bad) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert body["error"]["type"] == "invalid_request_error" and "colour" in body["error"]["message"]
    async with http.post(f"{upstream}/v1/chat/completions", json=openai_body(), headers=bad) as resp:
        assert resp.status == 400 and "colour" in (await resp.json())["error"]["message"]
    async with http.post(f"{upstream}/v1/messages", data=b"{not json", headers=bad) as resp:
        assert resp.status == 400
    async with http.post(f"{upstream}/v1/messages", json=anthropic_body(max_tokens=-1)) as resp:
        assert resp.status == 400 and "max_tokens" in (await resp.json())["error"]["message"]


async def test_server_drop_after_aborts_the_connection(upstream: str, http: aiohttp.ClientSession) -> None:
    """drop_after=N on the server: N content deltas, then the connection dies without a terminating event
    (Anthropic route) or finish chunk and [DONE] (OpenAI route)."""
    headers = {"X-Upstream-Script": "drop_after=2"}
    for path, body in (
        ("/v1/messages", anthropic_body(stream=True)),
        ("/v1/chat/completions", openai_body(stream=True)),
    ):
        received = b""
        async with http.post(f"{upstream}{path}", json=body, headers=headers) as resp:
            assert resp.status == 200
            with pytest.raises(aiohttp.ClientPayloadError):
                async for line in resp.content:
                    received += line
        text = received.decode()
        assert text.count('"text_delta"') + text.count('"content": "') - text.count('"content": ""') == 2
        assert "message_stop" not in text and "[DONE]" not in text and 'finish_reason": "stop' not in text
    async with http.post(f"{upstream}/v1/messages", json=anthropic_body(), headers=headers) as resp:
        assert resp.status == 500 and (await resp.json())["error"]["type"] == "api_error"


async def test_server_openai_json_rendering(upstream: str, http: aiohttp.ClientSession) -> None:
    """chat.completion objects: text with usage; tool_calls with JSON arguments valid against the
    parameters; stop sequences as finish_reason stop plus vLLM's stop_reason; refusal as content_filter."""
    async with http.post(f"{upstream}/v1/chat/completions", json=openai_body(max_tokens=50)) as resp:
        completion = await resp.json()
    assert completion["id"].startswith("chatcmpl-") and completion["object"] == "chat.completion"
    (choice,) = completion["choices"]
    assert choice["message"] == {"role": "assistant", "content": " ".join(scripted_words(12))}
    assert choice["finish_reason"] == "stop" and "stop_reason" not in choice
    usage = completion["usage"]
    assert usage["completion_tokens"] == 12 and usage["total_tokens"] == usage["prompt_tokens"] + 12

    body = openai_body(
        tools=OPENAI_TOOLS, tool_choice={"type": "function", "function": {"name": "get_weather"}}
    )
    async with http.post(f"{upstream}/v1/chat/completions", json=body) as resp:
        (choice,) = (await resp.json())["choices"]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["function"]["name"] == "get_weather"
    jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER_SCHEMA)

    async with http.post(
        f"{upstream}/v1/chat/completions",
        json=openai_body(stop="END"),
        headers={"X-Upstream-Script": "finish=stop_sequence"},
    ) as resp:
        (choice,) = (await resp.json())["choices"]
    assert (choice["finish_reason"], choice["stop_reason"]) == ("stop", "END")
    async with http.post(
        f"{upstream}/v1/chat/completions", json=openai_body(), headers={"X-Upstream-Script": "finish=refusal"}
    ) as resp:
        assert (await resp.json())["choices"][0]["finish_reason"] == "content_filter"


async def test_server_openai_stream_rendering(upstream: str, http: aiohttp.ClientSession) -> None:
    """Streamed chunks: a role chunk first, text deltas that add up to the JSON content, tool-call deltas by
    index (id and name first, then argument fragments), a finish chunk, the usage chunk only with
    include_usage, and data: [DONE] last."""
    body = openai_body(tools=OPENAI_TOOLS, tool_choice="required")
    headers = {"X-Upstream-Script": "text_before_tool=1; text_tokens=5"}
    async with http.post(f"{upstream}/v1/chat/completions", json=body, headers=headers) as resp:
        completion = await resp.json()
    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    async with http.post(f"{upstream}/v1/chat/completions", json=stream_body, headers=headers) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        chunks = parse_data_chunks(await resp.read())
    assert chunks[-1] == "[DONE]"
    usage_chunk, finish_chunk = chunks[-2], chunks[-3]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"] == completion["usage"]
    assert finish_chunk["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [c["choices"][0]["delta"] for c in chunks[:-2]]
    text = "".join(d.get("content") or "" for d in deltas)
    assert text == completion["choices"][0]["message"]["content"]
    calls = [tc for d in deltas for tc in d.get("tool_calls", [])]
    assert all(tc["index"] == 0 for tc in calls)
    assert calls[0]["id"].startswith("call_") and calls[0]["function"] == {
        "name": "get_weather",
        "arguments": "",
    }
    arguments = "".join(tc["function"]["arguments"] for tc in calls)
    assert len(calls) - 1 >= 3
    expected_call = completion["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(arguments) == json.loads(expected_call["function"]["arguments"])

    async with http.post(
        f"{upstream}/v1/chat/completions", json={**body, "stream": True}, headers=headers
    ) as resp:
        plain = parse_data_chunks(await resp.read())
    assert all(c == "[DONE]" or (c["choices"] and "usage" not in c) for c in plain)


async def test_received_records_headers_and_bodies(upstream: str, http: aiohttp.ClientSession) -> None:
    """GET /_received lists what the server got (lower-case headers, JSON body), newest last, at most 200;
    DELETE clears it."""
    traceparent = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    for n in range(3):
        body = anthropic_body(metadata={"user_id": f"user-{n}"})
        async with http.post(
            f"{upstream}/v1/messages", json=body, headers={"traceparent": traceparent}
        ) as resp:
            assert resp.status == 200
    async with http.get(f"{upstream}/_received") as resp:
        log = await resp.json()
    assert [entry["json"]["metadata"]["user_id"] for entry in log] == ["user-0", "user-1", "user-2"]
    assert log[-1]["headers"]["traceparent"] == traceparent and log[-1]["path"] == "/v1/messages"
    async with http.delete(f"{upstream}/_received") as resp:
        assert resp.status == 204
    await asyncio.gather(*(http.post(f"{upstream}/v1/messages", json=anthropic_body()) for _ in range(205)))
    async with http.get(f"{upstream}/_received") as resp:
        assert len(await resp.json()) == 200


async def test_official_sdks_accept_the_server(upstream: str) -> None:
    """The anthropic and openai SDKs parse the server's answers; the anthropic stream's final message equals
    the non-streaming one."""
    anthropic = pytest.importorskip("anthropic")
    openai = pytest.importorskip("openai")
    headers = {"X-Upstream-Script": "tool=get_weather; text_before_tool=1"}
    client = anthropic.AsyncAnthropic(base_url=upstream, api_key="test-key", default_headers=headers)
    kwargs = {k: v for k, v in anthropic_body(tools=TOOLS).items()}
    message = await client.messages.create(**kwargs)
    async with client.messages.stream(**kwargs) as stream:
        final = await stream.get_final_message()
    assert final.model_dump() == message.model_dump()
    await client.close()
    oai = openai.AsyncOpenAI(base_url=f"{upstream}/v1", api_key="test-key")
    completion = await oai.chat.completions.create(**openai_body())
    assert completion.choices[0].message.content == " ".join(scripted_words(12))
    await oai.close()


async def test_latency_on_the_server_is_a_lower_bound(upstream: str, http: aiohttp.ClientSession) -> None:
    """first_byte_ms delays the response headers on the server too."""
    started = time.monotonic()
    async with http.post(
        f"{upstream}/v1/messages",
        json=anthropic_body(stream=True),
        headers={"X-Upstream-Script": "first_byte_ms=50"},
    ) as resp:
        assert resp.status == 200
        await resp.read()
    assert time.monotonic() - started >= 0.045
