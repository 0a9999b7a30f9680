"""The scripted upstream over real HTTP, for adapters and gateways that talk to an upstream over the network.

Routes:
- ``POST /v1/messages``: Anthropic Messages, JSON or SSE (``event: <type>\\ndata: <json>\\n\\n``).
- ``POST /v1/chat/completions``: OpenAI-compatible, JSON or ``data:`` chunks ending ``data: [DONE]``.
- ``GET /_received`` / ``DELETE /_received``: the last 200 requests received (method, path, lower-case
  headers, JSON body), newest last, so tests can check what a gateway sent upstream; DELETE clears them.

Each body is first held to the rules of the provider the route stands for (``provider_rules``): what Anthropic or
OpenAI would refuse (a wrong type, an unknown role or field, a missing field, a value out of range, a model this
upstream does not serve) gets that provider's status and error body, quoting nothing from the request.

Both dialects are read into one ``UpstreamRequest`` (``request_bodies``) and answered from the same ``Script``
as the in-process adapter (``renderings``, ``pacing``, ``corrupt``); errors in the route's dialect come from
``error_bodies``. A scripted drop closes the connection mid-body, with no terminating event and no final chunk.

Run it: ``python -m reference_server.upstream.scripted.server --port 8099``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from reference_server.upstream.base import UpstreamError, UpstreamRequest, error_type_for_status
from reference_server.upstream.scripted.corrupt import ENDLESS_MAX_DELTAS, corrupt_document, hostile_stream
from reference_server.upstream.scripted.engine import Script, build_script
from reference_server.upstream.scripted.error_bodies import (
    anthropic_error,
    anthropic_refusal,
    openai_error,
    openai_refusal,
)
from reference_server.upstream.scripted.pacing import YIELD_EVERY, pace, sleep_for, total_delay, upfront_error
from reference_server.upstream.scripted.provider_rules import (
    ProviderRefusal,
    ServedModels,
    check_anthropic,
    check_openai,
    default_served_models,
)
from reference_server.upstream.scripted.renderings import (
    anthropic_events,
    anthropic_message,
    is_anthropic_delta,
    is_anthropic_end,
    is_openai_delta,
    is_openai_end,
    openai_chunks,
    openai_completion,
)
from reference_server.upstream.scripted.request_bodies import BadRequest, anthropic_request, openai_request

T = TypeVar("T")
RECEIVED_KEY: web.AppKey[deque[dict[str, Any]]] = web.AppKey("received")
SERVED_KEY: web.AppKey[ServedModels] = web.AppKey("served")
RECEIVED_LIMIT = 200

ErrorRenderer = Callable[[int, str, str], web.Response]
RefusalRenderer = Callable[[ProviderRefusal], web.Response]


async def _read_body(request: web.Request) -> dict[str, Any]:
    """Record the request for ``/_received``, then return its JSON object body."""
    raw = await request.read()
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = None
    request.app[RECEIVED_KEY].append(
        {
            "method": request.method,
            "path": request.path,
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "json": body,
        }
    )
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _forwarded_headers(request: web.Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


# --- Handlers -------------------------------------------------------------------------------------


async def _stream(
    request: web.Request,
    paced: Iterable[tuple[float, T]],
    dropped: bool,
    frame: Callable[[T], str],
    trailer: str = "",
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    try:
        for count, (delay, item) in enumerate(paced, 1):
            await sleep_for(delay)
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            await response.write(frame(item).encode())
    except ConnectionError:  # the gateway gave up on the stream (an endless one, say): nothing left to do
        return response
    if dropped:
        # Die like a broken upstream: flush what was sent, then close the socket without the chunked-encoding
        # terminator. aiohttp's final write_eof then meets a closed transport, which it treats as a reset.
        if request.transport is not None:
            request.transport.close()
        return response
    if trailer:
        await response.write(trailer.encode())
    await response.write_eof()
    return response


def _sse(event: dict[str, Any] | str) -> str:
    if isinstance(event, str):  # corrupt=bad_json: the raw data of an event that is not JSON
        return f"event: content_block_delta\ndata: {event}\n\n"
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"


def _data(chunk: dict[str, Any] | str) -> str:
    return f"data: {chunk if isinstance(chunk, str) else json.dumps(chunk)}\n\n"


async def _hostile_document(
    request: web.Request, document: dict[str, Any], kind: str, *, openai: bool
) -> web.StreamResponse:
    """A non-streamed answer as the ``corrupt`` directive wants it; ``endless`` is a JSON body that never ends
    (until ``ENDLESS_MAX_DELTAS`` pieces of it, the upstream's own budget)."""
    if kind != "endless":
        hostile = corrupt_document(document, kind, openai=openai)
        body = hostile if isinstance(hostile, bytes) else json.dumps(hostile).encode()
        return web.Response(body=body, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    try:
        await response.write(b'{"id": "msg_endless", "content": [{"type": "text", "text": "')
        piece = b" amber" * 1024
        for count in range(ENDLESS_MAX_DELTAS // 64):  # 192 MB: past any gateway's read limit
            await response.write(piece)
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
    except ConnectionError:
        return response
    if request.transport is not None:  # the budget is spent: end the way an endless body would, cut off
        request.transport.close()
    return response


async def _answer(
    request: web.Request,
    error: ErrorRenderer,
    refuse: RefusalRenderer,
    check: Callable[[dict[str, Any], ServedModels], None],
    respond: Callable[[dict[str, Any], dict[str, str]], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """What both routes share: read, hold the body to the provider's rules, turn every way of failing before
    the first byte into an error body."""
    try:
        body = await _read_body(request)
        check(body, request.app[SERVED_KEY])
        return await respond(body, _forwarded_headers(request))
    except ProviderRefusal as refusal:
        return refuse(refusal)
    except UpstreamError as exc:
        return error(exc.status, exc.error_type, exc.message)
    except ValueError as exc:  # BadRequest and DirectiveError (which quotes no value, only an unknown key)
        return error(400, error_type_for_status(400), str(exc))


async def _scripted(upstream: UpstreamRequest, *, stream: bool) -> Script:
    """The answer's script; a failure before the first byte is raised (after the first-byte delay)."""
    script = build_script(upstream)
    failure = upfront_error(script.directives, streaming=stream)
    if failure is not None:
        await sleep_for(script.directives.first_byte_ms / 1000)
        raise failure
    return script


async def _document(
    request: web.Request, script: Script, render: Callable[[Script], dict[str, Any]], *, openai: bool
) -> web.StreamResponse:
    """The non-streamed answer, after as long as its stream would take; hostile under ``corrupt``."""
    await sleep_for(total_delay(script))
    kind = script.directives.corrupt
    if kind is not None:
        return await _hostile_document(request, render(script), kind, openai=openai)
    return web.json_response(render(script))


async def messages(request: web.Request) -> web.StreamResponse:
    async def respond(body: dict[str, Any], headers: dict[str, str]) -> web.StreamResponse:
        upstream, stream = anthropic_request(body, headers)
        script = await _scripted(upstream, stream=stream)
        if not stream:
            return await _document(request, script, anthropic_message, openai=False)
        await sleep_for(script.directives.first_byte_ms / 1000)
        events = anthropic_events(script)
        paced, dropped = pace(events, script.directives, is_delta=is_anthropic_delta, is_end=is_anthropic_end)
        hostile = hostile_stream(paced, script.directives.corrupt, openai=False)
        return await _stream(request, hostile, dropped, _sse)

    return await _answer(request, anthropic_error, anthropic_refusal, check_anthropic, respond)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    async def respond(body: dict[str, Any], headers: dict[str, str]) -> web.StreamResponse:
        upstream, stream, include_usage = openai_request(body, headers)
        script = await _scripted(upstream, stream=stream)
        if not stream:
            return await _document(request, script, openai_completion, openai=True)
        await sleep_for(script.directives.first_byte_ms / 1000)
        chunks = openai_chunks(script, include_usage=include_usage)
        paced, dropped = pace(chunks, script.directives, is_delta=is_openai_delta, is_end=is_openai_end)
        kind = script.directives.corrupt
        trailer = "" if kind == "truncate" else "data: [DONE]\n\n"
        hostile = hostile_stream(paced, kind, openai=True)
        return await _stream(request, hostile, dropped, _data, trailer=trailer)

    return await _answer(request, openai_error, openai_refusal, check_openai, respond)


async def received(request: web.Request) -> web.Response:
    log = request.app[RECEIVED_KEY]
    return web.json_response(list(log))


async def clear_received(request: web.Request) -> web.Response:
    request.app[RECEIVED_KEY].clear()
    return web.Response(status=204)


def served_models(models: Iterable[str] = (), *, any_model: bool = False) -> ServedModels:
    """The default served set (``provider_rules.default_served_models``) extended by ``models``; every model
    with ``any_model``."""
    return ServedModels(None if any_model else default_served_models() | frozenset(models))


def build_app(served: ServedModels | None = None) -> web.Application:
    """The app; ``served`` defaults to ``served_models()``."""
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app[RECEIVED_KEY] = deque(maxlen=RECEIVED_LIMIT)
    app[SERVED_KEY] = served if served is not None else served_models()
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/_received", received)
    app.router.add_delete("/_received", clear_received)
    return app


async def start_server(
    host: str = "127.0.0.1", port: int = 0, served: ServedModels | None = None
) -> tuple[web.AppRunner, int]:
    """Start on ``host:port`` (0 picks a free port); returns the runner (``await runner.cleanup()`` stops it)
    and the bound port. ``served``: the models it answers for (``served_models()`` by default)."""
    runner = web.AppRunner(build_app(served), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, int(runner.addresses[0][1])


def run(host: str = "127.0.0.1", port: int = 8099, served: ServedModels | None = None) -> None:
    """Serve until interrupted."""
    web.run_app(build_app(served), host=host, port=port, access_log=None)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="The scripted upstream over HTTP (Anthropic and OpenAI routes)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--model", action="append", default=[], help="also serve this model (repeatable)")
    parser.add_argument("--any-model", action="store_true", help="answer for any model name")
    args = parser.parse_args(argv)
    run(args.host, args.port, served_models(args.model, any_model=args.any_model))


if __name__ == "__main__":
    main()
