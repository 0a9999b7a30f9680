"""The real upstream adapters against recorded provider traffic, and the OpenAI wire translation.

The cassettes in ``fixtures/cassettes`` are written to Anthropic's and OpenAI's documented wire formats (see
``docs/recording-cassettes.md``). They are replayed with ``record_mode="none"`` and matched on the request
*body* and the wire headers too, so a cassette checks both directions: the exact request an adapter sends and
its reading of the answer. Nothing here opens a connection except to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import vcr
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from vcr.errors import CannotOverwriteExistingCassetteException

from reference_server.openai_wire import (
    AnthropicEventTranslator,
    OpenAIChunkTranslator,
    WireError,
    anthropic_events_to_openai_chunks,
    anthropic_request_to_openai,
    include_usage_requested,
    message_to_openai_completion,
    openai_completion_to_message,
    openai_request_to_anthropic,
)
from reference_server.upstream.anthropic_native import AnthropicAdapter
from reference_server.upstream.base import (
    Capabilities,
    StreamEvent,
    UpstreamAdapter,
    UpstreamError,
    UpstreamMessage,
    UpstreamRequest,
    Usage,
)
from reference_server.upstream.finish_reasons import ANTHROPIC_STOP_REASONS
from reference_server.upstream.http_session import HttpTimeouts, SessionHolder, SSEDecoder, SSEMessage
from reference_server.upstream.openai_compat import OpenAICompatAdapter
from reference_server.upstream.registry import BACKENDS, DEFAULT_BACKEND, build_http_adapters

CASSETTES = Path(__file__).resolve().parent.parent / "fixtures" / "cassettes"
CANONICAL = "ainfera-inference"
FAKE_KEY = "sk-test-0000-not-a-real-key"
TOOLS = Capabilities(tools=True, native_streaming=True)

# ----------------------------------------------------------------------------------------------------
# vcr configuration, shared with fixtures/record_cassettes.py so recorded cassettes replay here
# ----------------------------------------------------------------------------------------------------

API_KEY_PLACEHOLDER = "<API_KEY>"
WIRE_HEADERS = ("accept", "anthropic-version", "authorization", "content-type", "traceparent", "x-api-key")
# Response headers that are wrong after aiohttp has decoded the body, or that identify the recording account.
DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "content-encoding",
        "content-length",
        "transfer-encoding",
        "set-cookie",
        "anthropic-organization-id",
        "openai-organization",
        "openai-project",
        "cf-ray",
    }
)


def _placeholder(key: str, value: str, request: Any) -> str:
    """Keep the auth scheme, lose the secret: ``Bearer <API_KEY>`` / ``<API_KEY>``."""
    return f"Bearer {API_KEY_PLACEHOLDER}" if value.lower().startswith("bearer ") else API_KEY_PLACEHOLDER


def _wire_headers(r1: Any, r2: Any) -> None:
    """The headers the providers care about must be exactly those recorded (keys after filtering)."""
    for name in WIRE_HEADERS:
        assert r1.headers.get(name) == r2.headers.get(name), f"header {name}"


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    response["headers"] = {k: v for k, v in headers.items() if k.lower() not in DROPPED_RESPONSE_HEADERS}
    return response


def make_vcr(record_mode: str) -> vcr.VCR:
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=record_mode,
        match_on=("method", "scheme", "host", "port", "path", "query", "body", "wire_headers"),
        filter_headers=[("x-api-key", _placeholder), ("authorization", _placeholder)],
        before_record_response=_scrub_response,
    )
    recorder.register_matcher("wire_headers", _wire_headers)
    return recorder


REPLAY = make_vcr("none")

# ----------------------------------------------------------------------------------------------------
# Scenarios: one per cassette interaction. fixtures/record_cassettes.py replays the recordable ones for real.
# ----------------------------------------------------------------------------------------------------

TRACEPARENT = {
    "anthropic": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "openai": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
}
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City and country"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location"],
    },
}


def hello_request(traceparent: str | None = None) -> UpstreamRequest:
    return UpstreamRequest(
        model=CANONICAL,
        max_tokens=256,
        system="You are terse.",
        messages=[{"role": "user", "content": "Say hello in five words."}],
        stop_sequences=["\n\nHuman:"],
        temperature=0.2,
        headers={"traceparent": traceparent} if traceparent else {},
    )


def weather_request(question: str) -> UpstreamRequest:
    return UpstreamRequest(
        model=CANONICAL,
        max_tokens=512,
        messages=[{"role": "user", "content": question}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "auto"},
    )


def counting_request() -> UpstreamRequest:
    return UpstreamRequest(
        model=CANONICAL,
        max_tokens=64,
        messages=[{"role": "user", "content": "Count to three, then write ###."}],
        stop_sequences=["###"],
    )


@dataclass(frozen=True)
class Scenario:
    cassette: str
    backend: str
    """A slug of ``BACKENDS``, or ``vllm`` (a self-hosted OpenAI-compatible server on loopback)."""
    request: Callable[[], UpstreamRequest]
    stream: bool
    recordable: bool = True
    """False for failures a real provider cannot be made to produce on demand (overload, drops...)."""


PARIS = "What is the weather in Paris right now?"
PARIS_AND_TOKYO = "What is the weather in Paris and in Tokyo right now?"

SCENARIOS: dict[str, Scenario] = {
    "anthropic_text": Scenario(
        "anthropic_text.yaml", "anthropic", lambda: hello_request(TRACEPARENT["anthropic"]), False
    ),
    "anthropic_stream_text": Scenario(
        "anthropic_stream_text.yaml", "anthropic", lambda: hello_request(TRACEPARENT["anthropic"]), True
    ),
    "anthropic_tool_use": Scenario(
        "anthropic_tool_use.yaml", "anthropic", lambda: weather_request(PARIS), False
    ),
    "anthropic_stream_tool_use": Scenario(
        "anthropic_stream_tool_use.yaml", "anthropic", lambda: weather_request(PARIS), True
    ),
    "anthropic_overloaded": Scenario("anthropic_overloaded.yaml", "anthropic", hello_request, False, False),
    "anthropic_stream_overloaded": Scenario(
        "anthropic_overloaded.yaml", "anthropic", hello_request, True, False
    ),
    "anthropic_stream_error_event": Scenario(
        "anthropic_stream_error_event.yaml", "anthropic", hello_request, True, False
    ),
    "anthropic_stream_dropped": Scenario(
        "anthropic_stream_dropped.yaml", "anthropic", hello_request, True, False
    ),
    "openai_text": Scenario(
        "openai_text.yaml", "openai", lambda: hello_request(TRACEPARENT["openai"]), False
    ),
    "openai_stream_text": Scenario(
        "openai_stream_text.yaml", "openai", lambda: hello_request(TRACEPARENT["openai"]), True
    ),
    "openai_tool_calls": Scenario(
        "openai_tool_calls.yaml", "openai", lambda: weather_request(PARIS_AND_TOKYO), False
    ),
    "openai_stream_tool_calls": Scenario(
        "openai_stream_tool_calls.yaml", "openai", lambda: weather_request(PARIS_AND_TOKYO), True
    ),
    "openai_rate_limited": Scenario("openai_rate_limited.yaml", "openai", hello_request, False, False),
    "openai_stream_rate_limited": Scenario("openai_rate_limited.yaml", "openai", hello_request, True, False),
    "openai_stream_no_done": Scenario("openai_stream_no_done.yaml", "openai", hello_request, True, False),
    "vllm_stop_sequence": Scenario("vllm_stop_sequence.yaml", "vllm", counting_request, False, False),
    "vllm_stream_stop_sequence": Scenario("vllm_stop_sequence.yaml", "vllm", counting_request, True, False),
}


def adapter_for(backend: str, holder: SessionHolder, api_key: str = FAKE_KEY) -> UpstreamAdapter:
    if backend == "vllm":
        return OpenAICompatAdapter(
            "vllm",
            "http://127.0.0.1:8000",
            "",
            TOOLS,
            holder,
            upstream_model="meta-llama/Llama-3.1-8B-Instruct",
        )
    adapters = build_http_adapters({backend: "default"}, holder, env={BACKENDS[backend].api_key_env: api_key})
    return adapters[backend]


async def run_scenario(scenario: Scenario, adapter: UpstreamAdapter) -> UpstreamMessage | list[StreamEvent]:
    if scenario.stream:
        return [event async for event in adapter.stream_chat(scenario.request())]
    return await adapter.chat(scenario.request())


@asynccontextmanager
async def replaying(cassette: str) -> AsyncIterator[SessionHolder]:
    holder = SessionHolder()
    try:
        with REPLAY.use_cassette(cassette) as recorded:
            yield holder
            assert recorded.all_played, f"{cassette}: some recorded interactions were not requested"
    finally:
        await holder.close()


async def replay(name: str) -> UpstreamMessage | list[StreamEvent]:
    """Run one scenario against its cassette (only its own interaction need be played)."""
    scenario = SCENARIOS[name]
    holder = SessionHolder()
    try:
        with REPLAY.use_cassette(scenario.cassette):
            return await run_scenario(scenario, adapter_for(scenario.backend, holder))
    finally:
        await holder.close()


async def replay_message(name: str) -> UpstreamMessage:
    result = await replay(name)
    assert isinstance(result, UpstreamMessage)
    return result


async def replay_events(name: str) -> list[StreamEvent]:
    result = await replay(name)
    assert isinstance(result, list)
    return result


async def collect_until_error(stream: AsyncIterator[StreamEvent]) -> tuple[list[StreamEvent], UpstreamError]:
    events: list[StreamEvent] = []
    with pytest.raises(UpstreamError) as caught:
        async for event in stream:
            events.append(event)
    return events, caught.value


# ----------------------------------------------------------------------------------------------------
# Stream helpers: the §2 frame grammar (without pings, which adapters drop) and the fold
# ----------------------------------------------------------------------------------------------------


def check_grammar(events: list[StreamEvent], *, complete: bool = True) -> None:
    """``message_start (block_start delta* block_stop)* message_delta message_stop``, or a proper prefix."""
    assert events and events[0]["type"] == "message_start"
    next_index, open_block, fragments = 0, None, ""
    for position, event in enumerate(events[1:], start=1):
        kind = event["type"]
        assert kind != "ping"
        if kind == "content_block_start":
            assert open_block is None and event["index"] == next_index
            open_block, next_index, fragments = event["content_block"]["type"], next_index + 1, ""
        elif kind == "content_block_delta":
            assert event["index"] == next_index - 1 and open_block is not None
            expected = {"text": "text_delta", "tool_use": "input_json_delta"}[open_block]
            assert event["delta"]["type"] == expected
            fragments += event["delta"].get("partial_json", "")
        elif kind == "content_block_stop":
            assert event["index"] == next_index - 1 and open_block is not None
            if open_block == "tool_use":
                assert isinstance(json.loads(fragments), dict)
            open_block = None
        elif kind == "message_delta":
            assert open_block is None
            delta = event["delta"]
            assert delta["stop_reason"] in ANTHROPIC_STOP_REASONS
            assert (delta["stop_sequence"] is not None) == (delta["stop_reason"] == "stop_sequence")
            assert events[position + 1 :] == [{"type": "message_stop"}]
            return
        else:
            raise AssertionError(f"unexpected event {kind}")
    assert not complete, "stream ended without message_delta/message_stop"


def fold(events: list[StreamEvent]) -> dict[str, Any]:
    """The message a client assembles from a stream (input_tokens from message_delta when present)."""
    message: dict[str, Any] = {}
    fragments: dict[int, str] = {}
    for event in events:
        kind = event["type"]
        if kind == "message_start":
            message = copy.deepcopy(event["message"])
        elif kind == "content_block_start":
            message["content"].append(copy.deepcopy(event["content_block"]))
            if event["content_block"]["type"] == "tool_use":
                fragments[event["index"]] = ""
        elif kind == "content_block_delta":
            delta = event["delta"]
            if delta["type"] == "text_delta":
                message["content"][event["index"]]["text"] += delta["text"]
            else:
                fragments[event["index"]] += delta["partial_json"]
        elif kind == "content_block_stop" and event["index"] in fragments:
            message["content"][event["index"]]["input"] = json.loads(fragments[event["index"]])
        elif kind == "message_delta":
            message.update(event["delta"])
            message["usage"].update(event["usage"])
    return message


def as_message_dict(message: UpstreamMessage) -> dict[str, Any]:
    """The parts of a message that must agree between the two modes."""
    return {
        "content": message.content,
        "stop_reason": message.stop_reason,
        "stop_sequence": message.stop_sequence,
        "usage": {"input_tokens": message.usage.input_tokens, "output_tokens": message.usage.output_tokens},
    }


def folded_dict(events: list[StreamEvent]) -> dict[str, Any]:
    folded = fold(events)
    usage = folded["usage"]
    return {
        "content": folded["content"],
        "stop_reason": folded["stop_reason"],
        "stop_sequence": folded["stop_sequence"],
        "usage": {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"]},
    }


# ----------------------------------------------------------------------------------------------------
# Anthropic-native adapter
# ----------------------------------------------------------------------------------------------------


async def test_anthropic_text_message() -> None:
    message = await replay_message("anthropic_text")
    assert message.id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert message.content == [{"type": "text", "text": "Hello there, nice to meet!"}]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage == Usage(input_tokens=21, output_tokens=10)


async def test_anthropic_stream_text_is_forwarded_in_order_without_pings() -> None:
    events = await replay_events("anthropic_stream_text")
    assert [event["type"] for event in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    check_grammar(events)
    # The provider's model id never reaches the gateway's clients.
    assert events[0]["message"]["model"] == CANONICAL
    folded = fold(events)
    assert folded["content"] == [{"type": "text", "text": "Hello there, nice to meet!"}]
    assert folded["usage"]["input_tokens"] == 21 and folded["usage"]["output_tokens"] == 10


async def test_anthropic_stream_text_folds_to_the_json_message() -> None:
    streamed = await replay_events("anthropic_stream_text")
    message = await replay_message("anthropic_text")
    assert folded_dict(streamed) == as_message_dict(message)


async def test_anthropic_stream_tool_use_fragments_join_to_the_tool_input() -> None:
    events = await replay_events("anthropic_stream_tool_use")
    check_grammar(events)
    fragments = [
        event["delta"]["partial_json"]
        for event in events
        if event["type"] == "content_block_delta" and event["index"] == 1
    ]
    assert len(fragments) == 5
    assert json.loads("".join(fragments)) == {"location": "Paris, France", "unit": "celsius"}
    assert fold(events)["stop_reason"] == "tool_use"


async def test_anthropic_tool_use_is_the_same_message_in_both_modes() -> None:
    streamed = await replay_events("anthropic_stream_tool_use")
    message = await replay_message("anthropic_tool_use")
    assert [block["type"] for block in message.content] == ["text", "tool_use"]
    assert message.stop_reason == "tool_use"
    assert folded_dict(streamed) == as_message_dict(message)


async def test_anthropic_529_overloaded_in_both_modes() -> None:
    async with replaying("anthropic_overloaded.yaml") as holder:
        adapter = adapter_for("anthropic", holder)
        with pytest.raises(UpstreamError) as caught:
            await adapter.chat(hello_request())
        events, streamed = await collect_until_error(adapter.stream_chat(hello_request()))
    for error in (caught.value, streamed):
        assert (error.status, error.error_type, error.dropped) == (529, "overloaded_error", False)
        assert "backend 'anthropic'" in error.message and "Overloaded" in error.message
        assert FAKE_KEY not in error.message
    assert events == []  # the error came before any event: the gateway answers it as an HTTP error


async def test_anthropic_error_event_mid_stream_is_an_upstream_error() -> None:
    scenario = SCENARIOS["anthropic_stream_error_event"]
    async with replaying(scenario.cassette) as holder:
        events, error = await collect_until_error(
            adapter_for("anthropic", holder).stream_chat(hello_request())
        )
    check_grammar(events, complete=False)
    assert [event["type"] for event in events][-1] == "content_block_delta"
    assert (error.status, error.error_type, error.dropped) == (529, "overloaded_error", False)


async def test_anthropic_stream_without_message_stop_is_a_drop() -> None:
    scenario = SCENARIOS["anthropic_stream_dropped"]
    async with replaying(scenario.cassette) as holder:
        events, error = await collect_until_error(
            adapter_for("anthropic", holder).stream_chat(hello_request())
        )
    check_grammar(events, complete=False)
    assert error.dropped and error.error_type == "api_error" and "message_stop" in error.message


# ----------------------------------------------------------------------------------------------------
# OpenAI-compatible adapter
# ----------------------------------------------------------------------------------------------------


async def test_openai_json_text_becomes_an_anthropic_message() -> None:
    message = await replay_message("openai_text")
    assert message.id == "msg_chatcmpl-CK2hW9fPq0mZ3xYvB7nT4sLr8uEa1"
    assert message.content == [{"type": "text", "text": "Hello there, nice to meet!"}]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage == Usage(input_tokens=22, output_tokens=8)


async def test_openai_stream_with_include_usage() -> None:
    events = await replay_events("openai_stream_text")
    check_grammar(events)
    assert [event["type"] for event in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[0]["message"]["model"] == CANONICAL
    # The usage chunk (choices: []) arrives last; its counts are in message_delta, cumulative.
    assert events[-2]["usage"] == {"input_tokens": 22, "output_tokens": 8}
    assert folded_dict(events) == as_message_dict(await replay_message("openai_text"))


async def test_openai_stream_tool_call_deltas_become_tool_use_blocks() -> None:
    events = await replay_events("openai_stream_tool_calls")
    check_grammar(events)
    starts = [event["content_block"] for event in events if event["type"] == "content_block_start"]
    assert starts == [
        {"type": "tool_use", "id": "call_Xk2bP9qLm4nR7sT1uV3wY5zA", "name": "get_weather", "input": {}},
        {"type": "tool_use", "id": "call_Bc6dE8fG0hI2jK4lM6nO8pQr", "name": "get_weather", "input": {}},
    ]
    for index, city, pieces in ((0, "Paris, France", 3), (1, "Tokyo, Japan", 2)):
        fragments = [
            event["delta"]["partial_json"]
            for event in events
            if event["type"] == "content_block_delta" and event["index"] == index
        ]
        assert len(fragments) == pieces
        assert json.loads("".join(fragments)) == {"location": city, "unit": "celsius"}
    assert events[-2]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}


async def test_openai_tool_calls_are_the_same_message_in_both_modes() -> None:
    message = await replay_message("openai_tool_calls")
    assert [block["type"] for block in message.content] == ["tool_use", "tool_use"]
    assert message.stop_reason == "tool_use"
    assert folded_dict(await replay_events("openai_stream_tool_calls")) == as_message_dict(message)


async def test_openai_429_maps_to_rate_limit_error_in_both_modes() -> None:
    async with replaying("openai_rate_limited.yaml") as holder:
        adapter = adapter_for("openai", holder)
        with pytest.raises(UpstreamError) as caught:
            await adapter.chat(hello_request())
        events, streamed = await collect_until_error(adapter.stream_chat(hello_request()))
    assert events == []
    for error in (caught.value, streamed):
        # OpenAI's own type ("tokens"/"requests") is replaced by Anthropic's type for the status.
        assert (error.status, error.error_type, error.dropped) == (429, "rate_limit_error", False)
        assert "backend 'openai' answered HTTP 429" in error.message and "Rate limit reached" in error.message


async def test_openai_stream_without_done_is_a_drop() -> None:
    scenario = SCENARIOS["openai_stream_no_done"]
    async with replaying(scenario.cassette) as holder:
        events, error = await collect_until_error(adapter_for("openai", holder).stream_chat(hello_request()))
    check_grammar(events, complete=False)
    assert error.dropped and "[DONE]" in error.message


async def test_vllm_stop_reason_names_the_matched_stop_sequence_in_both_modes() -> None:
    message = await replay_message("vllm_stop_sequence")
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "###")
    events = await replay_events("vllm_stream_stop_sequence")
    check_grammar(events)
    assert events[-2]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "###"}
    assert folded_dict(events) == as_message_dict(message)


@pytest.mark.parametrize(
    ("temperature", "api_key"),
    [(0.3, FAKE_KEY), (0.2, "")],
    ids=["different-body", "missing-auth-header"],
)
async def test_replay_refuses_a_request_the_cassette_does_not_hold(temperature: float, api_key: str) -> None:
    """The matcher really checks body and headers: a drifted request is not answered from the cassette."""
    request = hello_request(TRACEPARENT["anthropic"])
    request.temperature = temperature
    holder = SessionHolder()
    try:
        refused = pytest.raises(CannotOverwriteExistingCassetteException)
        with REPLAY.use_cassette("anthropic_text.yaml"), refused:
            await adapter_for("anthropic", holder, api_key=api_key).chat(request)
    finally:
        await holder.close()


def test_every_cassette_is_used_by_a_scenario() -> None:
    used = {scenario.cassette for scenario in SCENARIOS.values()}
    assert used == {path.name for path in CASSETTES.glob("*.yaml")}


def test_cassettes_hold_no_real_key() -> None:
    for path in CASSETTES.glob("*.yaml"):
        text = path.read_text()
        assert "sk-ant-" not in text and "sk-proj-" not in text and FAKE_KEY not in text, path.name
        assert text.count(API_KEY_PLACEHOLDER) >= text.lower().count("x-api-key:") + text.lower().count(
            "authorization:"
        ), path.name


# ----------------------------------------------------------------------------------------------------
# Transport: loopback servers only
# ----------------------------------------------------------------------------------------------------


@asynccontextmanager
async def loopback(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/v1/messages", handler)
    app.router.add_post("/v1/chat/completions", handler)
    app.router.add_post("/openai/v1/chat/completions", handler)  # Groq's base URL has a path
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def sse(event: StreamEvent) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


async def test_stream_events_are_yielded_as_they_arrive() -> None:
    """The adapter must not buffer: the server holds the rest of the stream until the test saw event one."""
    first_seen = asyncio.Event()
    received: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        received["headers"] = dict(request.headers)
        received["body"] = await request.json()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        start = {
            "type": "message_start",
            "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "x", "content": [],
                        "stop_reason": None, "stop_sequence": None,
                        "usage": {"input_tokens": 3, "output_tokens": 1}},
        }  # fmt: skip
        await response.write(sse(start))
        await asyncio.wait_for(first_seen.wait(), timeout=5)
        await response.write(b": a comment\r\n\r\n")  # comment, CRLF framing
        await response.write(b'event: message_delta\r\ndata: {"type":"message_delta",\r\ndata: "delta":')
        await response.write(
            b'{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1}}\r\n\r\n'
        )
        await response.write(sse({"type": "message_stop"}))
        await response.write_eof()
        return response

    holder = SessionHolder()
    try:
        async with loopback(handler) as url:
            adapter = AnthropicAdapter("anthropic", url, "sk-ant-loopback", TOOLS, holder, "claude-x")
            events = []
            request = hello_request("00-11111111111111111111111111111111-2222222222222222-01")
            request.headers["x-upstream-script"] = "text=hi"
            request.headers["x-api-key"] = "client-key-must-not-be-forwarded"
            async for event in adapter.stream_chat(request):
                events.append(event)
                first_seen.set()
    finally:
        await holder.close()
    assert [event["type"] for event in events] == ["message_start", "message_delta", "message_stop"]
    assert events[1]["delta"]["stop_reason"] == "end_turn"  # multi-line data joined with "\n"
    headers = {name.lower(): value for name, value in received["headers"].items()}
    assert headers["x-api-key"] == "sk-ant-loopback"
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["traceparent"] == "00-11111111111111111111111111111111-2222222222222222-01"
    assert headers["x-upstream-script"] == "text=hi"
    assert received["body"]["model"] == "claude-x" and received["body"]["stream"] is True


async def test_connection_lost_mid_stream_is_a_drop() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n')
        assert request.transport is not None
        request.transport.close()  # abrupt: no [DONE], no chunk terminator
        return response

    holder = SessionHolder()
    try:
        async with loopback(handler) as url:
            adapter = OpenAICompatAdapter("mistral", url, "key", TOOLS, holder, "m")
            events, error = await collect_until_error(adapter.stream_chat(hello_request()))
    finally:
        await holder.close()
    assert [event["type"] for event in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
    ]
    assert error.dropped and error.status in (500, 529)
    assert "backend 'mistral'" in error.message


async def test_read_timeout_is_overloaded_with_the_backend_named() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(2)
        return web.json_response({})

    holder = SessionHolder(HttpTimeouts(connect=1, sock_read=0.2))
    try:
        async with loopback(handler) as url:
            adapter = OpenAICompatAdapter("groq", f"{url}/openai", "key", TOOLS, holder, "m")
            with pytest.raises(UpstreamError) as caught:
                await adapter.chat(hello_request())
    finally:
        await holder.close()
    assert (caught.value.status, caught.value.error_type) == (529, "overloaded_error")
    assert "backend 'groq'" in caught.value.message and "timed out" in caught.value.message


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_connection_refused_names_backend_and_url_without_secrets() -> None:
    holder = SessionHolder(HttpTimeouts(connect=2))
    url = f"http://user:hunter2@127.0.0.1:{_closed_port()}"
    adapter = AnthropicAdapter("anthropic", url, "sk-ant-secret-value", TOOLS, holder)
    try:
        with pytest.raises(UpstreamError) as caught:
            await adapter.chat(hello_request())
    finally:
        await adapter.close()
    error = caught.value
    assert (error.status, error.error_type) == (500, "api_error")
    assert "backend 'anthropic' at http://127.0.0.1:" in error.message and "/v1/messages" in error.message
    assert "hunter2" not in error.message and "sk-ant" not in error.message
    assert "sk-ant" not in repr(adapter)


async def test_upstream_401_does_not_echo_the_key() -> None:
    """A provider refusing the gateway's own key is the gateway's fault: 500 api_error, the key never quoted."""

    async def handler(request: web.Request) -> web.StreamResponse:
        body = {"error": {"message": "Incorrect API key provided: sk-proj-abc***********************wxyz.",
                          "type": "invalid_request_error", "param": None,
                          "code": "invalid_api_key"}}  # fmt: skip
        return web.json_response(body, status=401)

    holder = SessionHolder()
    try:
        async with loopback(handler) as url:
            adapter = OpenAICompatAdapter("openai", url, "sk-proj-abcwxyz", TOOLS, holder, "m")
            with pytest.raises(UpstreamError) as caught:
                await adapter.chat(hello_request())
    finally:
        await holder.close()
    assert caught.value.status == 500 and caught.value.error_type == "api_error"
    assert "sk-proj" not in caught.value.message and "credentials" in caught.value.message


async def test_a_cookie_an_upstream_sets_never_rides_on_a_later_call() -> None:
    """One client session serves every caller of the gateway: a ``Set-Cookie`` from the upstream on one call
    must not come back on the next call, which may be another client's."""
    cookies: list[str | None] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        cookies.append(request.headers.get("Cookie"))
        body = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
                "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 3, "output_tokens": 1}}  # fmt: skip
        response = web.json_response(body)
        response.set_cookie("session", f"caller-{len(cookies)}", path="/")
        return response

    holder = SessionHolder()
    try:
        async with loopback(handler) as url:
            # By host name: aiohttp's default jar ignores cookies from bare IP addresses altogether.
            named = url.replace("127.0.0.1", "localhost")
            adapter = AnthropicAdapter("anthropic", named, "sk-ant-loopback", TOOLS, holder, "claude-x")
            for _ in range(2):
                await adapter.chat(hello_request())
    finally:
        await holder.close()
    assert cookies == [None, None]


