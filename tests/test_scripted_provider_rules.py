"""The scripted upstream refuses what the real providers refuse (issue 14 item 4), with their statuses and bodies.

The refusal cases are generated from the provider schemas themselves (``provider_rules.anthropic_schema`` and
``openai_schema``): every required field left out, every typed field given the wrong type, every bounded number
pushed past its bound, an unknown field, an unknown role, an unknown model. Each gets the provider's status and
envelope, and none of the answers repeats the secret-shaped values the requests carry. Valid requests, including
every request shape the reference gateway's adapters send, are still answered 200.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.upstream.base import UpstreamError, UpstreamRequest
from reference_server.upstream.registry import BACKENDS
from reference_server.upstream.scripted import ScriptedAdapter
from reference_server.upstream.scripted.provider_rules import (
    MAX_OUTPUT_TOKENS,
    NOT_SERVED,
    SCRIPTED_MODEL,
    ProviderRefusal,
    ServedModels,
    anthropic_schema,
    check_anthropic,
    check_openai,
    default_served_models,
    openai_schema,
)
from reference_server.upstream.scripted.server import build_app as build_upstream_app
from reference_server.upstream.scripted.server import served_models, start_server
from tests.gateway.conftest import CLIENT_KEY
from tests.support.servers import ServerThread

SECRET = "sk-ant-api03-" + secrets.token_urlsafe(24)
"""Carried by every refused request: it must never come back."""

MESSAGES = "/v1/messages"
CHAT = "/v1/chat/completions"
ANTHROPIC_MODEL = BACKENDS["anthropic"].upstream_model
OPENAI_MODEL = BACKENDS["openai"].upstream_model


def anthropic_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": ANTHROPIC_MODEL,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hello"}],
        **extra,
    }


def openai_body(**extra: Any) -> dict[str, Any]:
    return {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "Hello"}], **extra}


BASES = {MESSAGES: anthropic_body, CHAT: openai_body}
SCHEMAS = {MESSAGES: anthropic_schema(), CHAT: openai_schema()}


# --- Generated cases ------------------------------------------------------------------------------------------


def _kinds(prop: dict[str, Any]) -> list[str]:
    kind = prop.get("type")
    return [] if kind is None else (kind if isinstance(kind, list) else [kind])


def _wrong_value(prop: dict[str, Any]) -> Any:
    """A value of a type the property does not take: the secret when strings are wrong, else a number."""
    kinds = _kinds(prop)
    if "string" not in kinds:
        return SECRET
    return 12345 if not {"integer", "number"} & set(kinds) else {"not": "this"}


def wrong_type_cases() -> Iterator[Any]:
    for path, schema in SCHEMAS.items():
        for name, prop in schema["properties"].items():
            if _kinds(prop) or "enum" in prop:
                yield pytest.param(path, name, _wrong_value(prop), id=f"{path}-{name}-wrong-type")


def bound_cases() -> Iterator[Any]:
    for path, schema in SCHEMAS.items():
        for name, prop in schema["properties"].items():
            for bound, step in (("minimum", -1), ("maximum", 1)):
                if bound in prop:
                    value = prop[bound] + step if "integer" in _kinds(prop) else prop[bound] + step * 0.5
                    yield pytest.param(path, name, value, bound, id=f"{path}-{name}-{bound}")


def required_cases() -> Iterator[Any]:
    for path, schema in SCHEMAS.items():
        for name in schema["required"]:
            yield pytest.param(path, name, id=f"{path}-{name}-missing")


def test_the_cases_cover_every_rule_kind() -> None:
    """The generation is not vacuous: each dialect has required, typed and bounded fields."""
    for path in SCHEMAS:
        assert sum(1 for c in wrong_type_cases() if c.values[0] == path) >= 10
        assert sum(1 for c in bound_cases() if c.values[0] == path) >= 3
        assert sum(1 for c in required_cases() if c.values[0] == path) >= 2


# --- The server -------------------------------------------------------------------------------------------


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


async def post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, dict[str, Any], str]:
    async with http.post(url, json=body) as resp:
        text = await resp.text()
        return resp.status, await resp.json(content_type=None), text


def assert_refused(
    path: str, status: int, body: dict[str, Any], text: str, expected_status: int = 400
) -> None:
    """The provider's envelope for the route, and not a trace of the secret."""
    assert status == expected_status, text
    assert SECRET not in text and SECRET[:16] not in text
    if path == MESSAGES:
        assert set(body) == {"type", "error"} and body["type"] == "error"
        assert set(body["error"]) == {"type", "message"}
        kind = "not_found_error" if expected_status == 404 else "invalid_request_error"
        assert body["error"]["type"] == kind and body["error"]["message"]
    else:
        assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["type"] == "invalid_request_error" and body["error"]["message"]


