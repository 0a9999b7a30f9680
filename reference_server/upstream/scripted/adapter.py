"""``ScriptedAdapter``: the scripted upstream in-process, behind the same interface as a real backend."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from reference_server.upstream.anthropic_native import decode_message, messages_body
from reference_server.upstream.base import (
    Capabilities,
    StreamEvent,
    UpstreamError,
    UpstreamMessage,
    UpstreamRequest,
    Usage,
)
from reference_server.upstream.scripted.corrupt import corrupt_document, hostile_stream
from reference_server.upstream.scripted.engine import Script, build_script
from reference_server.upstream.scripted.pacing import (
    YIELD_EVERY,
    drop_error,
    pace,
    sleep_for,
    total_delay,
    upfront_error,
)
from reference_server.upstream.scripted.provider_rules import ProviderRefusal, ServedModels, check_anthropic
from reference_server.upstream.scripted.renderings import (
    anthropic_events,
    anthropic_message,
    is_anthropic_delta,
    is_anthropic_end,
    upstream_message,
)

DEFAULT_CAPABILITIES = Capabilities(tools=True, native_streaming=True)
RECEIVED_LIMIT = 200
ANY_MODEL = ServedModels(None)
"""In-process, the request carries the gateway's own model name (there is no upstream model to map it to), so
the served-model rule is left to the HTTP server; every other rule of Anthropic's applies."""


def check_request(request: UpstreamRequest, *, stream: bool) -> None:
    """Hold what the Anthropic adapter would send for ``request`` to Anthropic's rules (``provider_rules``);
    a refusal is the ``UpstreamError`` the adapter would raise for Anthropic's answer."""
    try:
        check_anthropic(messages_body(request, model=request.model, stream=stream), ANY_MODEL)
    except ProviderRefusal as refusal:
        raise UpstreamError(refusal.status, refusal.error_type, refusal.message) from None


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
        check_request(request, stream=False)
        script = build_script(request)
        failure = upfront_error(script.directives, streaming=False)
        if failure is not None:
            await sleep_for(script.directives.first_byte_ms / 1000)
            raise failure
        await sleep_for(total_delay(script))
        if script.directives.corrupt is not None:
            return self._corrupt_message(script)
        return upstream_message(script)

    def _corrupt_message(self, script: Script) -> UpstreamMessage:
        """A hostile answer as an adapter would hand it on: what does not even decode fails as the Anthropic
        adapter fails on it; the rest is handed on as it is, wrong types and all, for the call flow to judge."""
        assert script.directives.corrupt is not None
        document = corrupt_document(anthropic_message(script), script.directives.corrupt, openai=False)
        if isinstance(document, bytes):
            return decode_message(self.slug, document)
        usage = document["usage"]
        return UpstreamMessage(
            id=document["id"],
            content=document["content"],
            stop_reason=document["stop_reason"],
            stop_sequence=document["stop_sequence"],
            usage=Usage(input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"]),
        )

    async def stream_chat(self, request: UpstreamRequest) -> AsyncIterator[StreamEvent]:
        self.received.append(request)
        check_request(request, stream=True)
        script = build_script(request)
        d = script.directives
        await sleep_for(d.first_byte_ms / 1000)
        failure = upfront_error(d, streaming=True)
        if failure is not None:
            raise failure
        paced, dropped = pace(
            anthropic_events(script), d, is_delta=is_anthropic_delta, is_end=is_anthropic_end
        )
        for count, (delay, event) in enumerate(hostile_stream(paced, d.corrupt, openai=False), 1):
            await sleep_for(delay)
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a long unpaced stream must not hold the event loop
            yield event
        if dropped:
            raise drop_error(d)

    async def close(self) -> None:
        """Nothing to release: no connections, no files."""
