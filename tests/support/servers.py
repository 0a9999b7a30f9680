"""Real servers on loopback for tests: an aiohttp app served from a thread of its own, on a free port.

The official SDKs are synchronous clients here, so the server cannot share the test's event loop; a thread with
its own loop is the smallest real thing that works. Startup and shutdown are awaited, never slept on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


class ServerThread:
    def __init__(self, make_app: Callable[[], web.Application], host: str = "127.0.0.1") -> None:
        self._make_app = make_app
        self._host = host
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="test-server")
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.app: web.Application | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        self.app = self._make_app()
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return fut.result(timeout=60)

    def stop(self) -> None:
        if self._runner is not None:
            self.call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