@pytest.mark.parametrize(("path", "name", "value"), list(wrong_type_cases()))
async def test_a_wrong_type_is_refused(
    upstream: str, http: aiohttp.ClientSession, path: str, name: str, value: Any
) -> None:
    status, body, text = await post(http, upstream + path, BASES[path](**{name: value}))
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert body["error"]["message"].startswith(f"{name}: Input should be")
    else:
        assert body["error"]["param"] == name
        assert body["error"]["code"] in ("invalid_type", "invalid_value")


@pytest.mark.parametrize(("path", "name", "value", "bound"), list(bound_cases()))
async def test_a_value_out_of_range_is_refused(
    upstream: str, http: aiohttp.ClientSession, path: str, name: str, value: Any, bound: str
) -> None:
    status, body, text = await post(http, upstream + path, BASES[path](**{name: value}))
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        side = "greater" if bound == "minimum" else "less"
        assert body["error"]["message"].startswith(f"{name}: Input should be {side} than or equal to")
    else:
        side = "below_min" if bound == "minimum" else "above_max"
        assert body["error"]["param"] == name and body["error"]["code"].endswith(f"_{side}_value")


@pytest.mark.parametrize(("path", "name"), list(required_cases()))
async def test_a_missing_field_is_refused(
    upstream: str, http: aiohttp.ClientSession, path: str, name: str
) -> None:
    request = BASES[path]()
    request.pop(name, None)
    status, body, text = await post(http, upstream + path, request)
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert body["error"]["message"] == f"{name}: Field required"
    else:
        assert (body["error"]["param"], body["error"]["code"]) == (name, "missing_required_parameter")


@pytest.mark.parametrize("path", [MESSAGES, CHAT])
@pytest.mark.parametrize("where", ["top", "nested"])
async def test_an_unknown_field_is_refused_without_its_name(
    upstream: str, http: aiohttp.ClientSession, path: str, where: str
) -> None:
    if where == "top":
        request = BASES[path](**{SECRET: 1})
    elif path == MESSAGES:
        request = anthropic_body(metadata={"user_id": "u", SECRET: "x"})
    else:
        request = openai_body(stream=True, stream_options={"include_usage": True, SECRET: True})
    status, body, text = await post(http, upstream + path, request)
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert "Extra inputs are not permitted" in body["error"]["message"]
    elif where == "top":
        assert body["error"]["param"] is None and "Unrecognized request argument" in body["error"]["message"]
    else:
        assert (body["error"]["param"], body["error"]["code"]) == ("stream_options", "unknown_parameter")


@pytest.mark.parametrize(
    ("path", "role"),
    [(MESSAGES, role) for role in ("system", "tool", "bot", SECRET, 7)]
    + [(CHAT, role) for role in ("bot", "model", SECRET, 7)],
)
async def test_an_unknown_role_is_refused(
    upstream: str, http: aiohttp.ClientSession, path: str, role: Any
) -> None:
    request = BASES[path](messages=[{"role": role, "content": "Hello"}])
    status, body, text = await post(http, upstream + path, request)
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert body["error"]["message"] == "messages.0.role: Input should be 'user' or 'assistant'"
    else:
        assert (body["error"]["param"], body["error"]["code"]) == ("messages[0].role", "invalid_value")


@pytest.mark.parametrize("path", [MESSAGES, CHAT])
@pytest.mark.parametrize("stream", [False, True])
async def test_an_unknown_model_is_a_404_that_does_not_name_it(
    upstream: str, http: aiohttp.ClientSession, path: str, stream: bool
) -> None:
    status, body, text = await post(http, upstream + path, BASES[path](model=SECRET, stream=stream))
    assert_refused(path, status, body, text, expected_status=404)
    if path == MESSAGES:
        assert body["error"]["message"] == f"model: {NOT_SERVED}"
    else:
        assert body["error"] == {
            "message": NOT_SERVED,
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }


async def test_served_models_default_extend_and_any(http: aiohttp.ClientSession) -> None:
    """Every backend's upstream model and scripted-model by default; ``--model`` adds to them; ``--any-model``
    answers for any name, echoing it as before."""
    assert default_served_models() == {s.upstream_model for s in BACKENDS.values()} | {SCRIPTED_MODEL}
    for served, model, expected in (
        (served_models(), SCRIPTED_MODEL, 200),
        (served_models(), "my-model", 404),
        (served_models(["my-model"]), "my-model", 200),
        (served_models(["my-model"]), ANTHROPIC_MODEL, 200),
        (served_models(any_model=True), "anything-at-all", 200),
    ):
        runner, port = await start_server(served=served)
        try:
            for path in (MESSAGES, CHAT):
                status, body, text = await post(
                    http, f"http://127.0.0.1:{port}{path}", BASES[path](model=model)
                )
                assert status == expected, text
                if expected == 200:
                    assert body["model"] == model
        finally:
            await runner.cleanup()


# --- The rules no schema says -----------------------------------------------------------------------------

TOOL = {"name": "lookup", "input_schema": {"type": "object"}}
OPENAI_TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
CALL = {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"}
OPENAI_CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}

SEMANTIC_CASES = [
    pytest.param(
        MESSAGES,
        anthropic_body(max_tokens=MAX_OUTPUT_TOKENS[ANTHROPIC_MODEL] + 1),
        "max_tokens:",
        id="a-ceiling",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(messages=[{"role": "user", "content": ""}]),
        "messages.0: all messages must have non-empty content",
        id="a-empty-content",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]),
        # The contract's text block has minLength 1 now (Anthropic's rule), so the schema says it first.
        "messages.0.content.0.text: String should have at least 1 character(s)",
        id="a-empty-text-block",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(tools=[TOOL], messages=[{"role": "user", "content": [RESULT]}]),
        "messages.0.content: unexpected `tool_use_id`",
        id="a-result-without-call",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(
            tools=[TOOL],
            messages=[
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [CALL]},
                {"role": "user", "content": "and?"},
            ],
        ),
        "messages.1: `tool_use` ids were found without `tool_result` blocks",
        id="a-call-without-result",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(messages=[]),
        "messages: List should have at least 1 item(s)",
        id="a-no-messages",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(tools=[{"name": "bad name!", "input_schema": {"type": "object"}}]),
        "tools.0.name: String should match pattern",
        id="a-tool-name",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(tool_choice={"type": "sometimes"}),
        "tool_choice.type: Input should be",
        id="a-tool-choice",
    ),
    pytest.param(
        CHAT,
        openai_body(max_completion_tokens=MAX_OUTPUT_TOKENS[OPENAI_MODEL] + 1),
        "max_completion_tokens",
        id="o-ceiling",
    ),
    pytest.param(CHAT, openai_body(stop=["a", "b", "c", "d", "e"]), "stop", id="o-five-stops"),
    pytest.param(CHAT, openai_body(tools=[]), "tools", id="o-empty-tools"),
    pytest.param(CHAT, openai_body(tool_choice="auto"), "tool_choice", id="o-tool-choice-without-tools"),
    pytest.param(
        CHAT, openai_body(parallel_tool_calls=False), "parallel_tool_calls", id="o-parallel-without-tools"
    ),
    pytest.param(
        CHAT, openai_body(stream_options={"include_usage": True}), "stream_options", id="o-options-unstreamed"
    ),
    pytest.param(
        CHAT,
        openai_body(messages=[{"role": "tool", "tool_call_id": "call_1", "content": "done"}]),
        "messages[0].role",
        id="o-tool-without-call",
    ),
    pytest.param(
        CHAT,
        openai_body(
            tools=[OPENAI_TOOL],
            messages=[
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": None, "tool_calls": [OPENAI_CALL]},
                {"role": "user", "content": "and?"},
            ],
        ),
        "messages[2].role",
        id="o-call-without-result",
    ),
    pytest.param(
        CHAT, openai_body(messages=[{"role": "system"}]), "messages[0].content", id="o-system-without-content"
    ),
    pytest.param(CHAT, openai_body(messages=[]), "messages", id="o-no-messages"),
]


@pytest.mark.parametrize(("path", "request_body", "where"), SEMANTIC_CASES)
async def test_provider_specific_rules(
    upstream: str, http: aiohttp.ClientSession, path: str, request_body: dict[str, Any], where: str
) -> None:
    status, body, text = await post(http, upstream + path, request_body)
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert body["error"]["message"].startswith(where), body
    else:
        assert body["error"]["param"] == where, body