async def test_openai_error_chunk_mid_stream() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n')
        await response.write(
            b'data: {"error":{"message":"The server is overloaded","type":"server_error"}}\n\n'
        )
        return response

    holder = SessionHolder()
    try:
        async with loopback(handler) as url:
            adapter = OpenAICompatAdapter("together", url, "key", TOOLS, holder, "m")
            events, error = await collect_until_error(adapter.stream_chat(hello_request()))
    finally:
        await holder.close()
    assert len(events) == 3
    assert (error.status, error.error_type, error.dropped) == (500, "api_error", False)


async def test_recording_config_strips_keys_and_replays(tmp_path: Path) -> None:
    """What fixtures/record_cassettes.py relies on, exercised against loopback: a recorded cassette holds the
    placeholder instead of the key, loses account and encoding headers, and replays to the same result."""
    secret = "sk-ant-api03-RECORDING-TEST-SECRET"

    async def handler(request: web.Request) -> web.StreamResponse:
        body = {"id": "msg_rec", "type": "message", "role": "assistant", "model": "claude-x",
                "content": [{"type": "text", "text": "recorded"}], "stop_reason": "end_turn",
                "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}}  # fmt: skip
        return web.json_response(body, headers={"anthropic-organization-id": "org-123"})

    async def call(mode: str, url: str) -> UpstreamMessage:
        holder = SessionHolder()
        try:
            adapter = AnthropicAdapter("anthropic", url, secret, TOOLS, holder, "claude-x")
            with make_vcr(mode).use_cassette(str(tmp_path / "rec.yaml")):
                return await adapter.chat(hello_request())
        finally:
            await holder.close()

    async with loopback(handler) as url:
        recorded = await call("once", url)
    text = (tmp_path / "rec.yaml").read_text()
    assert secret not in text and API_KEY_PLACEHOLDER in text
    assert "org-123" not in text and "Content-Length" not in text
    assert await call("none", url) == recorded  # the server is gone: this can only be the cassette


async def test_mistral_quirks_no_stream_options_short_tool_ids_and_its_error_shape() -> None:
    received: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        received.append(await request.json())
        detail = {"detail": [{"type": "extra_forbidden", "loc": ["body", "x"], "msg": "Extra inputs"}]}
        body = {"object": "error", "message": detail, "type": "invalid_request_error", "code": None}
        return web.json_response(body, status=422)

    request = weather_request(PARIS)
    request.messages += [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9",
                                           "name": "get_weather", "input": {"location": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                                      "content": "18C"}]},
    ]  # fmt: skip
    holder = SessionHolder()
    try:
        async with loopback(handler) as url:
            spec = BACKENDS["mistral"]
            mistral = OpenAICompatAdapter(
                "mistral", url, "key", TOOLS, holder, "m",
                stream_usage_option=spec.stream_usage_option, short_tool_ids=spec.short_tool_ids,
            )  # fmt: skip
            events, error = await collect_until_error(mistral.stream_chat(request))
    finally:
        await holder.close()
    body = received[0]
    assert body["stream"] is True and "stream_options" not in body
    call_id = body["messages"][1]["tool_calls"][0]["id"]
    assert len(call_id) == 9 and call_id.isalnum() and body["messages"][2]["tool_call_id"] == call_id
    assert events == [] and (error.status, error.error_type) == (400, "invalid_request_error")
    assert "extra_forbidden" in error.message


