"""The Anthropic-native adapter: the gateway's internal form is Anthropic's, so requests and events pass
through almost untouched. What it adds is the transport (pooled session, SSE decoding as bytes arrive) and the
failure mapping onto ``UpstreamError``."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp

from .answer_check import MAX_ANSWER_BYTES, MAX_STREAM_BYTES, InvalidAnswer
from .base import (
    Capabilities,
    StreamEvent,
    StreamItem,
    UpstreamError,
    UpstreamMessage,
    UpstreamRequest,
    Usage,
)
from .finish_reasons import ANTHROPIC_STOP_REASONS
from .http_session import (
    BatchedEventStream,
    SessionHolder,
    SSEDecoder,
    SSEError,
    SSEMessage,
    endpoint,
    error_from_response,
    forwarded_headers,
    http_error,
    network_error,
    post,
    read_bounded,
    status_for_error_type,
    stream_ended_early,
)

ANTHROPIC_VERSION = "2023-06-01"

# The events the gateway's grammar knows. ``ping`` is dropped (the gateway keeps its own connection alive),
# and so are event types Anthropic may add later, as its versioning policy asks clients to do.
_FORWARDED_EVENTS = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    }
)

# Events forwarded exactly as the upstream sent them (neither this adapter nor the call flow changes them), so
# their frame can be built from the upstream's own data instead of a decode/re-encode round trip.
_PASSED_THROUGH = frozenset(
    {"content_block_start", "content_block_delta", "content_block_stop", "message_stop"}
)

# Stop reasons newer than the gateway's vocabulary, folded onto the closest one it has.
_STOP_REASON_ALIASES = {"model_context_window_exceeded": "max_tokens"}


def normalize_stop_reason(stop_reason: Any, stop_sequence: Any) -> tuple[str, str | None]:
    reason = _STOP_REASON_ALIASES.get(str(stop_reason), str(stop_reason))
    if reason not in ANTHROPIC_STOP_REASONS:
        reason = "end_turn"
    if reason == "stop_sequence":
        return reason, stop_sequence if isinstance(stop_sequence, str) else ""
    return reason, None


def decode_message(slug: str, raw: bytes) -> UpstreamMessage:
    """An Anthropic ``Message`` body as an ``UpstreamMessage``, or ``InvalidAnswer`` when it is not one. (The
    call flow then holds the message to the contract: ``answer_check.check_message``.)"""
    try:
        payload = json.loads(raw)
        usage = payload["usage"]
        content = payload["content"]
        if not isinstance(content, list) or not all(isinstance(block, dict) for block in content):
            raise TypeError("content is not a list of blocks")
        stop_reason, stop_sequence = normalize_stop_reason(
            payload["stop_reason"], payload.get("stop_sequence")
        )
        return UpstreamMessage(
            id=str(payload["id"]),
            content=content,
            stop_reason=stop_reason,
            stop_sequence=stop_sequence,
            usage=Usage(
                input_tokens=_count(usage["input_tokens"]), output_tokens=_count(usage["output_tokens"])
            ),
        )
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise InvalidAnswer(slug, "the message is not well-formed") from exc


def _count(value: Any) -> int:
    """A token count: an integer (not a numeric string, not a float, not a boolean)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("a token count is not an integer")
    return value


ANTHROPIC_MAX_TEMPERATURE = 1.0


def messages_body(request: UpstreamRequest, *, model: str, stream: bool) -> dict[str, Any]:
    """The ``POST /v1/messages`` body for ``request``."""
    body: dict[str, Any] = {"model": model, "max_tokens": request.max_tokens, "messages": request.messages}
    if request.system is not None:
        body["system"] = request.system
    if request.stop_sequences:
        body["stop_sequences"] = request.stop_sequences
    if request.temperature is not None:
        # OpenAI's temperature runs to 2, Anthropic's to 1: a chat completion routed to an Anthropic backend
        # gets the nearest value the provider accepts rather than its 400.
        body["temperature"] = min(request.temperature, ANTHROPIC_MAX_TEMPERATURE)
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.tools:
        body["tools"] = request.tools
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
    if stream:
        body["stream"] = True
    return body


