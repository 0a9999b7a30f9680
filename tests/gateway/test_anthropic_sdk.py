"""The official ``anthropic`` SDK as a real client of the reference gateway over loopback (BRIEF §2).

Checks: both auth styles the SDK uses (``x-api-key``, ``Authorization: Bearer``); ``messages.create``; iterating
``messages.create(stream=True)``; ``messages.stream()`` + ``get_final_message()`` with a forced tool whose input
arrives in several fragments; and every Anthropic error status surfacing as the SDK's matching exception class.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2 as httpx
import jsonschema
import pytest

from reference_server.models_catalog import CANONICAL_MODEL
from tests.support.gateway import CLIENT_KEY, start_gateway
from tests.support.servers import ServerThread

WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1},
        },
        "required": ["city", "unit", "days"],
    },
}

USER = [{"role": "user", "content": "What is the weather in Lisbon?"}]


class HeaderLog:
    """Records the headers the SDK actually sent, so the auth tests prove which style was used."""

    def __init__(self) -> None:
        self.sent: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> None:
        self.sent.append(request.headers)


def bearer_client(gateway: ServerThread, log: HeaderLog | None = None, **kw: Any) -> anthropic.Anthropic:
    hooks = {"request": [log]} if log else {}
    return anthropic.Anthropic(
        base_url=gateway.url,
        auth_token=CLIENT_KEY,
        max_retries=0,
        http_client=anthropic.DefaultHttpxClient(event_hooks=hooks),
        **kw,
    )


def api_key_client(gateway: ServerThread, log: HeaderLog) -> anthropic.Anthropic:
    # SDK 1.x sent x-api-key; 2.x sends Bearer for api_key. Send x-api-key explicitly to cover 1.x clients.
    return anthropic.Anthropic(
        base_url=gateway.url,
        api_key=None,
        auth_token=None,
        default_headers={"x-api-key": CLIENT_KEY},
        max_retries=0,
        http_client=anthropic.DefaultHttpxClient(event_hooks={"request": [log]}),
    )


@pytest.fixture()
def client(gateway: ServerThread) -> Iterator[anthropic.Anthropic]:
    with bearer_client(gateway) as c:
        yield c


def test_create_with_x_api_key(gateway: ServerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    """WIRE: a 1.x-style client authenticating with x-api-key gets an Anthropic Message."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    log = HeaderLog()
    with api_key_client(gateway, log) as c:
        msg = c.messages.create(model=CANONICAL_MODEL, max_tokens=64, messages=USER)
    assert log.sent[0]["x-api-key"] == CLIENT_KEY and "authorization" not in log.sent[0]
    assert msg.type == "message" and msg.role == "assistant" and msg.model == CANONICAL_MODEL
    assert msg.content and msg.content[0].type == "text" and msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0


def test_create_with_bearer(gateway: ServerThread) -> None:
    """WIRE: a 2.x-style client authenticating with Authorization: Bearer, and the anthropic-version header."""
    log = HeaderLog()
    with bearer_client(gateway, log) as c:
        raw = c.messages.with_raw_response.create(model=CANONICAL_MODEL, max_tokens=64, messages=USER)
    sent = log.sent[0]
    assert sent["authorization"] == f"Bearer {CLIENT_KEY}" and "anthropic-version" in sent
    msg = raw.parse()
    assert msg.model == CANONICAL_MODEL
    assert raw.headers["x-ainfera-stream-mode"] == "none"
    assert raw.headers["request-id"].startswith("req_")
    assert raw.headers["x-ainfera-audit-url"] == f"/v1/audit/{raw.headers['request-id']}"
    assert raw.headers["x-ainfera-agent-id"]


def test_iterate_create_stream(client: anthropic.Anthropic) -> None:
    """WIRE: iterating messages.create(stream=True) yields Anthropic's event order and folds to the text."""
    stream = client.messages.create(
        model=CANONICAL_MODEL,
        max_tokens=64,
        messages=USER,
        stream=True,
        extra_headers={"x-upstream-script": "text_tokens=20; chunk=4"},
    )
    kinds = [event.type for event in stream]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_delta") == 5


def test_stream_helper_forced_tool_fragments(client: anthropic.Anthropic) -> None:
    """TOOLS: messages.stream() + get_final_message() with a forced tool whose input arrives in fragments."""
    fragments = 0
    with client.messages.stream(
        model=CANONICAL_MODEL,
        max_tokens=256,
        messages=USER,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "get_weather"},
    ) as stream:
        for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                fragments += 1
        final = stream.get_final_message()
    assert fragments >= 3
    assert final.stop_reason == "tool_use" and final.model == CANONICAL_MODEL
    block = final.content[-1]
    assert block.type == "tool_use" and block.name == "get_weather"
    jsonschema.validate(block.input, WEATHER_TOOL["input_schema"])