async def test_tools_are_never_sent_to_a_backend_without_tool_support() -> None:
    holder = SessionHolder()
    together = build_http_adapters({"together": "http://127.0.0.1:9"}, holder)["together"]
    assert together.capabilities.tools is False
    with pytest.raises(UpstreamError) as caught:
        await together.chat(weather_request(PARIS))
    assert caught.value.status == 400 and "does not support tools" in caught.value.message
    await holder.close()


# ----------------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------------


def test_registry_has_the_five_backends() -> None:
    assert DEFAULT_BACKEND == "anthropic"
    assert {slug: (spec.dialect, spec.base_url, spec.api_key_env) for slug, spec in BACKENDS.items()} == {
        "anthropic": ("anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY"),
        "openai": ("openai", "https://api.openai.com", "OPENAI_API_KEY"),
        "mistral": ("openai", "https://api.mistral.ai", "MISTRAL_API_KEY"),
        "groq": ("openai", "https://api.groq.com/openai", "GROQ_API_KEY"),
        "together": ("openai", "https://api.together.xyz", "TOGETHER_API_KEY"),
    }
    assert [slug for slug, spec in BACKENDS.items() if not spec.capabilities.tools] == ["together"]
    assert all(spec.capabilities.native_streaming for spec in BACKENDS.values())


