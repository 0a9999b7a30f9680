"""Timing and failures (``reference_server/upstream/scripted/pacing.py``) through the in-process adapter:
``error=N`` before the first event, ``drop_after=N`` mid-stream, latency and first byte as lower bounds; and
what the adapter records of the requests it got."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reference_server.upstream.base import ERROR_TYPE_BY_STATUS, UpstreamError
from reference_server.upstream.scripted import ScriptedAdapter
from tests.upstream.scripted.support import ERROR_STATUSES, make_request


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
