"""A broken copy of the reference gateway with several faults on one operation, for the fuzz tests.

A mutant (``reference_server.mutants``) is one switch per gateway process, so two of them cannot be combined. This
puts a small reverse proxy in front of the embedded reference gateway instead; it passes every call through
unchanged except answers of ``POST /v1/messages``, where it plants faults of different kinds, each one a real
violation of the contract that a different check (or a different part of one check) must report:

- ``header``: a successful answer says ``x-ainfera-stream-mode: sideways`` (the contract's enum is
  native / wrapped / none);
- ``usage``: a successful JSON answer has no ``usage`` (the Message schema requires it);
- ``envelope``: an error answer loses its top-level ``"type": "error"`` (the Anthropic error envelope).

The gateway behind it still captures every call, so the database checks hold, and the proxy keeps the gateway's
``request-id``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
from aiohttp import web

from tests.support.servers import ServerThread

FAULTY = "/v1/messages"
FAULTS = ("header", "usage", "envelope")
# Hop-by-hop headers, and those aiohttp sets itself for the body it sends.
SESSION = web.AppKey("session", aiohttp.ClientSession)
_DROPPED = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


def _broken(status: int, content_type: str, body: bytes, faults: tuple[str, ...]) -> bytes:
    if not content_type.startswith("application/json"):
        return body
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    if not isinstance(doc, dict):
        return body
    if status >= 400 and "envelope" in faults and doc.get("type") == "error":
        doc.pop("type")
    elif 200 <= status < 300 and "usage" in faults:
        doc.pop("usage", None)
    return json.dumps(doc).encode()


def proxy_app(upstream: str, faults: tuple[str, ...]) -> web.Application:
    async def forward(request: web.Request) -> web.StreamResponse:
        session = request.app[SESSION]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        async with session.request(
            request.method,
            upstream + request.rel_url.raw_path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
            auto_decompress=True,
        ) as answer:
            body = await answer.read()
            out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _DROPPED}
            status = answer.status
        if request.method == "POST" and request.path == FAULTY:
            body = _broken(status, answer.content_type, body, faults)
            if 200 <= status < 300 and "header" in faults:
                out_headers["x-ainfera-stream-mode"] = "sideways"
        return web.Response(status=status, body=body, headers=out_headers)

    async def session_context(app: web.Application) -> AsyncIterator[None]:
        app[SESSION] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        yield
        await app[SESSION].close()

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.cleanup_ctx.append(session_context)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


@contextmanager
def faulty_proxy(upstream: str, faults: tuple[str, ...] = FAULTS) -> Iterator[str]:
    """The URL of a proxy to ``upstream`` that plants ``faults`` in the answers of ``POST /v1/messages``."""
    server = ServerThread(lambda: proxy_app(upstream, faults)).start()
    try:
        yield server.url
    finally:
        server.stop()