VALID_ANTHROPIC = [
    anthropic_body(),
    anthropic_body(model=SCRIPTED_MODEL, stream=True),
    anthropic_body(
        system=[{"type": "text", "text": "terse", "cache_control": {"type": "ephemeral"}}],
        stop_sequences=["END"],
        temperature=1,
        top_p=0.5,
        top_k=5,
        metadata={"user_id": None},
        service_tier="auto",
        thinking={"type": "enabled", "budget_tokens": 1024},
    ),
    anthropic_body(
        tools=[TOOL],
        tool_choice={"type": "tool", "name": "lookup", "disable_parallel_tool_use": True},
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "look"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hm", "signature": "s"},
                    {"type": "text", "text": "ok"},
                    CALL,
                ],
            },
            {
                "role": "user",
                "content": [
                    {**RESULT, "content": [{"type": "text", "text": "42"}], "is_error": False},
                    {"type": "image", "source": {"type": "url", "url": "https://example.invalid/a.png"}},
                ],
            },
            {"role": "assistant", "content": ""},
        ],
    ),
    anthropic_body(max_tokens=MAX_OUTPUT_TOKENS[ANTHROPIC_MODEL]),
]

VALID_OPENAI = [
    openai_body(),
    openai_body(model=SCRIPTED_MODEL, stream=True, stream_options={"include_usage": True}),
    openai_body(
        messages=[
            {"role": "developer", "content": [{"type": "text", "text": "terse"}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                ],
            },
        ],
        max_tokens=10,
        stop="END",
        temperature=2,
        top_p=1,
        n=1,
        seed=3,
        presence_penalty=-2,
        frequency_penalty=0.5,
        user="u",
        metadata={"k": "v"},
        response_format={"type": "json_object"},
        logprobs=False,
        store=False,
    ),
    openai_body(
        tools=[OPENAI_TOOL],
        tool_choice={"type": "function", "function": {"name": "lookup"}},
        parallel_tool_calls=False,
        max_completion_tokens=MAX_OUTPUT_TOKENS[OPENAI_MODEL],
        messages=[
            {"role": "system", "content": "terse"},
            {"role": "user", "content": "look"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [OPENAI_CALL, {**OPENAI_CALL, "id": "call_2"}],
            },
            {"role": "tool", "tool_call_id": "call_2", "content": "42"},
            {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "43"}]},
            {"role": "assistant", "content": "so"},
            {"role": "user", "content": "thanks"},
        ],
    ),
]


@pytest.mark.parametrize(
    ("path", "request_body"),
    [pytest.param(MESSAGES, b, id=f"anthropic-{i}") for i, b in enumerate(VALID_ANTHROPIC)]
    + [pytest.param(CHAT, b, id=f"openai-{i}") for i, b in enumerate(VALID_OPENAI)],
)
async def test_valid_requests_are_answered(
    upstream: str, http: aiohttp.ClientSession, path: str, request_body: dict[str, Any]
) -> None:
    async with http.post(upstream + path, json=request_body) as resp:
        assert resp.status == 200, await resp.text()
        await resp.read()


async def test_the_in_process_adapter_applies_the_same_rules() -> None:
    """``ScriptedAdapter`` holds what the Anthropic adapter would send to Anthropic's rules (all but the model:
    in-process, the request carries the gateway's own model name)."""
    adapter = ScriptedAdapter()
    good = UpstreamRequest(model=CANONICAL_MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    assert (await adapter.chat(good)).content
    bad = UpstreamRequest(
        model=CANONICAL_MODEL,
        max_tokens=16,
        messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}],
    )
    with pytest.raises(UpstreamError) as caught:
        await adapter.chat(bad)
    assert (caught.value.status, caught.value.error_type) == (400, "invalid_request_error")
    with pytest.raises(UpstreamError):
        async for _ in adapter.stream_chat(bad):
            pass


def test_refusals_are_exceptions_not_values() -> None:
    """The check functions return nothing for a good body and raise for a bad one."""
    served = ServedModels(frozenset({ANTHROPIC_MODEL, OPENAI_MODEL}))
    check_anthropic(anthropic_body(), served)
    check_openai(openai_body(), served)
    with pytest.raises(ProviderRefusal):
        check_openai(openai_body(model=ANTHROPIC_MODEL + "x"), served)


