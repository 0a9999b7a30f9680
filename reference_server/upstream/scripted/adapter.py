"""``ScriptedAdapter``: the scripted upstream in-process, behind the same interface as a real backend."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from reference_server.upstream.base import Capabilities, StreamEvent, UpstreamMessage, UpstreamRequest
from reference_server.upstream.scripted.engine import (
    anthropic_events,
    build_script,
    drop_error,
    is_anthropic_delta,
    is_anthropic_end,
    pace,
    total_delay,
    upfront_error,
    upstream_message,
)

DEFAULT_CAPABILITIES = Capabilities(tools=True, native_streaming=True)
RECEIVED_LIMIT = 200


async def _sleep(seconds: float) -> None:
    # Skip the zero-length sleeps of the default script; a positive one is the simulated upstream's latency.
    if seconds > 0:
        await asyncio.sleep(seconds)


class ScriptedAdapter:
    """A deterministic, offline backend driven by the ``X-Upstream-Script`` header in ``request.headers``.

    A bad directive raises ``DirectiveError`` (a ``ValueError``) from ``chat()`` or from the first step of
    ``stream_chat()``; the gateway answers it with a 400. ``received`` keeps the last 200 requests, newest
    last, so tests can check what the gateway forwarded (headers such as ``traceparent``, tools, ...).
    """

    def __init__(self, slug: str = "scripted", capabilities: Capabilities = DEFAULT_CAPABILITIES) -> None:
        self.slug = slug
        self.capabilities = capabilities
        self.received: deque[UpstreamRequest] = deque(maxlen=RECEIVED_LIMIT)

    async def chat(self, request: UpstreamRequest) -> UpstreamMessage:
        self.received.append(request)
        script = build_script(request)
        failure = upfront_error(script.directives, streaming=False)
        if failure is not None:
            await _sleep(script.directives.first_byte_ms / 1000)
            raise failure
        await _sleep(total_delay(script))
        return upstream_message(script)

    async def stream_chat(self, request: UpstreamRequest) -> AsyncIterator[StreamEvent]:
        self.received.append(request)
        script = build_script(request)
        d = script.directives
        await _sleep(d.first_byte_ms / 1000)
        failure = upfront_error(d, streaming=True)
        if failure is not None:
            raise failure
        paced, dropped = pace(
            anthropic_events(script), d, is_delta=is_anthropic_delta, is_end=is_anthropic_end
        )
        for delay, event in paced:
            await _sleep(delay)
            yield event
        if dropped:
            raise drop_error(d)

    async def close(self) -> None:
        """Nothing to release: no connections, no files."""
