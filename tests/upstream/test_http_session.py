"""What the HTTP adapters share (``reference_server/upstream/http_session.py``), on loopback servers only:
events yielded as they arrive, a lost connection as a drop, timeouts and refused connections named without
secrets, a provider's 401 never echoing the key, no cookie jar across callers; and the SSE decoder."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from reference_server.upstream.anthropic_native import AnthropicAdapter
from reference_server.upstream.base import UpstreamError
from reference_server.upstream.http_session import HttpTimeouts, SessionHolder, SSEDecoder, SSEMessage
from reference_server.upstream.openai_compat import OpenAICompatAdapter
from tests.upstream.loopback import closed_port, loopback, sse
from tests.upstream.scenarios import TOOLS, collect_until_error, hello_request


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


async def test_connection_refused_names_backend_and_url_without_secrets() -> None:
    holder = SessionHolder(HttpTimeouts(connect=2))
    url = f"http://user:hunter2@127.0.0.1:{closed_port()}"
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
