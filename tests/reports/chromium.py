"""Headless Chromium over the DevTools protocol, for opening report.html as a reader would.

``--dump-dom`` and ``--screenshot`` alone cannot see console errors or network requests, nor click a filter;
the DevTools protocol can, over one local websocket (aiohttp, already a dependency). The browser runs with a
fresh profile, no sandbox (containers), no GPU and every background service off, so the only requests it makes
are the page's own, and those are what the tests assert on.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
START_TIMEOUT = 30.0
CALL_TIMEOUT = 30.0
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_binary() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


class Page:
    """One tab: send commands, and keep what the page logged and requested."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self.console: list[dict[str, Any]] = []
        """Console calls, uncaught exceptions and browser log entries, each {"source", "level", "text"}."""
        self.requests: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            self._event(data["method"], data.get("params", {}))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append({"source": "console", "level": params["type"], "text": text})
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.console.append({"source": "exception", "level": "error", "text": text})
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.console.append({"source": entry["source"], "level": entry["level"], "text": entry["text"]})
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        for waiter in self._waiters.pop(method, []):
            if not waiter.done():
                waiter.set_result(params)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        await self.ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, CALL_TIMEOUT)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def next_event(self, method: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(method, []).append(future)
        return future

    async def open(self, url: str, width: int = 1280, height: int = 1000) -> None:
        for domain in ("Runtime", "Log", "Network", "Page"):
            await self.send(f"{domain}.enable")
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        loaded = self.next_event("Page.loadEventFired")
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded, CALL_TIMEOUT)

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def screenshot(self) -> bytes:
        """The viewport as PNG."""
        reply = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(reply["data"])

    def errors(self) -> list[dict[str, Any]]:
        return [c for c in self.console if c["level"] in ("error", "assert")]

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def _devtools_url(proc: asyncio.subprocess.Process, log: list[str]) -> str:
    """Chromium prints its DevTools websocket on stderr once it listens: read until then (bounded)."""
    assert proc.stderr is not None
    async with asyncio.timeout(START_TIMEOUT):
        while line := (await proc.stderr.readline()).decode(errors="replace"):
            log.append(line)
            match = _LISTENING.search(line)
            if match:
                return match.group(1)
    raise RuntimeError("chromium did not start: " + "".join(log[-5:]))


async def _drain(stream: asyncio.StreamReader, log: list[str]) -> None:
    """Keep reading stderr: a chatty browser would otherwise block on a full pipe."""
    while line := await stream.readline():
        log.append(line.decode(errors="replace"))


@asynccontextmanager
async def browser_page(binary: str) -> AsyncIterator[Page]:
    with tempfile.TemporaryDirectory(prefix="gc-chromium-") as profile:
        proc = await asyncio.create_subprocess_exec(
            binary,
            *FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        log: list[str] = []
        drain: asyncio.Task[None] | None = None
        try:
            browser_ws = await _devtools_url(proc, log)
            assert proc.stderr is not None
            drain = asyncio.create_task(_drain(proc.stderr, log))
            http = browser_ws.replace("ws://", "http://").split("/devtools/")[0]
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{http}/json/list") as r:
                    targets = await r.json()
                page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
                async with session.ws_connect(page_ws, max_msg_size=0) as ws:
                    page = Page(ws)
                    try:
                        yield page
                    finally:
                        await page.close()
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
            if drain is not None:
                drain.cancel()