class AnthropicAdapter:
    def __init__(
        self,
        slug: str,
        base_url: str,
        api_key: str,
        capabilities: Capabilities,
        session_holder: SessionHolder,
        upstream_model: str | None = None,
    ) -> None:
        self.slug = slug
        self.capabilities = capabilities
        self.upstream_model = upstream_model
        self._url = endpoint(base_url, "/v1/messages")
        self._api_key = api_key
        self._holder = session_holder

    def __repr__(self) -> str:  # no key in reprs, logs or tracebacks
        return f"AnthropicAdapter(slug={self.slug!r}, url={self._url!r})"

    async def chat(self, request: UpstreamRequest) -> UpstreamMessage:
        response = await self._send(request, stream=False)
        async with response:
            if response.status != 200:
                raise await error_from_response(self.slug, response, anthropic=True)
            raw = await read_bounded(self.slug, self._url, response, MAX_ANSWER_BYTES)
        return self._message(raw)

    def stream_chat(self, request: UpstreamRequest) -> BatchedEventStream:
        return BatchedEventStream(self._stream_batches(request))

    async def _stream_batches(self, request: UpstreamRequest) -> AsyncGenerator[list[StreamItem], None]:
        response = await self._send(request, stream=True)
        async with response:
            if response.status != 200:
                raise await error_from_response(self.slug, response, anthropic=True)
            if "text/event-stream" not in response.headers.get("Content-Type", ""):
                raise InvalidAnswer(self.slug, "a stream was asked for and the answer is not an event stream")
            decoder = SSEDecoder()
            received = 0
            try:
                async for chunk in response.content.iter_any():
                    received += len(chunk)
                    if received > MAX_STREAM_BYTES:
                        raise InvalidAnswer(self.slug, f"the stream is longer than {MAX_STREAM_BYTES} bytes")
                    batch, failure, done = self._batch(decoder.feed(chunk), request)
                    if batch:
                        yield batch
                    if failure is not None:
                        raise failure
                    if done:
                        return  # anything after message_stop is not ours to forward
                batch, failure, done = self._batch(decoder.feed_eof(), request)
                if batch:
                    yield batch
                if failure is not None:
                    raise failure
                if done:
                    return
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise network_error(self.slug, self._url, exc, dropped=True) from exc
            except SSEError as exc:
                raise InvalidAnswer(self.slug, str(exc)) from exc
        raise stream_ended_early(self.slug, "message_stop")

    def _batch(
        self, messages: list[SSEMessage], request: UpstreamRequest
    ) -> tuple[list[StreamItem], UpstreamError | None, bool]:
        """The forwarded events of one read, then the failure that cut it short (the events before it are still
        delivered first), and whether ``message_stop`` ended it."""
        batch: list[StreamItem] = []
        for message in messages:
            data = message.data
            try:
                event = self._event(data)
            except UpstreamError as exc:
                return batch, exc, False
            kind = event.get("type")
            if kind == "error":
                return batch, self._stream_error(event), False
            if kind not in _FORWARDED_EVENTS:
                continue
            assert isinstance(kind, str)
            if kind in _PASSED_THROUGH and "\n" not in data:
                batch.append((event, b"event: " + kind.encode() + b"\ndata: " + data.encode() + b"\n\n"))
            else:
                batch.append((self._rewrite(event, request), None))
            if kind == "message_stop":
                return batch, None, True
        return batch, None, False

    async def close(self) -> None:
        await self._holder.close()

    # --- helpers -------------------------------------------------------------------------------------------

    async def _send(self, request: UpstreamRequest, *, stream: bool) -> aiohttp.ClientResponse:
        if request.tools and not self.capabilities.tools:
            # The gateway answers 422 before dispatch; this only guards against sending tools regardless.
            raise UpstreamError(400, "invalid_request_error", f"backend '{self.slug}' does not support tools")
        headers = forwarded_headers(request.headers)
        headers.update(
            {
                "anthropic-version": ANTHROPIC_VERSION,
                "content-type": "application/json",
                "accept": "text/event-stream" if stream else "application/json",
            }
        )
        if self._api_key:
            headers["x-api-key"] = self._api_key
        body = json.dumps(self._body(request, stream=stream), ensure_ascii=False).encode()
        return await post(self._holder, self.slug, self._url, body, headers)

    def _body(self, request: UpstreamRequest, *, stream: bool) -> dict[str, Any]:
        return messages_body(request, model=self.upstream_model or request.model, stream=stream)

    def _message(self, raw: bytes) -> UpstreamMessage:
        return decode_message(self.slug, raw)

    def _event(self, data: str) -> dict[str, Any]:
        try:
            event = json.loads(data)
        except (ValueError, RecursionError):
            event = None
        if not isinstance(event, dict):
            raise InvalidAnswer(self.slug, "a stream event is not a JSON object")
        return event

    def _rewrite(self, event: StreamEvent, request: UpstreamRequest) -> StreamEvent:
        kind = event["type"]
        if kind == "message_start" and isinstance(event.get("message"), dict):
            # Report the model the gateway was asked for, never the provider's own model id.
            event["message"]["model"] = request.model
        elif kind == "message_delta" and isinstance(event.get("delta"), dict):
            delta = event["delta"]
            delta["stop_reason"], delta["stop_sequence"] = normalize_stop_reason(
                delta.get("stop_reason"), delta.get("stop_sequence")
            )
        return event

    def _stream_error(self, event: Mapping[str, Any]) -> UpstreamError:
        error = event.get("error")
        error = error if isinstance(error, Mapping) else {}
        kind = error.get("type")
        error_type = kind if isinstance(kind, str) else "api_error"
        status = status_for_error_type(error_type) or 500
        return http_error(self.slug, status, error.get("message"), error_type, in_stream=True)
