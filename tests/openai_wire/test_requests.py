"""Request translation (``reference_server/openai_wire``): outbound, an Anthropic request as the Chat
Completions body the OpenAI-compatible adapter sends; inbound, a client's Chat Completions body as an Anthropic
request; and the round trip, which is the identity on the translatable subset."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_server.openai_wire import (
    WireError,
    anthropic_request_to_openai,
    include_usage_requested,
    openai_request_to_anthropic,
)
from reference_server.upstream.base import UpstreamRequest
from tests.upstream.scenarios import CANONICAL, WEATHER_TOOL


def test_anthropic_request_to_openai_messages_and_tools() -> None:
    request = UpstreamRequest(
        model=CANONICAL,
        max_tokens=100,
        system=[{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "...", "signature": "sig"},
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"location": "Paris"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "18C"}],
                    },
                    {"type": "text", "text": "And Tokyo?"},
                ],
            },
        ],
        stop_sequences=["END"],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
    )
    body = anthropic_request_to_openai(
        request, model="gpt-x", stream=True, max_tokens_field="max_completion_tokens"
    )
    assert body["messages"] == [
        {"role": "system", "content": "Be brief.\n\nBe kind."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {"role": "user", "content": [{"type": "text", "text": "And Tokyo?"}]},
    ]
    assert body["max_completion_tokens"] == 100 and "max_tokens" not in body
    assert body["stop"] == ["END"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["parallel_tool_calls"] is False
    assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("openai_choice", "anthropic_choice"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        ({"type": "function", "function": {"name": "get_weather"}}, {"type": "tool", "name": "get_weather"}),
    ],
)
def test_tool_choice_mapping(openai_choice: Any, anthropic_choice: dict[str, Any]) -> None:
    body = {
        "model": "ainfera-auto",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "get_weather"}}],
        "tool_choice": openai_choice,
    }
    converted = openai_request_to_anthropic(body)
    assert converted["tool_choice"] == anthropic_choice
    assert converted["tools"] == [
        {"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}
    ]
    request = UpstreamRequest(
        model="m",
        max_tokens=1,
        messages=converted["messages"],
        tools=converted["tools"],
        tool_choice=anthropic_choice,
    )
    assert anthropic_request_to_openai(request, model="m")["tool_choice"] == openai_choice


def test_openai_request_to_anthropic_fields() -> None:
    body = {
        "model": "ainfera/auto",
        "messages": [
            {"role": "system", "content": "Rule one."},
            {"role": "developer", "content": [{"type": "text", "text": "Rule two."}]},
            {"role": "user", "content": "Weather in Paris and Tokyo?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "w", "arguments": '{"c":"Paris"}'},
                    },
                    {"id": "call_2", "type": "function", "function": {"name": "w", "arguments": ""}},
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "22C"}]},
            {"role": "user", "content": "Thanks, which is warmer?"},
        ],
        "max_tokens": 50,
        "max_completion_tokens": 70,
        "stop": "STOP",
        "temperature": 0.5,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    converted = openai_request_to_anthropic(body)
    assert converted["model"] == "ainfera/auto"  # the router resolves aliases, not the translator
    assert converted["system"] == "Rule one.\n\nRule two."
    assert converted["max_tokens"] == 70
    assert converted["stop_sequences"] == ["STOP"]
    assert converted["temperature"] == 0.5 and converted["stream"] is True
    assert converted["messages"] == [
        {"role": "user", "content": "Weather in Paris and Tokyo?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "call_1", "name": "w", "input": {"c": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "w", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "22C"},
                {"type": "text", "text": "Thanks, which is warmer?"},
            ],
        },
    ]
    assert include_usage_requested(body) and not include_usage_requested({"stream": True})
    assert (
        openai_request_to_anthropic({"model": "m", "messages": []}, default_max_tokens=123)["max_tokens"]
        == 123
    )


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "messages": [{"role": "wizard", "content": "hi"}]},
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]},
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": 2},
        {"model": "m", "messages": [], "tools": [{"type": "web_search"}]},
        {
            "model": "m",
            "messages": [
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{oops"}}],
                }
            ],
        },
    ],
)
def test_untranslatable_openai_requests_raise_wire_error(body: dict[str, Any]) -> None:
    with pytest.raises(WireError):
        openai_request_to_anthropic(body)


# Hypothesis: Anthropic request → OpenAI → Anthropic is the identity on the translatable subset.
# The subset: string system; assistant content a string or [at most one non-empty text] + tool_use blocks;
# tool_result content a string; tool_choice only alongside tools.

_text = st.text(max_size=20)
_nonempty = st.text(min_size=1, max_size=20)
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_image = st.sampled_from(["image/png", "image/jpeg"]).flatmap(
    lambda media: st.sampled_from(
        [
            {"type": "image", "source": {"type": "base64", "media_type": media, "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
        ]
    )
)
_user_blocks = st.lists(
    st.builds(lambda t: {"type": "text", "text": t}, _text) | _image, min_size=1, max_size=3
)


@st.composite
def anthropic_requests(draw: st.DrawFn) -> UpstreamRequest:
    tool_names = draw(st.lists(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), max_size=3, unique=True))
    tools = [
        {"name": name, "input_schema": {"type": "object", "properties": {}}}
        | draw(st.sampled_from([{}, {"description": "does " + name}]))
        for name in tool_names
    ]
    messages: list[dict[str, Any]] = []
    pending_ids: list[str] = []
    for turn in range(draw(st.integers(1, 3))):
        user: Any
        if pending_ids:
            results = [{"type": "tool_result", "tool_use_id": i, "content": draw(_text)} for i in pending_ids]
            user = results + draw(
                st.lists(st.builds(lambda t: {"type": "text", "text": t}, _text), max_size=2)
            )
        else:
            user = draw(_text | _user_blocks)
        messages.append({"role": "user", "content": user})
        pending_ids = []
        if turn == 2 or not draw(st.booleans()):
            break
        calls_tools: bool = draw(st.booleans())
        if tool_names and calls_tools:
            calls: list[dict[str, Any]] = [
                {"type": "tool_use", "id": f"toolu_{turn}_{n}", "name": draw(st.sampled_from(tool_names)),
                 "input": draw(st.dictionaries(_text, _json_value, max_size=3))}
                for n in range(draw(st.integers(1, 2)))
            ]  # fmt: skip
            text = draw(st.lists(st.builds(lambda t: {"type": "text", "text": t}, _nonempty), max_size=1))
            messages.append({"role": "assistant", "content": text + calls})
            pending_ids = [call["id"] for call in calls]
        else:
            messages.append({"role": "assistant", "content": draw(_text)})
    tool_choice: dict[str, Any] | None = None
    if tools:
        tool_choice = draw(
            st.none()
            | st.sampled_from([{"type": "auto"}, {"type": "any"}, {"type": "none"}])
            | st.sampled_from(tool_names).map(lambda name: {"type": "tool", "name": name})
        )
        if tool_choice is not None and tool_choice["type"] != "none" and draw(st.booleans()):
            tool_choice = {**tool_choice, "disable_parallel_tool_use": True}
    unit = st.none() | st.floats(0, 1, allow_nan=False)
    return UpstreamRequest(
        model="ainfera-inference",
        max_tokens=draw(st.integers(1, 8192)),
        messages=messages,
        system=draw(st.none() | _text),
        stop_sequences=draw(st.lists(_nonempty, max_size=3)),
        temperature=draw(unit),
        top_p=draw(unit),
        tools=tools or None,
        tool_choice=tool_choice,
    )


@given(anthropic_requests(), st.booleans())
def test_anthropic_to_openai_to_anthropic_is_identity(request: UpstreamRequest, stream: bool) -> None:
    openai_body = json.loads(
        json.dumps(anthropic_request_to_openai(request, model=request.model, stream=stream))
    )
    back = openai_request_to_anthropic(openai_body)
    assert back.pop("stream", False) is stream
    assert UpstreamRequest(**back) == request
