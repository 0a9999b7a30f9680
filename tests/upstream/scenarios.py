"""The recorded provider traffic the adapter tests replay: the vcr configuration, one ``Scenario`` per cassette
interaction, and the helpers that replay a scenario through the real adapter.

``fixtures/record_cassettes.py`` records the recordable scenarios for real with the same configuration, so a
recorded cassette replays here (see ``docs/recording-cassettes.md``). The cassettes in ``cassettes/`` beside
this module are written to Anthropic's and OpenAI's documented wire formats. They are replayed with
``record_mode="none"`` and matched on the request *body* and the wire headers too, so a cassette checks both
directions: the exact request an adapter sends and its reading of the answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import vcr

from reference_server.upstream.base import (
    Capabilities,
    StreamEvent,
    UpstreamAdapter,
    UpstreamError,
    UpstreamMessage,
    UpstreamRequest,
)
from reference_server.upstream.http_session import SessionHolder
from reference_server.upstream.openai_compat import OpenAICompatAdapter
from reference_server.upstream.registry import BACKENDS, build_http_adapters

CASSETTES = Path(__file__).resolve().parent / "cassettes"
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
async def replaying(cassette: str, *, all_played: bool = True) -> AsyncIterator[SessionHolder]:
    """A session whose requests are answered from ``cassette``; with ``all_played``, every recorded
    interaction must have been requested by the end of the block."""
    holder = SessionHolder()
    try:
        with REPLAY.use_cassette(cassette) as recorded:
            yield holder
            assert recorded.all_played or not all_played, (
                f"{cassette}: some recorded interactions were not requested"
            )
    finally:
        await holder.close()


async def replay(name: str) -> UpstreamMessage | list[StreamEvent]:
    """Run one scenario against its cassette (only its own interaction need be played)."""
    scenario = SCENARIOS[name]
    async with replaying(scenario.cassette, all_played=False) as holder:
        return await run_scenario(scenario, adapter_for(scenario.backend, holder))


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
