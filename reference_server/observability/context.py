"""What the code handling one request can reach without being handed the request: its ids, for every log line,
and the metrics of the gateway serving it.

The request middleware binds a :class:`RequestScope` for the duration of the request; asyncio copies context
variables into the tasks a request starts (``asyncio.shield``, ``create_task``), so the scope follows the call
into them and never leaks into another request's task.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reference_server.observability.metrics import GatewayMetrics


@dataclass(frozen=True)
class RequestScope:
    request_id: str
    trace_id: str
    span_id: str
    metrics: GatewayMetrics | None = None


_SCOPE: ContextVar[RequestScope | None] = ContextVar("gateway_request_scope", default=None)


def current_scope() -> RequestScope | None:
    return _SCOPE.get()


@contextmanager
def request_scope(scope: RequestScope) -> Iterator[RequestScope]:
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)
