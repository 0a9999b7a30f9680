"""The servers a benchmark measures, each an OS process of its own on loopback: started, awaited, stopped.

Every server announces that it is ready on stdout (``... listening on http://127.0.0.1:PORT`` for ours, a
fixed line for Portkey); :func:`start_process` waits for that line within a bound, then keeps draining stdout
so that a server that goes on printing never blocks on a full pipe.

This module is also the one place the benchmarks reach into the CLI's internals (the event-loop choice and the
stop signal), so that a move there is one edit here.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from benchmarks.support.settings import (
    CLI,
    CLIENT_KEY,
    HOST,
    MODEL,
    REPO,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
)
from reference_server.commands import _loop
from reference_server.commands._loop import LOOPS

__all__ = [
    "LOOPS",
    "Server",
    "gateway_args",
    "run_on_loop",
    "server_process",
    "start_process",
    "upstream_args",
]

_LISTENING = re.compile(rb"listening on (http://127\.0\.0\.1:[0-9]+)")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    pid: int
    headers: dict[str, str] = field(default_factory=dict)
    """Request headers this server needs on every call besides the call's own (Portkey's routing headers)."""
    tree: bool = False
    """Measure the CPU and memory of the process with all its descendants, not the process alone."""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def upstream_args() -> list[str]:
    """``reference-gateway upstream`` on a free loopback port, serving the benchmarks' model as well."""
    return [*CLI, "upstream", "--host", HOST, "--port", "0", "--model", MODEL]


def gateway_args(
    upstream_url: str, db_url: str, log_level: str = "INFO", loop: str | None = None
) -> list[str]:
    """``reference-gateway serve`` as a user runs it: capture in ``db_url``, JSON logs and the access log at
    ``log_level`` (on stderr, discarded), ``loop`` when given (else ``serve``'s default, uvloop where
    installed)."""
    args = [*CLI, "serve", "--host", HOST, "--port", "0", "--db-url", db_url, "--upstream", upstream_url]
    args += ["--log-level", log_level, "--client-key", CLIENT_KEY]
    return args + (["--loop", loop] if loop else [])


@asynccontextmanager
async def start_process(
    argv: list[str],
    name: str,
    ready: Callable[[bytes], str | None],
    *,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[str, int]]:
    """Start ``argv``; ``ready`` looks at what it printed so far and returns its URL once it is ready. Yields
    (URL, pid); SIGTERM (then SIGKILL after a bound) afterwards. Raises RuntimeError if it exits first or is not
    ready within the start bound."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    stdout = process.stdout
    drain: asyncio.Task[None] | None = None
    try:
        url, seen = None, b""
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                # Raw chunks, not lines: a start-up spinner rewrites one line with carriage returns.
                while url is None and (chunk := await stdout.read(65536)):
                    seen = (seen + chunk)[-4096:]
                    url = ready(seen)
        except TimeoutError:
            raise RuntimeError(f"{name} was not ready within {START_TIMEOUT_S:.0f} s") from None
        if url is None:
            raise RuntimeError(f"{name} exited before it was ready (status {await process.wait()})")

        async def discard() -> None:
            while await stdout.read(65536):
                pass

        drain = asyncio.create_task(discard())
        yield url, process.pid
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if drain is not None:
            drain.cancel()
            with suppress(asyncio.CancelledError):
                await drain


def _listening(seen: bytes) -> str | None:
    match = _LISTENING.search(seen)
    return match.group(1).decode() if match else None


@asynccontextmanager
async def server_process(args: list[str], name: str, repo: Path = REPO) -> AsyncIterator[Server]:
    """``python ARGS`` run from ``repo`` (first on its ``PYTHONPATH``); it must print ``listening on URL``."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
    }
    async with start_process([sys.executable, *args], name, _listening, cwd=repo, env=env) as (url, pid):
        yield Server(name, url, pid)


async def serve_until_stopped(runner: web.AppRunner, what: str) -> None:
    """Serve ``runner`` on a free loopback port, print ``<what> listening on URL`` (what :func:`server_process`
    waits for), and stop on SIGTERM/SIGINT."""
    from reference_server.commands._signals import wait_for_stop_signal

    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    print(f"{what} listening on http://{HOST}:{runner.addresses[0][1]}", flush=True)
    try:
        await wait_for_stop_signal()
    finally:
        await runner.cleanup()


def run_on_loop(main: Callable[[], Coroutine[Any, Any, _T]], loop: str = "auto") -> _T:
    """``main()`` on the event loop ``loop`` names (one of :data:`LOOPS`), as ``serve --loop`` picks it."""
    return _loop.run(main, loop)