def test_build_http_adapters_overrides() -> None:
    holder = SessionHolder()
    everything = build_http_adapters(
        {"*": "http://127.0.0.1:9100", "groq": "http://127.0.0.1:9200"}, holder, env={}
    )
    assert list(everything) == list(BACKENDS)
    assert isinstance(everything["anthropic"], AnthropicAdapter)
    assert all(
        isinstance(everything[slug], OpenAICompatAdapter)
        for slug in ("openai", "mistral", "groq", "together")
    )
    assert "127.0.0.1:9100/v1/messages" in repr(everything["anthropic"])
    assert "127.0.0.1:9200/v1/chat/completions" in repr(everything["groq"])
    one = build_http_adapters({"mistral": "default"}, holder, env={})
    assert list(one) == ["mistral"] and "https://api.mistral.ai/v1/chat/completions" in repr(one["mistral"])
    # Mistral's quirks apply at Mistral only; pointed at the scripted upstream it speaks plain OpenAI.
    at_mistral, elsewhere = one["mistral"], everything["mistral"]
    assert isinstance(at_mistral, OpenAICompatAdapter) and isinstance(elsewhere, OpenAICompatAdapter)
    assert (at_mistral.stream_usage_option, at_mistral.short_tool_ids) == (False, True)
    assert (elsewhere.stream_usage_option, elsewhere.short_tool_ids) == (True, False)
    with pytest.raises(ValueError, match="unknown backend"):
        build_http_adapters({"mistrall": "http://127.0.0.1:1"}, holder)


