"""aiohttp's access log as structured JSON log events, without secrets.

aiohttp's default access logger writes the request line, query string included, as text: a client that sends
``?api_key=...`` would have its key in the log. This one never records a query value: it logs the path (scrubbed
by shape, in case a secret was put in the path itself) and the *names* of the query parameters. No route of the
gateway takes query parameters, so their values carry nothing worth the risk. It also leaves out the client's
address (personal data, and not needed to follow a call: the request id and trace id are there for that).
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest

from contracts.scrub import default_scrubber
from reference_server.mutants import mutated
from reference_server.observability.logging_setup import PRESCRUBBED
from reference_server.observability.middleware import route_template
from reference_server.state import REQUEST_CONTEXT

ACCESS_LOGGER = "aiohttp.access"
MAX_QUERY_NAMES = 20


def _route(request: web.Request) -> str | None:
    try:
        return route_template(request)
    except (AssertionError, AttributeError):  # a request rejected before routing has no match info
        return None


class ScrubbingAccessLogger(AbstractAccessLogger):
    """Use as ``web.AppRunner(app, access_log_class=ScrubbingAccessLogger)``."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        # Every field is scrubbed here, once, with the same value rules the JSON formatter would apply (its
        # scrub_value), and the line is marked PRESCRUBBED so the formatter does not walk it all again: one
        # access line per request made that walk a tenth of the gateway's CPU. Keys are this code's own.
        scrubber = default_scrubber()
        path = scrubber.scrub_value(request.path)
        method = scrubber.scrub_value(request.method)  # a client can send any token as the method
        user_agent = request.headers.get("User-Agent")
        extra: dict[str, object] = {
            PRESCRUBBED: True,
            "event": "http.access",
            "method": method,
            "path": path,
            # Names only, scrubbed too (a token can be sent as a bare `?<token>`), and a bounded number of them.
            "query_params": sorted(
                {
                    scrubber.scrub_text(name)
                    for name in (
                        request.query.values() if mutated("access-log-query-values") else request.query
                    )
                }
            )[:MAX_QUERY_NAMES],
            "status": response.status,
            "duration_seconds": round(time, 6),
            "bytes_sent": response.body_length,
            "user_agent": scrubber.scrub_value(user_agent) if user_agent is not None else None,
        }
        if isinstance(request, web.Request):
            extra["route"] = _route(request)
            ctx = request.get(REQUEST_CONTEXT)
            if ctx is not None:
                # The middleware's context is gone by now (the access log runs after it returned): take the
                # ids from the request itself.
                extra["request_id"] = ctx.request_id
                if not mutated("access-log-no-trace-id"):
                    extra["trace_id"] = ctx.trace.trace_id
        # Formatted here from the scrubbed parts (no %-args left for the formatter to scrub again).
        self.logger.info(f"{method} {path} {response.status}", extra=extra)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
