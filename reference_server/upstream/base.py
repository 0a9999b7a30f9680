"""The one interface every upstream backend implements.

The gateway's internal lingua franca is Anthropic's Messages format: requests reach adapters as an
``UpstreamRequest`` in Anthropic form, non-streaming answers come back as an ``UpstreamMessage`` in Anthropic form,
and streams come back as Anthropic-shaped event dicts (``message_start`` … ``message_stop``). An adapter for another
dialect (OpenAI-compatible) translates at its own edge, so the routes never see a foreign shape.

Failures are exceptions: ``UpstreamError`` raised before the first event is an HTTP error for the client; raised
while iterating a stream, it becomes one ``error`` event and the end of that stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

# The contract's status -> error type map, which the adapters fold upstream errors into (re-exported for them).
from contracts.envelopes import ERROR_TYPE_BY_STATUS as ERROR_TYPE_BY_STATUS
from contracts.envelopes import error_type_for_status as error_type_for_status

StreamEvent = dict[str, Any]
"""One Anthropic-shaped stream event: ``{"type": "content_block_delta", "index": 0, "delta": {...}}``."""

StreamItem = tuple[StreamEvent, bytes | None]
"""An event with, when the adapter has it, its finished SSE frame (``event: …\ndata: …\n\n``) built from the
upstream's own bytes, for an event passed through unchanged: the route then writes it without re-encoding."""


@dataclass(frozen=True)
class Capabilities:
    tools: bool
    """The backend accepts ``tools``/``tool_choice`` and can answer with ``tool_use`` blocks."""
    native_streaming: bool
    """The backend streams deltas as they are produced (else the gateway replays a finished call)."""


@dataclass
class UpstreamRequest:
    """A validated request in Anthropic form, addressed to one backend."""

    model: str
    max_tokens: int
    messages: list[dict[str, Any]]
    system: str | list[dict[str, Any]] | None = None
    stop_sequences: list[str] = field(default_factory=list)
    temperature: float | None = None
    top_p: float | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """Headers to send upstream: ``traceparent`` and the scripted upstream's directive header."""


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass
class UpstreamMessage:
    """A finished call in Anthropic form."""

    id: str
    content: list[dict[str, Any]]
    stop_reason: str
    stop_sequence: str | None
    usage: Usage


class UpstreamError(Exception):
    """The upstream failed. ``status``/``error_type`` follow Anthropic's error taxonomy (429 rate_limit_error,
    500 api_error, 529 overloaded_error, ...). ``dropped`` marks a connection lost mid-stream."""

    def __init__(self, status: int, error_type: str, message: str, *, dropped: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.dropped = dropped


@runtime_checkable
class UpstreamAdapter(Protocol):
    slug: str
    capabilities: Capabilities

    async def chat(self, request: UpstreamRequest) -> UpstreamMessage: ...

    def stream_chat(self, request: UpstreamRequest) -> AsyncIterator[StreamEvent]: ...

    async def close(self) -> None: ...
