"""The request middleware that feeds ``ainfera_http_requests_total`` and
``ainfera_http_request_duration_seconds``.

It is the outermost middleware: it sees the final status after the error middleware rendered any exception, and
its clock covers the whole response, including a stream that runs for minutes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from reference_server.errors import CLIENT_CLOSED
from reference_server.mutants import mutated
from reference_server.observability.metrics import GatewayMetrics

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# CLIENT_CLOSED (499) is the status recorded for a request whose client went away (nginx's convention; no
# response was sent): its handler was cancelled, or it raised errors.ClientGone.


def route_template(request: web.Request) -> str | None:
    """The template of the route the request matched (``/v1/audit/{request_id}``), or None when none did
    (404, 405). Never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


def http_metrics_middleware(metrics: GatewayMetrics) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = CLIENT_CLOSED
            raise
        finally:
            template = route_template(request)
            if template is None and mutated("metrics-raw-path"):
                template = request.path
            agent = request.headers.get("x-ainfera-agent-id") if metrics.agent_label else None
            if metrics.client_label:  # the metrics-client-label mutant: the caller's own request id
                agent = request.headers.get("x-request-id", "none")[:64]
            metrics.observe_request(request.method, template, status, time.perf_counter() - start, agent)

    return middleware