# --- The reference gateway's own outbound requests --------------------------------------------------------


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerThread, ServerThread]]:
    """The reference gateway (``serve --upstream URL``) in front of the scripted upstream over HTTP."""
    upstream = ServerThread(build_upstream_app).start()
    tmp: Path = tmp_path_factory.mktemp("provider-rules")
    config = GatewayConfig(db_url=f"sqlite:///{tmp / 'gw.sqlite3'}", upstreams=[upstream.url])
    gateway = ServerThread(lambda: build_app(config)).start()
    yield gateway, upstream
    gateway.stop()
    upstream.stop()


IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
GATEWAY_CALLS: list[tuple[str, dict[str, Any], bool]] = [
    # (gateway route, body, uses tools)
    (MESSAGES, {"max_tokens": 32, "messages": [{"role": "user", "content": "hi"}]}, False),
    (
        MESSAGES,
        {
            "max_tokens": 32,
            "system": [{"type": "text", "text": "terse"}],
            "stop_sequences": ["a1", "a2", "a3", "a4"],
            "temperature": 0.5,
            "top_p": 0.9,
            "metadata": {"user_id": "u-1"},
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "look"}, IMAGE]},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "more"},
            ],
        },
        False,
    ),
    (
        MESSAGES,
        {
            "max_tokens": 32,
            "tools": [TOOL],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
            "messages": [
                {"role": "user", "content": "look"},
                {"role": "assistant", "content": [{"type": "text", "text": "sure"}, CALL]},
                {"role": "user", "content": [RESULT, {"type": "text", "text": "and?"}]},
            ],
        },
        True,
    ),
    (
        MESSAGES,
        {
            "max_tokens": 32,
            "tools": [TOOL],
            "tool_choice": {"type": "auto"},
            "messages": [{"role": "user", "content": "x"}],
        },
        True,
    ),
    (
        MESSAGES,
        {
            "max_tokens": 32,
            "tools": [TOOL],
            "tool_choice": {"type": "tool", "name": "lookup"},
            "messages": [{"role": "user", "content": "x"}],
        },
        True,
    ),
    (
        CHAT,
        {
            "max_tokens": 32,
            "stop": ["END"],
            "messages": [{"role": "system", "content": "terse"}, {"role": "user", "content": "hi"}],
        },
        False,
    ),
    (
        CHAT,
        {
            "max_completion_tokens": 32,
            "tools": [OPENAI_TOOL],
            "tool_choice": "required",
            "messages": [
                {"role": "user", "content": "look"},
                {"role": "assistant", "content": None, "tool_calls": [OPENAI_CALL]},
                {"role": "tool", "tool_call_id": "call_1", "content": "42"},
            ],
        },
        True,
    ),
]


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("stream", [False, True])
def test_the_reference_gateways_requests_are_never_refused(
    loopback: tuple[ServerThread, ServerThread], backend: str, stream: bool
) -> None:
    """Every request shape the Anthropic-native and OpenAI-compatible adapters send, to every backend, streamed
    and not: answered 200, and each body the upstream recorded passes the provider's rules again."""
    gateway, upstream = loopback
    httpx.delete(f"{upstream.url}/_received")
    headers = {"x-api-key": CLIENT_KEY, "x-ainfera-backend": backend}
    sent = 0
    for route, body, tools in GATEWAY_CALLS:
        if tools and not BACKENDS[backend].capabilities.tools:
            continue
        request = {"model": CANONICAL_MODEL, **body, "stream": stream}
        answer = httpx.post(f"{gateway.url}{route}", headers=headers, json=request)
        assert answer.status_code == 200, (route, answer.text)
        sent += 1
    received = httpx.get(f"{upstream.url}/_received").json()
    assert len(received) == sent
    served = ServedModels(default_served_models())
    for entry in received:
        check = check_anthropic if entry["path"] == MESSAGES else check_openai
        check(entry["json"], served)
        assert entry["json"]["model"] == BACKENDS[backend].upstream_model


def test_rules_are_cheap() -> None:
    """A valid body costs the compiled validator only (well under a millisecond)."""
    served = ServedModels(default_served_models())
    body = VALID_ANTHROPIC[3]
    started = time.perf_counter()
    for _ in range(200):
        check_anthropic(body, served)
    assert (time.perf_counter() - started) / 200 < 0.002
