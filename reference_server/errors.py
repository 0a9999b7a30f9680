"""Anthropic-shaped errors: ``{"type": "error", "error": {"type": ..., "message": ...}}`` with a matching status.

Every failure path in the gateway raises ``GatewayError``; one middleware renders it. Messages are written by the
gateway itself and never interpolate client-supplied values, so no error body can echo a secret the client sent.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from reference_server.mutants import mutated


class GatewayError(Exception):
    def __init__(self, status: int, error_type: str, message: str, **extra: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.extra = extra
        self.close_connection = False
        """Close the connection after this answer (a body that never finished arriving, say)."""

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message, **self.extra}
        body: dict[str, Any] = {"type": "error", "error": error}
        if mutated("flat-error-envelope"):
            del body["type"]
        if request_id:
            body["request_id"] = request_id
        return body


CLIENT_CLOSED = 499
"""The status of a request whose client went away before it was answered (nginx's convention). Nothing is sent;
the status is what the metrics and the access log record: a client event, not a server error."""


class ClientGone(GatewayError):
    """The client closed the connection before the gateway could answer (while it was still sending its body)."""

    def __init__(self) -> None:
        super().__init__(CLIENT_CLOSED, "invalid_request_error", "the client closed the connection")
        self.close_connection = True


def invalid_request(message: str) -> GatewayError:
    return GatewayError(400, "invalid_request_error", message)


def error_response(
    err: GatewayError, request_id: str | None, headers: dict[str, str] | None = None
) -> web.Response:
    response = web.Response(
        status=err.status,
        body=json.dumps(err.body(request_id)).encode(),
        content_type="application/json",
        headers=headers,
    )
    if err.close_connection:
        response.force_close()
    return response
