"""The official ``openai`` SDK as a real client of ``/v1/chat/completions`` (BRIEF §2, last point).

Checks: JSON completions; ``data:`` chunks ending in ``data: [DONE]``; the usage chunk under
``stream_options.include_usage``; tool-call deltas by index whose arguments join to schema-valid JSON; finish
reasons; and error statuses surfacing as the SDK's exception classes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest

from reference_server.models_catalog import CANONICAL_MODEL
from tests.support.gateway import CLIENT_KEY
from tests.support.servers import ServerThread

PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}
TOOL: Any = {"type": "function", "function": {"name": "get_weather", "parameters": PARAMS}}
USER: Any = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Oslo?"}]


@pytest.fixture()
def client(gateway: ServerThread) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=CLIENT_KEY, max_retries=0) as c:
        yield c


def test_json_completion(client: openai.OpenAI) -> None:
    """OPENAI: a JSON completion with the canonical model, a stop finish and usage."""
    done = client.chat.completions.create(model=CANONICAL_MODEL, messages=USER, max_tokens=50)
    assert done.object == "chat.completion" and done.model == CANONICAL_MODEL
    assert done.choices[0].finish_reason == "stop" and done.choices[0].message.content
    assert (
        done.usage is not None
        and done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    )


def test_stream_with_include_usage(client: openai.OpenAI) -> None:
    """OPENAI: streamed chunks fold to the JSON answer; the last chunk carries usage with no choices."""
    script = {"x-upstream-script": "text_tokens=17; chunk=4"}
    whole = client.chat.completions.create(
        model=CANONICAL_MODEL, messages=USER, max_tokens=50, extra_headers=script
    )
    chunks = list(
        client.chat.completions.create(
            model=CANONICAL_MODEL,
            messages=USER,
            max_tokens=50,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=script,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]
    assert all(c.model == CANONICAL_MODEL for c in chunks)


def test_stream_ends_with_done(gateway: ServerThread) -> None:
    """OPENAI: the raw stream is `data:` frames ending in `data: [DONE]`."""
    r = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"authorization": f"Bearer {CLIENT_KEY}"},
        json={"model": CANONICAL_MODEL, "messages": USER, "stream": True},
    )
    frames = [f for f in r.text.split("\n\n") if f]
    assert r.headers["content-type"].startswith("text/event-stream")
    assert all(f.startswith("data: ") for f in frames) and frames[-1] == "data: [DONE]"


def test_tool_call_deltas(client: openai.OpenAI) -> None:
    """OPENAI: a forced function arrives as tool-call deltas by index; the arguments join to valid JSON."""
    stream = client.chat.completions.create(
        model=CANONICAL_MODEL,
        messages=USER,
        max_tokens=200,
        tools=[TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        stream=True,
    )
    args: dict[int, str] = {}
    names: dict[int, str] = {}
    finish = None
    pieces = 0
    for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                if call.function and call.function.name:
                    names[call.index] = call.function.name
                if call.function and call.function.arguments:
                    args[call.index] = args.get(call.index, "") + call.function.arguments
                    pieces += 1
            finish = choice.finish_reason or finish
    assert names == {0: "get_weather"} and finish == "tool_calls" and pieces >= 3
    jsonschema.validate(json.loads(args[0]), PARAMS)


def test_json_tool_call(client: openai.OpenAI) -> None:
    """OPENAI: the same tool call in a JSON completion."""
    done = client.chat.completions.create(
        model="ainfera/auto", messages=USER, max_tokens=200, tools=[TOOL], tool_choice="required"
    )
    call = done.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert done.model == CANONICAL_MODEL and done.choices[0].finish_reason == "tool_calls"
    jsonschema.validate(json.loads(call.function.arguments), PARAMS)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("directive", "finish"),
    [("text_tokens=80", "length"), ("finish=refusal", "content_filter"), ("stop_sequence=END", "stop")],
)
def test_finish_reason_mapping(client: openai.OpenAI, directive: str, finish: str) -> None:
    """OPENAI: Anthropic stop reasons map back to OpenAI finish reasons."""
    done = client.chat.completions.create(
        model=CANONICAL_MODEL, messages=USER, max_tokens=20, extra_headers={"x-upstream-script": directive}
    )
    assert done.choices[0].finish_reason == finish


@pytest.mark.parametrize(
    ("status", "exc", "kwargs"),
    [
        (400, openai.BadRequestError, {"max_tokens": 0}),
        (404, openai.NotFoundError, {"model": "gpt-nope"}),
        (
            422,
            openai.UnprocessableEntityError,
            {"tools": [TOOL], "extra_headers": {"x-ainfera-backend": "together"}},
        ),
        (429, openai.RateLimitError, {"extra_headers": {"x-upstream-script": "error=429"}}),
        (500, openai.InternalServerError, {"extra_headers": {"x-upstream-script": "error=500"}}),
    ],
)
def test_errors(
    client: openai.OpenAI, status: int, exc: type[openai.APIStatusError], kwargs: dict[str, Any]
) -> None:
    """ERRORS: the OpenAI route keeps the Anthropic envelope; the SDK maps the status to its exception."""
    args: dict[str, Any] = {"model": CANONICAL_MODEL, "messages": USER}
    args.update(kwargs)
    with pytest.raises(exc) as info:
        client.chat.completions.create(**args)
    assert info.value.status_code == status
    assert info.value.response.json()["type"] == "error"  # the OpenAI SDK unwraps `error`; check the raw body
