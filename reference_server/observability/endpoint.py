"""``GET /metrics``: internal, behind ``X-Ainfera-Internal-Key`` (``contracts/openapi-internal.yaml``).

The order is the contract (BRIEF §4): the key is checked first, before anything that could touch the database.
The seed's endpoint declared its database session as a handler dependency, so the framework opened it before the
handler body checked the key; here the check is the handler's first statement, and the only database work a
scrape does (the audit chain head: max(seq), max(created_at), read-only) comes after it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Protocol, runtime_checkable

from aiohttp import web

from reference_server.errors import GatewayError
from reference_server.mutants import mutated
from reference_server.observability.metrics import ScrapeSnapshot
from reference_server.state import STATE, GatewayState

log = logging.getLogger("reference_server.metrics")

INTERNAL_KEY_HEADER = "X-Ainfera-Internal-Key"


@runtime_checkable
class ChainHeadReader(Protocol):
    async def metrics_snapshot(self) -> tuple[int, float | None]: ...


@runtime_checkable
class SessionCounting(Protocol):
    open_sessions: int


def internal_key_matches(presented: str | None, configured: str | None) -> bool:
    """Constant-time comparison of the presented key with the configured one.

    Both sides are digested first: ``hmac.compare_digest`` takes time independent of the contents only for
    inputs of equal length, and comparing fixed-size digests keeps the configured key's length private too.
    """
    if not configured or presented is None:
        return False
    given = hashlib.sha256(presented.encode("utf-8", "surrogateescape")).digest()
    expected = hashlib.sha256(configured.encode("utf-8")).digest()
    return hmac.compare_digest(given, expected)


def check_internal_key(request: web.Request, configured: str | None) -> None:
    if not configured:
        # No key can be right: the endpoint exists (it is in the internal contract) but is closed.
        raise GatewayError(
            401,
            "authentication_error",
            "this gateway was started without an internal key (--internal-key); /metrics is closed",
        )
    presented = request.headers.get(INTERNAL_KEY_HEADER)
    if presented is None and mutated("metrics-open-without-key"):
        return
    if not internal_key_matches(presented, configured):
        raise GatewayError(401, "authentication_error", f"missing or invalid {INTERNAL_KEY_HEADER}")


async def metrics_endpoint(request: web.Request) -> web.Response:
    state = request.app[STATE]
    check_internal_key(request, state.config.internal_key)  # first: nothing above this touches the database
    snapshot = await take_snapshot(state)
    body, content_type = state.metrics.render(snapshot, request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type, "Cache-Control": "no-store"})


async def take_snapshot(state: GatewayState) -> ScrapeSnapshot:
    capture = state.capture
    height: int | None = None
    newest: float | None = None
    read_ok = False
    if isinstance(capture, ChainHeadReader):
        try:
            height, newest = await capture.metrics_snapshot()
            read_ok = True
        except Exception as exc:  # a scrape still reports everything else when the database is down
            log.warning("audit chain head could not be read: %s", exc)
    kill_switch = await capture.kill_switch()
    return ScrapeSnapshot(
        chain_height=height,
        chain_newest_epoch=newest,
        chain_read_ok=read_ok,
        kill_switch=kill_switch,
        dispatch_without_capture=state.flow.dispatch_without_capture,
        # Read after the chain head, so a scrape counts its own connection.
        db_connections_opened=capture.open_sessions if isinstance(capture, SessionCounting) else None,
        now_epoch=time.time(),
    )