# ----------------------------------------------------------------------------------------------------
# SSE decoding
# ----------------------------------------------------------------------------------------------------


def decode(*chunks: bytes) -> list[SSEMessage]:
    decoder = SSEDecoder()
    messages = [message for chunk in chunks for message in decoder.feed(chunk)]
    return messages + decoder.feed_eof()


def test_sse_line_ends_comments_multiline_and_bom() -> None:
    raw = b"\xef\xbb\xbf: hello\r\nevent: a\r\ndata: 1\r\ndata:2\r\n\r\nevent: b\rdata: x\r\rdata: y\n\n"
    assert decode(raw) == [
        SSEMessage("a", "1\n2"),
        SSEMessage("b", "x"),
        SSEMessage("message", "y"),
    ]


def test_sse_event_cut_at_eof_is_discarded() -> None:
    assert decode(b"data: complete\n\ndata: cut") == [SSEMessage("message", "complete")]


@given(st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_sse_decoding_does_not_depend_on_chunk_boundaries(cuts: list[int]) -> None:
    raw = (
        b'\xef\xbb\xbfevent: message_start\r\ndata: {"a": "\xc3\xa9"}\r\n\r\n: ping\n\n'
        b"data: one\rdata: two\r\rid: 7\nevent: x\ndata:  spaced\n\ndata: [DONE]\r\n\r\n"
    )
    points = sorted({min(cut, len(raw)) for cut in cuts})
    pieces = [raw[start:end] for start, end in zip([0, *points], [*points, len(raw)], strict=True)]
    assert decode(*pieces) == decode(raw)
    assert [message.data for message in decode(raw)] == ['{"a": "é"}', "one\ntwo", " spaced", "[DONE]"]


# ----------------------------------------------------------------------------------------------------
# openai_wire: requests
# ----------------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------------
# openai_wire: answers and streams
# ----------------------------------------------------------------------------------------------------

TOOL_MESSAGE = UpstreamMessage(
    id="msg_01abc",
    content=[
        {"type": "text", "text": "Checking both."},
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"location": "Paris"}},
        {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"location": "Tokyo"}},
    ],
    stop_reason="tool_use",
    stop_sequence=None,
    usage=Usage(input_tokens=30, output_tokens=12),
)


