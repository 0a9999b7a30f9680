"""``POST /v1/chat/completions``: the OpenAI-compatible surface over the same call flow as ``/v1/messages``.

The body is validated against the contract's ``ChatCompletionRequest``, translated to Anthropic form at this edge
(the inbound half of ``openai_wire``), routed and captured exactly like a Messages call, and translated back: a
``chat.completion`` object, or ``data:`` chunks ending in ``data: [DONE]`` (with the usage chunk under
``stream_options.include_usage``). Errors keep the gateway's Anthropic envelope, as on every route.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from reference_server.call_flow import CallContext
from reference_server.errors import GatewayError, invalid_request
from reference_server.mutants import mutated
from reference_server.mutants import openai as openai_faults
from reference_server.mutants.faults import StreamFault
from reference_server.openai_wire.common import WireError
from reference_server.openai_wire.inbound_answer import AnthropicEventTranslator, message_to_openai_completion
from reference_server.openai_wire.inbound_request import include_usage_requested, openai_request_to_anthropic
from reference_server.routes.common import (
    call_headers,
    check_directive,
    read_json,
    select_backend,
    upstream_headers,
)
from reference_server.routes.messages import CLIENT_GONE, log, resolve, to_upstream
from reference_server.state import STATE, request_context
from reference_server.validation import validate_body

DEFAULT_MAX_TOKENS = 4096


def _data(chunk: dict[str, Any] | str) -> bytes:
    payload = chunk if isinstance(chunk, str) else json.dumps(chunk, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


async def _write(
    response: web.StreamResponse, chunk: dict[str, Any] | str, fault: StreamFault | None
) -> None:
    if fault is None:
        await response.write(_data(chunk))
        return
    for item in fault.feed(chunk):
        await response.write(item if isinstance(item, bytes) else _data(item))


async def create_chat_completion(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    rctx = request_context(request)
    try:
        body = validate_body("ChatCompletionRequest", await read_json(request))
    except GatewayError as exc:
        if mutated("chat-invalid-is-500") and exc.status == 400:
            raise GatewayError(500, "api_error", "internal gateway error") from None
        if not mutated("openai-errors-openai-shaped"):
            raise
        error = {"message": exc.message, "type": exc.error_type, "param": None, "code": None}
        return web.json_response({"error": error}, status=exc.status)
    try:
        anthropic_body = openai_request_to_anthropic(body, default_max_tokens=DEFAULT_MAX_TOKENS)
    except WireError as exc:
        raise invalid_request(str(exc)) from None
    model = resolve(body["model"])
    adapter = select_backend(request)
    upstream_request = to_upstream(anthropic_body, model, upstream_headers(request, rctx))
    check_directive(upstream_request)
    ctx = CallContext(rctx.request_id, rctx.trace, "/v1/chat/completions", model, adapter)

    if not body.get("stream"):
        msg = await state.flow.complete(ctx, upstream_request)
        return web.json_response(
            message_to_openai_completion(
                msg, model=model.requested if mutated("openai-alias-leak") else model.canonical
            ),
            headers=call_headers(request, rctx, "none"),
        )

    events = await state.flow.open_stream(ctx, upstream_request)
    translator = AnthropicEventTranslator(model=model.canonical, include_usage=include_usage_requested(body))
    response = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            **call_headers(request, rctx, ctx.stream_mode),
        },
    )
    fault = openai_faults.FAULTS.active()  # None unless a stream mutant is switched on
    try:
        await response.prepare(request)
        if fault is None:
            # One write per batch (the events of one upstream read); the last one ends the body.
            while (batch := await events.next_batch()) is not None:
                out = [_data(chunk) for event, _ in batch for chunk in translator.feed(event)]
                if batch[-1][0]["type"] == "message_stop":
                    out.append(_data("[DONE]"))
                    await response.write_eof(b"".join(out))
                    return response
                if out:
                    await response.write(b"".join(out))
            await response.write_eof()
            return response
        finished = False
        async for event in events:
            for chunk in translator.feed(event):
                await _write(response, chunk, fault)
            finished = event["type"] == "message_stop"
        if finished:
            await _write(response, "[DONE]", fault)
        if fault is not None:
            for item in fault.end():
                await response.write(item if isinstance(item, bytes) else _data(item))
        await response.write_eof()
    except CLIENT_GONE:
        log.info("client disconnected mid-stream", extra={"event": "stream.client_gone"})
    finally:
        await events.aclose()
    return response
