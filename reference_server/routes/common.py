"""Request plumbing shared by the call routes: reading a JSON body safely, choosing a backend, response headers."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from reference_server.errors import ClientGone, GatewayError, invalid_request
from reference_server.mutants import mutated
from reference_server.state import STATE, RequestContext
from reference_server.upstream.base import UpstreamAdapter, UpstreamRequest
from reference_server.upstream.scripted import (
    DIRECTIVE_HEADER,
    DirectiveError,
    build_script,
    parse_directives,
)
from reference_server.validation import parse_json

log = logging.getLogger("reference_server.http")

BACKEND_HEADER = "x-ainfera-backend"
AGENT_HEADER = "x-ainfera-agent-id"
_AGENT_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")


async def read_json(request: web.Request) -> Any:
    """The body as JSON, or a clear 4xx: wrong content type (400), too large (413), malformed (400)."""
    if request.content_type != "application/json" and not mutated("content-type-ignored"):
        raise invalid_request("Content-Type must be application/json")
    limit = request.app[STATE].config.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    timeout = request.app[STATE].config.body_timeout_s
    try:
        async with asyncio.timeout(timeout):
            raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large(limit) from None
    except TimeoutError:
        err = GatewayError(408, "invalid_request_error", f"request body not received within {timeout:g} s")
        err.close_connection = True
        raise err from None
    except (RequestPayloadError, HttpProcessingError):
        # A body the HTTP layer cannot decode (a broken chunked encoding, a short Content-Length body at EOF).
        err = invalid_request("request body could not be read: its framing is malformed")
        err.close_connection = True
        raise err from None
    except ConnectionError:
        log.info("client went away while sending its body", extra={"event": "http.client_gone"})
        raise ClientGone() from None
    return parse_json(raw)


def _too_large(limit: int) -> GatewayError:
    if mutated("too-large-is-400"):
        return invalid_request(f"request body exceeds the {limit}-byte limit")
    return GatewayError(413, "request_too_large", f"request body exceeds the {limit}-byte limit")


def select_backend(request: web.Request) -> UpstreamAdapter:
    adapters = request.app[STATE].adapters
    slug = request.headers.get(BACKEND_HEADER)
    if slug is None:  # absent, the router chooses; present but empty names no backend (the contract's enum)
        slug = request.app[STATE].config.default_backend
    if slug not in adapters:
        raise invalid_request(f"{BACKEND_HEADER} must be one of {', '.join(sorted(adapters))}")
    return adapters[slug]


def upstream_headers(request: web.Request, ctx: RequestContext) -> dict[str, str]:
    """What travels upstream besides the body: our trace context, and the scripted upstream's directive."""
    headers = {} if mutated("no-trace-upstream") else {"traceparent": ctx.trace.traceparent}
    directive = request.headers.get(DIRECTIVE_HEADER)
    if directive is not None:
        headers[DIRECTIVE_HEADER] = directive
    return headers


def call_headers(request: web.Request, ctx: RequestContext, stream_mode: str) -> dict[str, str]:
    agent = request.headers.get(AGENT_HEADER, "")
    if mutated("stream-no-audit-header") and stream_mode != "none":
        return {
            "request-id": ctx.request_id,
            "traceparent": ctx.trace.traceparent,
            "x-ainfera-stream-mode": stream_mode,
            "x-ainfera-agent-id": agent if _AGENT_ID.fullmatch(agent) else "anonymous",
        }
    return {
        # Set here, not only by the middleware: a stream's headers leave before the middleware sees the response.
        "request-id": ctx.request_id,
        "traceparent": ctx.trace.traceparent,
        "x-ainfera-stream-mode": stream_mode,
        "x-ainfera-agent-id": agent if _AGENT_ID.fullmatch(agent) else "anonymous",
        "x-ainfera-audit-url": f"/v1/audit/{ctx.request_id}",
    }


def sse_frame(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


def check_directive(request: UpstreamRequest) -> None:
    """A malformed scripted-upstream directive is the client's mistake: a 400 naming the key, not a 500 later."""
    value = request.headers.get(DIRECTIVE_HEADER)
    if value is None:
        return
    try:
        build_script(request, parse_directives(value))
    except DirectiveError as exc:
        raise invalid_request(exc.public) from None
