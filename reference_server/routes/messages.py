"""``POST /v1/messages``: Anthropic's Messages API, non-streaming and natively streamed."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from reference_server.call_flow import CallContext
from reference_server.errors import GatewayError
from reference_server.models_catalog import CANONICAL_MODEL, ResolvedModel, UnknownModel, resolve_model
from reference_server.mutants import mutated, streams
from reference_server.observability.context import current_scope
from reference_server.routes.common import (
    call_headers,
    check_directive,
    read_json,
    select_backend,
    sse_frame,
    upstream_headers,
)
from reference_server.state import STATE, request_context
from reference_server.upstream.base import UpstreamMessage, UpstreamRequest
from reference_server.validation import validate_body

log = logging.getLogger("reference_server.router")

CLIENT_GONE = (ConnectionResetError, ConnectionError)


def resolve(requested: str) -> ResolvedModel:
    """Resolve the model at the router boundary: a legacy alias becomes the canonical model, silently."""
    try:
        resolved = resolve_model(requested)
    except UnknownModel:
        if mutated("unknown-model-fallback"):
            return ResolvedModel(requested, CANONICAL_MODEL, None)
        raise GatewayError(
            404, "not_found_error", "model not found; GET /v1/models lists the models this gateway serves"
        ) from None
    if resolved.alias is not None:
        # One log event and one counter increment per hit, at the same point, so the two always agree.
        # resolve() is not handed the request; the serving gateway's metrics come with the request's scope.
        log.info("router alias hit", extra={"event": "router.alias_hit", "alias": resolved.alias})
        scope = current_scope()
        if scope is not None and scope.metrics is not None:
            scope.metrics.alias_hit(resolved.alias)
    return resolved


def to_upstream(body: dict[str, Any], model: ResolvedModel, headers: dict[str, str]) -> UpstreamRequest:
    # The upstream sees the canonical model, never the string the client asked for: past the router boundary an
    # alias does not exist (the adapter maps the canonical model to its backend's own model id).
    return UpstreamRequest(
        model=model.canonical,
        # JSON Schema counts 1.0 as an integer; the upstreams want a real one.
        max_tokens=int(body["max_tokens"]),
        messages=body["messages"],
        system=body.get("system"),
        stop_sequences=list(body.get("stop_sequences") or []),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        tools=None if mutated("tools-dropped") else body.get("tools") or None,
        tool_choice=None if mutated("tools-dropped") else body.get("tool_choice"),
        headers=headers,
    )


def message_json(msg: UpstreamMessage, model: str) -> dict[str, Any]:
    out = {
        "id": msg.id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": msg.content,
        "stop_reason": msg.stop_reason,
        "stop_sequence": msg.stop_sequence,
        "usage": {"input_tokens": msg.usage.input_tokens, "output_tokens": msg.usage.output_tokens},
    }
    if mutated("message-drops-null-stop-sequence") and msg.stop_sequence is None:
        del out["stop_sequence"]
    if mutated("nonstream-output-tokens-total"):
        out["usage"] = {
            "input_tokens": msg.usage.input_tokens,
            "output_tokens": msg.usage.input_tokens + msg.usage.output_tokens,
        }
    return out


def _disclosing_headers(body: dict[str, Any], adapter: Any) -> dict[str, str]:
    """Debugging headers a gateway might ship by mistake; only the exposure mutants set them."""
    out: dict[str, str] = {}
    if mutated("metadata-echoed"):
        metadata = body.get("metadata") or {}
        out["x-ainfera-end-user"] = str(metadata.get("user_id", ""))[:200]
    if mutated("upstream-url-disclosed"):
        out["x-upstream-endpoint"] = str(getattr(adapter, "_url", repr(adapter)))
    return out


async def create_message(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    rctx = request_context(request)
    raw = await read_json(request)
    if mutated("max-tokens-defaulted") and isinstance(raw, dict):
        raw.setdefault("max_tokens", 1024)
    body = validate_body("MessagesRequest", raw)
    model = resolve(body["model"])
    adapter = select_backend(request)
    upstream_request = to_upstream(body, model, upstream_headers(request, rctx))
    check_directive(upstream_request)
    ctx = CallContext(rctx.request_id, rctx.trace, "/v1/messages", model, adapter)

    if not body.get("stream"):
        msg = await state.flow.complete(ctx, upstream_request)
        reported = model.requested if mutated("alias-leak") else model.canonical
        headers = {**call_headers(request, rctx, "none"), **_disclosing_headers(body, adapter)}
        return web.json_response(message_json(msg, reported), headers=headers)

    events = await state.flow.open_stream(ctx, upstream_request)
    response = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": "text/plain" if mutated("stream-served-as-text-plain") else "text/event-stream",
            "Cache-Control": "no-cache",
            **call_headers(request, rctx, ctx.stream_mode),
            **_disclosing_headers(body, adapter),
        },
    )
    fault = streams.FAULTS.active()  # None unless a stream mutant is switched on
    try:
        await response.prepare(request)
        if fault is None:
            # One write per batch: the events that came in one upstream read go out in one write.
            while (batch := await events.next_batch()) is not None:
                if len(batch) == 1:
                    event, frame = batch[0]
                    data = frame if frame is not None else sse_frame(event)
                else:
                    data = b"".join(
                        [frame if frame is not None else sse_frame(event) for event, frame in batch]
                    )
                if batch[-1][0]["type"] == "message_stop":
                    # The relay ends with message_stop: send it with the end of the body, in one write.
                    await response.write_eof(data)
                    return response
                await response.write(data)
        else:
            async for event in events:
                for item in fault.feed(event):
                    await response.write(item if isinstance(item, bytes) else sse_frame(item))
            for item in fault.end():
                await response.write(item if isinstance(item, bytes) else sse_frame(item))
        await response.write_eof()
    except CLIENT_GONE:
        log.info("client disconnected mid-stream", extra={"event": "stream.client_gone"})
    finally:
        # Closing the relay is what records a client that went away as client_cancelled.
        await events.aclose()
    return response