def anthropic_stream_of(message: UpstreamMessage, *, split: int = 3) -> list[StreamEvent]:
    """The Anthropic event stream of a finished message, text and JSON cut into ``split``-character pieces."""
    events: list[StreamEvent] = [
        {"type": "message_start", "message": {"id": message.id, "type": "message", "role": "assistant",
         "model": CANONICAL, "content": [], "stop_reason": None, "stop_sequence": None,
         "usage": {"input_tokens": message.usage.input_tokens, "output_tokens": 1}}},
        {"type": "ping"},
    ]  # fmt: skip
    for index, block in enumerate(message.content):
        if block["type"] == "text":
            events.append(
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
            )
            pieces, kind, key = block["text"], "text_delta", "text"
        else:
            start = {**block, "input": {}}
            events.append({"type": "content_block_start", "index": index, "content_block": start})
            pieces, kind, key = json.dumps(block["input"]), "input_json_delta", "partial_json"
        for at in range(0, len(pieces), split):
            events.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": kind, key: pieces[at : at + split]},
                }
            )
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message.stop_reason, "stop_sequence": message.stop_sequence},
            "usage": {"output_tokens": message.usage.output_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return events


def test_message_to_openai_completion() -> None:
    completion = message_to_openai_completion(TOOL_MESSAGE, model=CANONICAL, created=1700000000)
    assert completion["id"] == "chatcmpl-01abc" and completion["object"] == "chat.completion"
    assert completion["model"] == CANONICAL and completion["created"] == 1700000000
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Checking both."
    assert [call["function"]["arguments"] for call in choice["message"]["tool_calls"]] == [
        '{"location":"Paris"}',
        '{"location":"Tokyo"}',
    ]
    assert completion["usage"] == {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}
    # And back: the OpenAI-compatible adapter reads it as the same message.
    back = openai_completion_to_message(completion)
    assert as_message_dict(back) == as_message_dict(TOOL_MESSAGE)


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
     ("refusal", "content_filter")],
)  # fmt: skip
def test_finish_reasons_both_ways(stop_reason: str, finish_reason: str) -> None:
    stop_sequence = "###" if stop_reason == "stop_sequence" else None
    message = UpstreamMessage(
        "msg_1", [{"type": "text", "text": "x"}], stop_reason, stop_sequence, Usage(1, 1)
    )
    completion = message_to_openai_completion(message, model=CANONICAL)
    assert completion["choices"][0]["finish_reason"] == finish_reason
    completion["choices"][0]["stop_reason"] = stop_sequence  # as vLLM reports it
    back = openai_completion_to_message(completion, stop_sequences=["###"])
    assert (back.stop_reason, back.stop_sequence) == (stop_reason, stop_sequence)


