"""The cassettes themselves: the replay matcher refuses a request a cassette does not hold, every cassette is
used by a scenario, no cassette holds a key, and the recording configuration strips keys and replays."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from vcr.errors import CannotOverwriteExistingCassetteException

from reference_server.upstream.anthropic_native import AnthropicAdapter
from reference_server.upstream.base import UpstreamMessage
from reference_server.upstream.http_session import SessionHolder
from tests.upstream.loopback import loopback
from tests.upstream.scenarios import (
    API_KEY_PLACEHOLDER,
    CASSETTES,
    FAKE_KEY,
    REPLAY,
    SCENARIOS,
    TOOLS,
    TRACEPARENT,
    adapter_for,
    hello_request,
    make_vcr,
)


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