def test_non_streaming_tool_use(client: anthropic.Anthropic) -> None:
    """TOOLS: tool_use blocks come back in the non-streaming mode too, with a schema-valid input."""
    msg = client.messages.create(
        model=CANONICAL_MODEL,
        max_tokens=256,
        messages=USER,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "get_weather"},
    )
    assert msg.stop_reason == "tool_use"
    tool = next(b for b in msg.content if b.type == "tool_use")
    jsonschema.validate(tool.input, WEATHER_TOOL["input_schema"])


@pytest.fixture(scope="module")
def broke_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """A gateway whose client keys are set and whose kill-switch is already engaged (threshold 0)."""
    server = start_gateway(tmp_path_factory.mktemp("broke"), client_keys=(CLIENT_KEY,), kill_switch_usd=0.0)
    yield server
    server.stop()


def _call(c: anthropic.Anthropic, **kw: Any) -> None:
    args: dict[str, Any] = {"model": CANONICAL_MODEL, "max_tokens": 32, "messages": USER}
    args.update(kw)
    c.messages.create(**args)


ERROR_CASES: list[tuple[int, type[anthropic.APIStatusError], dict[str, Any]]] = [
    (400, anthropic.BadRequestError, {"max_tokens": -1}),
    (404, anthropic.NotFoundError, {"model": "no-such-model"}),
    (
        422,
        anthropic.UnprocessableEntityError,
        {"tools": [WEATHER_TOOL], "extra_headers": {"x-ainfera-backend": "together"}},
    ),
    (429, anthropic.RateLimitError, {"extra_headers": {"x-upstream-script": "error=429"}}),
    (500, anthropic.InternalServerError, {"extra_headers": {"x-upstream-script": "error=500"}}),
    (529, anthropic.OverloadedError, {"extra_headers": {"x-upstream-script": "error=529"}}),
]


@pytest.mark.parametrize(("status", "exc_type", "kwargs"), ERROR_CASES, ids=[str(c[0]) for c in ERROR_CASES])
def test_error_status_maps_to_sdk_exception(
    client: anthropic.Anthropic, status: int, exc_type: type[anthropic.APIStatusError], kwargs: dict[str, Any]
) -> None:
    """ERRORS: each Anthropic error status reaches the SDK as its matching exception, with the envelope."""
    with pytest.raises(exc_type) as info:
        _call(client, **kwargs)
    err = info.value
    assert err.status_code == status
    body = err.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert set(body["error"]) >= {"type", "message"}


def test_422_names_backend_and_hint(client: anthropic.Anthropic) -> None:
    """TOOLS: the no-tools backend answers 422 tools_not_supported_by_backend with its slug and a hint."""
    with pytest.raises(anthropic.UnprocessableEntityError) as info:
        _call(client, tools=[WEATHER_TOOL], extra_headers={"x-ainfera-backend": "together"})
    error = info.value.body["error"]  # type: ignore[index]
    assert error["code"] == "tools_not_supported_by_backend"
    assert error["backend"] == "together" and error["hint"]


def test_401_and_403(broke_gateway: ServerThread, tmp_path: Path) -> None:
    """ERRORS: a wrong key is 401 AuthenticationError; a call past the kill-switch is 403 PermissionDeniedError."""
    with (
        anthropic.Anthropic(base_url=broke_gateway.url, auth_token="wrong", max_retries=0) as wrong,
        pytest.raises(anthropic.AuthenticationError) as auth,
    ):
        _call(wrong)
    assert auth.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    with (
        anthropic.Anthropic(base_url=broke_gateway.url, auth_token=CLIENT_KEY, max_retries=0) as ok,
        pytest.raises(anthropic.PermissionDeniedError) as perm,
    ):
        _call(ok)
    assert perm.value.body["error"]["code"] == "kill_switch_engaged"  # type: ignore[index]


def test_413_request_too_large(client: anthropic.Anthropic) -> None:
    """ERRORS: a body over the limit is 413 request_too_large."""
    with pytest.raises(anthropic.APIStatusError) as info:
        _call(client, messages=[{"role": "user", "content": "x" * (2 * 1024 * 1024)}])
    assert info.value.status_code == 413
    assert info.value.body["error"]["type"] == "request_too_large"  # type: ignore[index]


def test_upstream_drop_mid_stream_is_error_event(client: anthropic.Anthropic) -> None:
    """WIRE: after the first byte an upstream failure is one `error` event and the end of the stream."""
    with client.messages.with_streaming_response.create(
        model=CANONICAL_MODEL,
        max_tokens=64,
        messages=USER,
        stream=True,
        extra_headers={"x-upstream-script": "text_tokens=30; chunk=3; drop_after=2"},
    ) as raw:
        text = raw.read().decode()
    frames = [f for f in text.split("\n\n") if f.strip()]
    assert frames[-1].startswith("event: error\n")
    assert sum(f.startswith("event: content_block_delta") for f in frames) == 2