def test_vllm_stop_reason_outside_the_request_sequences_is_ignored() -> None:
    choice = {"index": 0, "message": {"content": "x"}, "finish_reason": "stop", "stop_reason": 128009}
    body: dict[str, Any] = {"id": "c", "choices": [choice]}
    assert openai_completion_to_message(body, stop_sequences=["###"]).stop_reason == "end_turn"
    body["choices"][0]["stop_reason"] = "END"
    assert openai_completion_to_message(body, stop_sequences=["###"]).stop_reason == "end_turn"


async def aiter_of(events: list[StreamEvent]) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event


@pytest.mark.parametrize("include_usage", [True, False])
async def test_anthropic_events_to_openai_chunks(include_usage: bool) -> None:
    chunks = [
        chunk
        async for chunk in anthropic_events_to_openai_chunks(
            aiter_of(anthropic_stream_of(TOOL_MESSAGE)), model=CANONICAL, include_usage=include_usage
        )
    ]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(chunk["object"] == "chat.completion.chunk" and chunk["model"] == CANONICAL for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    content = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks if chunk["choices"])
    assert content == "Checking both."
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for call in chunk["choices"][0]["delta"].get("tool_calls", []) if chunk["choices"] else []:
            entry = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
            entry["id"] += call.get("id", "")
            entry["name"] += call.get("function", {}).get("name", "")
            entry["arguments"] += call["function"].get("arguments", "")
    assert calls == {
        0: {"id": "toolu_a", "name": "get_weather", "arguments": '{"location": "Paris"}'},
        1: {"id": "toolu_b", "name": "get_weather", "arguments": '{"location": "Tokyo"}'},
    }
    finals = [chunk for chunk in chunks if chunk["choices"] and chunk["choices"][0]["finish_reason"]]
    assert len(finals) == 1 and finals[0]["choices"][0]["finish_reason"] == "tool_calls"
    if include_usage:
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"] == {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}
        assert all(chunk["usage"] is None for chunk in chunks[:-1])
        assert chunks[-2] is finals[0]
    else:
        assert chunks[-1] is finals[0] and all("usage" not in chunk for chunk in chunks)


