"""What the routes share, stored on the aiohttp application under typed keys."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

from reference_server.call_flow import CallFlow
from reference_server.capture.types import CaptureStore
from reference_server.config import GatewayConfig
from reference_server.observability.metrics import GatewayMetrics
from reference_server.trace import TraceContext
from reference_server.upstream.base import UpstreamAdapter


@dataclass
class GatewayState:
    config: GatewayConfig
    adapters: dict[str, UpstreamAdapter]
    capture: CaptureStore
    flow: CallFlow
    metrics: GatewayMetrics


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    trace: TraceContext


STATE = web.AppKey("gateway_state", GatewayState)
REQUEST_CONTEXT = web.RequestKey("gateway_request_context", RequestContext)


def request_context(request: web.Request) -> RequestContext:
    return request[REQUEST_CONTEXT]


def constant_time_in(candidate: str, allowed: tuple[str, ...]) -> bool:
    """Compare against every allowed key in constant time (no early exit that would leak which one matched).

    A header value aiohttp could not decode as UTF-8 arrives with its bytes kept as lone surrogates
    (``surrogateescape``): encoded back the same way it is the bytes the client sent, which match no key."""
    given = candidate.encode("utf-8", "surrogateescape")
    ok = False
    for key in allowed:
        ok |= hmac.compare_digest(given, key.encode("utf-8", "surrogateescape"))
    return ok
