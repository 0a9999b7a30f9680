"""The HTTP edge below the middlewares: what aiohttp's own protocol layer answers, and how long it waits.

A request that aiohttp's HTTP parser refuses (a bare CR, a NUL or a folded line in a header, a header field over
8,190 bytes, a bad byte in the URL, a broken chunked body) never reaches a middleware: aiohttp answers it from
``RequestHandler.handle_error``, by default with a plain-text 400 that quotes the offending line, credentials
included. ``GatewayRequestHandler`` overrides that one hook, so that such a refusal goes through the gateway's
one error path: the Anthropic envelope, a request id in the body and in a ``request-id`` header, and a message
chosen by the kind of fault, never built from the bytes that caused it. The parser's own text is not logged
either (it holds the raw header).

The handler class is aiohttp's to choose (``web.Server.__call__``); ``GatewayApplication`` is the one place
that chooses it, so every runner of ``build_app`` (``serve``, the harness's embedded gateway, the tests) gets
the same edge without knowing about it.

Timeouts (``GatewayConfig.header_timeout_s`` / ``body_timeout_s``): aiohttp's keep-alive timer closes a
connection that has not delivered a complete request head within the timeout of connecting or of its
previous answer (bytes trickling in do not extend it), and the routes read bodies under ``body_timeout_s``
(``routes.common.read_json``); a body no handler reads is drained for at most ``lingering_time`` and dropped.
"""

from __future__ import annotations

import json
import logging
import warnings
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_log import AccessLogger
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from aiohttp.web_request import BaseRequest

from reference_server.errors import GatewayError
from reference_server.mutants import mutated

log = logging.getLogger("reference_server.http")

# Most specific first: the first class the exception is an instance of names the fault. Every message is
# fixed text: the parser's own message quotes the raw line, and that is exactly what must not come back.
_PARSER_FAULTS: tuple[tuple[type[BaseException], str], ...] = (
    (http_exceptions.LineTooLong, "a request line or header field is longer than the gateway accepts"),
    (http_exceptions.InvalidURLError, "the request target is not a valid URL"),
    (http_exceptions.InvalidHeader, "a header name or value holds a character HTTP does not allow"),
    (http_exceptions.BadHttpMethod, "the request method is not a valid HTTP method"),
    (http_exceptions.BadStatusLine, "the request line is malformed"),
    (http_exceptions.TransferEncodingError, "the request body's transfer encoding is malformed"),
    (http_exceptions.ContentLengthError, "the request body does not match its Content-Length"),
    (http_exceptions.ContentEncodingError, "the request body's content encoding is malformed"),
    (http_exceptions.BadHttpMessage, "the request is not well-formed HTTP/1.1"),
)


def parser_fault(exc: BaseException | None) -> str:
    for kind, text in _PARSER_FAULTS:
        if isinstance(exc, kind):
            return text
    return "the request is not well-formed HTTP/1.1"


def refusal_error(status: int, exc: BaseException | None) -> GatewayError:
    """The gateway's error for a request its HTTP layer refused (or, status >= 500, failed outside every
    middleware)."""
    if status >= 500:
        return GatewayError(500, "api_error", "internal gateway error")
    return GatewayError(400, "invalid_request_error", f"malformed HTTP request: {parser_fault(exc)}")


class GatewayRequestHandler(RequestHandler):
    """aiohttp's connection protocol, with the gateway's answer for what its parser refuses."""

    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if mutated("parser-refusal-echoes"):
            return super().handle_error(request, status, exc, message)
        from reference_server.app import new_request_id  # app imports this module

        request_id = new_request_id()
        if status >= 500:
            log.error(
                "request failed outside the middlewares",
                exc_info=exc,
                extra={"event": "http.unhandled", "request_id": request_id},
            )
        else:
            # The client's fault, and the parser's message quotes the raw line: log the kind of fault only.
            log.info(
                "refused a request the HTTP parser could not read",
                extra={
                    "event": "http.parser_refused",
                    "request_id": request_id,
                    "fault": type(exc).__name__ if exc is not None else "unknown",
                },
            )
        if request.writer.output_size > 0:
            # Part of an answer has gone out already: the connection is broken, as aiohttp says.
            raise ConnectionError("response already started; cannot send an error answer")
        err = refusal_error(status, exc)
        response = web.Response(
            status=err.status,
            body=json.dumps(err.body(request_id)).encode(),
            content_type="application/json",
            headers={"request-id": request_id},
        )
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp logs a body it could not finish draining after an answer (a broken chunked encoding, a bad
        content encoding, a client gone) as an unhandled exception; it is the client's fault, and the connection
        is closed already: one line at INFO, without the parser's message (it may quote the body)."""
        exc = kw.get("exc_info")
        if isinstance(exc, RequestPayloadError | http_exceptions.HttpProcessingError | ConnectionError):
            log.info(
                "closed a connection whose request body could not be read",
                extra={"event": "http.body_unreadable", "fault": type(exc).__name__},
            )
            return
        super().log_exception(*args, **kw)


class GatewayServer(web.Server):
    """``web.Server`` whose connections are ``GatewayRequestHandler``s."""

    def __call__(self) -> RequestHandler:
        return GatewayRequestHandler(self, loop=self._loop, **self._kwargs)


# aiohttp discourages subclassing Application (a DeprecationWarning at class creation) because its internals
# may change; this subclass overrides one factory method and nothing else, so the warning is acknowledged here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)

    class GatewayApplication(web.Application):
        """``web.Application`` that serves its connections with ``GatewayRequestHandler``."""

        def _make_handler(
            self,
            *,
            loop: Any = None,
            access_log_class: type[AbstractAccessLogger] = AccessLogger,
            **kwargs: Any,
        ) -> web.Server:
            server = super()._make_handler(loop=loop, access_log_class=access_log_class, **kwargs)
            return GatewayServer(
                server.request_handler,
                request_factory=server.request_factory,
                handler_cancellation=server.handler_cancellation,
                loop=server._loop,
                **server._kwargs,
            )


def handler_args(header_timeout_s: float, body_timeout_s: float) -> dict[str, Any]:
    """The protocol settings of the timeouts (see the module docstring)."""
    return {"keepalive_timeout": header_timeout_s, "lingering_time": min(10.0, body_timeout_s)}
