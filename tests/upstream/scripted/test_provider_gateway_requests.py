"""The reference gateway's own outbound requests: every request shape its Anthropic-native and OpenAI-compatible
adapters send, to every backend, streamed and not, is answered by the scripted upstream over HTTP, and each body
it recorded passes the provider's rules again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.upstream.registry import BACKENDS
from reference_server.upstream.scripted.provider_rules import (
    ServedModels,
    check_anthropic,
    check_openai,
    default_served_models,
)
from reference_server.upstream.scripted.server import build_app as build_upstream_app
from tests.support.gateway import CLIENT_KEY
from tests.support.servers import ServerThread
from tests.upstream.scripted.provider_bodies import (
    CALL,
    CHAT,
    MESSAGES,
    OPENAI_CALL,
    OPENAI_TOOL,
    RESULT,
    TOOL,
)


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
