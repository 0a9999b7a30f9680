"""Assemble the reference gateway: middlewares, routes, upstream adapters and the capture store."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from reference_server.call_flow import CallFlow
from reference_server.capture.types import CaptureStore
from reference_server.config import GatewayConfig
from reference_server.errors import GatewayError, error_response
from reference_server.http_edge import GatewayApplication, handler_args
from reference_server.models_catalog import LEGACY_ALIASES
from reference_server.mutants import active_mutant, mutated
from reference_server.observability.context import RequestScope, request_scope
from reference_server.observability.endpoint import metrics_endpoint
from reference_server.observability.metrics import GatewayMetrics
from reference_server.observability.middleware import http_metrics_middleware
from reference_server.routes import audit, discovery, messages
from reference_server.state import REQUEST_CONTEXT, STATE, GatewayState, RequestContext, constant_time_in
from reference_server.trace import from_header
from reference_server.upstream.base import UpstreamAdapter

log = logging.getLogger("reference_server.app")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Routes that need a client credential. Discovery, health and the contract document are public.
_AUTHENTICATED_PREFIX = "/v1/"


def new_request_id() -> str:
    """``req_`` and 24 hex digits, as the contract's pattern has it: the time in milliseconds (12 digits), then
    48 random bits (12 digits).

    Time first, so that ids sort by when the call came in. Every capture table has an index on ``request_id``;
    an id that lands at the right edge of the index joins pages the same commit already writes, where a random
    id dirties a page of its own anywhere in the index, one more page for the WAL and the checkpoint to copy.
    ``python -m benchmarks.capture_store`` measures both (docs/benchmarks.md). 48 random bits per millisecond
    keep ids unguessable and, with the unique constraints behind them, unique; an id now tells the time of its
    call to the millisecond, as the response's Date header already does.
    """
    return f"req_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


@web.middleware
async def context_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request its id and trace context first, so that every later step (errors included) has them."""
    ctx = RequestContext(new_request_id(), from_header(request.headers.get("traceparent")))
    request[REQUEST_CONTEXT] = ctx
    ids = {"request-id": ctx.request_id, "traceparent": ctx.trace.traceparent}
    # Every log line of the call, in this task and in any it starts, carries the request and trace ids.
    scope = RequestScope(ctx.request_id, ctx.trace.trace_id, ctx.trace.span_id, request.app[STATE].metrics)
    with request_scope(scope):
        try:
            response = await handler(request)
        except GatewayError as exc:
            return error_response(exc, ctx.request_id, ids)
        except web.HTTPException as exc:
            # RFC 9110: a 405 names the allowed methods; aiohttp's exception carries them in its Allow header.
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
            return error_response(_from_http_exception(exc), ctx.request_id, {**ids, **allow})
        except Exception:
            log.exception("unhandled error", extra={"request_id": ctx.request_id})
            return error_response(
                GatewayError(500, "api_error", "internal gateway error"), ctx.request_id, ids
            )
    if not response.prepared:
        response.headers.update(ids)
    return response


def _from_http_exception(exc: web.HTTPException) -> GatewayError:
    if exc.status == 404:
        return GatewayError(404, "not_found_error", "no such route; GET /openapi.json lists the routes")
    if exc.status == 405:
        return GatewayError(405, "invalid_request_error", "method not allowed on this route")
    if exc.status == 413:
        return GatewayError(413, "request_too_large", "request body too large")
    if 400 <= exc.status < 500:
        return GatewayError(exc.status, "invalid_request_error", exc.reason)
    return GatewayError(500, "api_error", "internal gateway error")


@web.middleware
async def client_auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Clients authenticate like Anthropic's SDKs do: ``x-api-key`` (SDK 1.x) or ``Authorization: Bearer`` (2.x)."""
    if request.path.startswith(_AUTHENTICATED_PREFIX):
        key = request.headers.get("x-api-key", "")
        auth = request.headers.get("authorization", "")
        if not key and auth[:7].lower() == "bearer " and not mutated("bearer-auth-ignored"):
            key = auth[7:].strip()
        if not key and mutated("missing-key-accepted"):
            return await handler(request)
        if not key:
            raise GatewayError(
                401, "authentication_error", "missing API key: send x-api-key or Authorization: Bearer"
            )
        allowed = request.app[STATE].config.client_keys
        if allowed and not constant_time_in(key, allowed) and not mutated("unknown-key-accepted"):
            raise GatewayError(401, "authentication_error", "invalid API key")
    return await handler(request)