def test_anthropic_error_event_becomes_an_openai_error_chunk() -> None:
    translator = AnthropicEventTranslator(model=CANONICAL, include_usage=True)
    event = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert translator.feed(event) == [
        {"error": {"message": "Overloaded", "type": "overloaded_error", "param": None, "code": None}}
    ]


@pytest.mark.parametrize(
    "message", [TOOL_MESSAGE, UpstreamMessage("msg_2", [], "max_tokens", None, Usage(5, 0))]
)
def test_gateway_chunks_read_back_by_the_adapter_fold_to_the_message(message: UpstreamMessage) -> None:
    """Anthropic events → OpenAI chunks (the gateway's route) → Anthropic events (the adapter) → fold."""
    forward = AnthropicEventTranslator(model=CANONICAL, include_usage=True)
    backward = OpenAIChunkTranslator(model=CANONICAL)
    events: list[StreamEvent] = []
    for event in anthropic_stream_of(message):
        for chunk in forward.feed(event):
            events.extend(backward.feed(json.loads(json.dumps(chunk))))
    events.extend(backward.finish())
    check_grammar(events)
    assert folded_dict(events) == as_message_dict(message)


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, **extra}]}


def translate(chunks: list[dict[str, Any]], stop_sequences: tuple[str, ...] = ()) -> list[StreamEvent]:
    translator = OpenAIChunkTranslator(model=CANONICAL, stop_sequences=stop_sequences)
    events = [event for item in chunks for event in translator.feed(item)]
    return events + translator.finish()


def test_chunk_translator_buffers_arguments_until_the_name_arrives_and_fills_empty_input() -> None:
    events = translate(
        [
            chunk({"tool_calls": [{"index": 0, "id": "call_1", "function": {"arguments": '{"a"'}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": ":1}"}}]}),
            chunk({"tool_calls": [{"index": 1, "id": "call_2", "function": {"name": "g"}}]}),
            chunk({}, "tool_calls"),
            {"id": "c1", "choices": [], "x_groq": {"usage": {"prompt_tokens": 4, "completion_tokens": 2}}},
        ]
    )
    check_grammar(events)
    folded = fold(events)
    assert folded["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
        {"type": "tool_use", "id": "call_2", "name": "g", "input": {}},
    ]
    assert folded["usage"] == {"input_tokens": 4, "output_tokens": 2}


def test_chunk_translator_maps_vllm_stop_reason_and_refusal() -> None:
    events = translate([chunk({"content": "1, 2"}), chunk({}, "stop", stop_reason="###")], ("###",))
    assert events[-2]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "###"}
    events = translate([chunk({"refusal": "I can't help with that."}), chunk({}, "stop")])
    check_grammar(events)
    assert fold(events)["stop_reason"] == "refusal"


@pytest.mark.parametrize(
    "chunks",
    [
        [  # arguments that do not parse
            chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": '{"a":'}}]}),
            chunk({}, "tool_calls"),
        ],
        [  # a fragment of call 0 after call 1 began: Anthropic's blocks cannot interleave
            chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}]}),
            chunk({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": " "}}]}),
        ],
        [
            chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"arguments": "{}"}}]}),
            chunk({}, "stop"),
        ],
    ],
)
def test_chunk_translator_refuses_what_anthropic_cannot_express(chunks: list[dict[str, Any]]) -> None:
    with pytest.raises(WireError):
        translate(chunks)
