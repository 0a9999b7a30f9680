"""The ceiling: a bare aiohttp pass-through proxy, run as a process of its own.

It relays ``POST /v1/messages`` (and the scripted upstream's directive header) to the upstream and the answer
back, an event stream chunk by chunk as it arrives; no validation, routing, capture or logging. Whatever an
aiohttp gateway does per call comes on top of this.

Run (what :func:`proxy_command` starts): ``python -m benchmarks.support.proxy UPSTREAM_URL [--loop LOOP]``
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from benchmarks.support.processes import LOOPS, run_on_loop, serve_until_stopped


def proxy_app(upstream_url: str) -> web.Application:
    session_key = web.AppKey("session", aiohttp.ClientSession)

    async def relay(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {"content-type": "application/json"}
        if "x-upstream-script" in request.headers:
            headers["x-upstream-script"] = request.headers["x-upstream-script"]
        session = request.app[session_key]
        async with session.post(f"{upstream_url}/v1/messages", data=body, headers=headers) as upstream:
            content_type = upstream.headers.get("Content-Type", "application/json")
            if not content_type.startswith("text/event-stream"):
                payload = await upstream.read()
                return web.Response(status=upstream.status, body=payload, content_type="application/json")
            response = web.StreamResponse(
                status=upstream.status, headers={"Content-Type": content_type, "Cache-Control": "no-cache"}
            )
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    async def session_context(app: web.Application) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=256, limit_per_host=256)
        async with aiohttp.ClientSession(connector=connector) as session:
            app[session_key] = session
            yield

    app = web.Application()
    app.router.add_post("/v1/messages", relay)
    app.cleanup_ctx.append(session_context)
    return app


def proxy_command(upstream_url: str, loop: str = "asyncio") -> list[str]:
    """The proxy's process arguments (for :func:`~benchmarks.support.processes.server_process`). By default it
    runs on asyncio's own loop: the baseline is "a bare aiohttp proxy" as written, with nothing added;
    ``uvloop`` puts it on the loop the gateway uses."""
    return ["-m", "benchmarks.support.proxy", upstream_url, "--loop", loop]


async def serve_proxy(upstream_url: str) -> None:
    """Run the proxy on a free loopback port until SIGTERM/SIGINT."""
    await serve_until_stopped(web.AppRunner(proxy_app(upstream_url), access_log=None), "bare proxy")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("upstream_url")
    parser.add_argument("--loop", choices=LOOPS, default="asyncio")
    a = parser.parse_args()
    run_on_loop(lambda: serve_proxy(a.upstream_url), a.loop)