async def _redirect_to_slash(request: web.Request) -> web.StreamResponse:
    """The metrics-redirect mutant: the endpoint moved to a trailing slash behind a permanent redirect."""
    return web.Response(status=308, headers={"Location": request.path + "/"})


def build_adapters(config: GatewayConfig) -> dict[str, UpstreamAdapter]:
    from reference_server.upstream.http_session import SessionHolder
    from reference_server.upstream.registry import build_http_adapters, build_scripted_adapters

    adapters: dict[str, UpstreamAdapter] = {}
    overrides: dict[str, str] = {}
    for spec in config.upstreams:
        if spec == "scripted":
            adapters.update(build_scripted_adapters())
        elif "=" in spec:
            slug, url = spec.split("=", 1)
            overrides[slug] = url
        else:
            overrides["*"] = spec
    if overrides:
        adapters.update(build_http_adapters(overrides, SessionHolder()))
    return adapters


def build_capture(config: GatewayConfig) -> CaptureStore:
    from reference_server.capture.store import SqlCaptureStore

    return SqlCaptureStore(config.db_url, kill_switch_threshold_usd=config.kill_switch_usd)


def build_app(
    config: GatewayConfig,
    *,
    adapters: dict[str, UpstreamAdapter] | None = None,
    capture: CaptureStore | None = None,
    migrate: bool = True,
) -> web.Application:
    active_mutant()  # an unknown mutant name fails start-up instead of silently running the reference
    from reference_server import __version__

    store = capture if capture is not None else build_capture(config)
    backends = adapters if adapters is not None else build_adapters(config)
    metrics = GatewayMetrics(version=__version__, providers=backends, aliases=LEGACY_ALIASES)
    # GatewayApplication: what aiohttp's HTTP parser refuses goes through the gateway's error path too, and the
    # protocol's timers bound how long a connection may take to send its request (reference_server.http_edge).
    app = GatewayApplication(
        # The metrics middleware is outermost: it sees the status the error middleware finally rendered.
        middlewares=[http_metrics_middleware(metrics), context_middleware, client_auth_middleware],
        client_max_size=config.max_body_bytes,
        handler_args=handler_args(config.header_timeout_s, config.body_timeout_s),
    )
    state = GatewayState(
        config=config,
        adapters=backends,
        capture=store,
        flow=CallFlow(store, metrics),
        metrics=metrics,
    )
    app[STATE] = state

    app.router.add_post("/v1/messages", messages.create_message)
    from reference_server.routes import chat_completions

    app.router.add_post("/v1/chat/completions", chat_completions.create_chat_completion)
    app.router.add_get("/v1/models", discovery.list_models)
    app.router.add_get("/v1/audit/{request_id}", audit.audit_events)
    app.router.add_get("/.well-known/agent-card.json", discovery.agent_card)
    app.router.add_get("/llms.txt", discovery.llms_txt)
    app.router.add_get("/healthz", discovery.healthz)
    app.router.add_get("/openapi.json", discovery.openapi)
    # Internal (contracts/openapi-internal.yaml), not in the public document; behind X-Ainfera-Internal-Key.
    if mutated("metrics-redirect"):
        app.router.add_get("/metrics", _redirect_to_slash)
        app.router.add_get("/metrics/", metrics_endpoint)
    else:
        app.router.add_get("/metrics", metrics_endpoint)

    async def on_startup(app: web.Application) -> None:
        if migrate:
            # The gateway upgrades its database to head before it takes a call (issue: capture, migrations).
            from reference_server.db import ops

            await ops.upgrade(config.db_url)
            await ops.seed(config.db_url)
        await state.capture.start()

    async def on_cleanup(app: web.Application) -> None:
        for adapter in state.adapters.values():
            await adapter.close()
        await state.capture.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
