"""The load generator: the benchmark's call, sent ``requests`` times with ``concurrency`` in flight, and what
that run measured (:class:`Sample`).

By default it speaks HTTP/1.1 over keep-alive connections itself (the request pre-encoded, answers parsed just
enough to check them), so it takes as little as possible of the CPU the servers share with it. With
``generator="aiohttp"`` it is an ``aiohttp.ClientSession``, a typical Python client, which takes several times
that CPU, CPU the servers then do not get.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress
from dataclasses import dataclass, field

import aiohttp

from benchmarks.support.processes import Server
from benchmarks.support.procfs import cpu_seconds
from benchmarks.support.settings import CELL_TIMEOUT_S, CLIENT_KEY, HOST, MODEL

LOAD_GENERATORS = ("raw", "aiohttp")
"""``raw``: pre-encoded HTTP/1.1 on asyncio streams (the default: the least CPU taken from the servers);
``aiohttp``: ``aiohttp.ClientSession``."""
_FIRST_TOKEN = b"event: content_block_delta"
_STREAM_END = b"event: message_stop"


class BadAnswer(Exception):
    """A call the benchmark cannot count: not a 200, or a stream without a token or its end."""


def request_parts(stream: bool, directive: str | None = None) -> tuple[dict[str, str], bytes]:
    """The benchmark's call: (headers, body). With a directive (a slow upstream) it may run longer."""
    body = json.dumps(
        {
            "model": MODEL,
            "max_tokens": 64 if not directive else 512,
            "stream": stream,
            "messages": [{"role": "user", "content": "how much does the gateway add?"}],
        }
    ).encode()
    headers = {"x-api-key": CLIENT_KEY, "content-type": "application/json"}
    if directive:
        headers["x-upstream-script"] = directive
    return headers, body


def encode_request(server: Server, stream: bool, directive: str | None = None) -> bytes:
    headers, body = request_parts(stream, directive)
    headers.update(server.headers)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = f"POST /v1/messages HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n{lines}content-length: {len(body)}\r\n\r\n"
    return head.encode() + body


class Connection:
    """One keep-alive HTTP/1.1 connection: send a pre-encoded request, read the answer (Content-Length or
    chunked), noting when the first token frame arrived."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def call(self, request: bytes) -> tuple[int, bytes, float | None]:
        """(status, body, perf_counter time the first ``content_block_delta`` frame was in, if any)."""
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(HOST, self.port)
        reader, writer = self._reader, self._writer
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lines = head.decode("latin-1").lower().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        body = bytearray()
        first: float | None = None
        if "content-length" in headers:
            body += await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                body += (await reader.readexactly(size + 2))[:-2]
                if first is None and _FIRST_TOKEN in body:
                    first = time.perf_counter()
        else:
            raise BadAnswer(f"answer without a length: {head[:200]!r}")
        if headers.get("connection") == "close":
            await self.close()
        return status, bytes(body), first

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()


class AiohttpConnection:
    """The same call through ``aiohttp.ClientSession``, as a typical Python client sends it."""

    def __init__(
        self, server: Server, session: aiohttp.ClientSession, stream: bool, directive: str | None
    ) -> None:
        self.url = f"{server.url}/v1/messages"
        self.session = session
        self.headers, self.body = request_parts(stream, directive)
        self.headers.update(server.headers)

    async def call(self, _request: bytes) -> tuple[int, bytes, float | None]:
        body = bytearray()
        first: float | None = None
        async with self.session.post(self.url, data=self.body, headers=self.headers) as response:
            async for chunk in response.content.iter_any():
                body += chunk
                if first is None and _FIRST_TOKEN in body:
                    first = time.perf_counter()
            return response.status, bytes(body), first

    async def close(self) -> None:
        pass


@dataclass
class Sample:
    calls: int
    seconds: float
    latencies_ms: list[float]
    """Time to first token for a streamed call, the whole answer for a non-streamed one."""
    totals_ms: list[float] = field(default_factory=list)
    """The whole answer, streamed or not."""
    cpu_ms_per_call: float | None = None
    """CPU the server used during the run, per call (when it was measured)."""

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


async def load(
    server: Server,
    requests: int,
    concurrency: int,
    stream: bool,
    directive: str | None = None,
    *,
    measure_cpu: bool = False,
    generator: str = "raw",
) -> Sample:
    """``requests`` calls with ``concurrency`` in flight, each worker on its own keep-alive connection. Every
    answer must be a 200, and a stream must hold a token and end with ``message_stop``; anything else raises
    :class:`BadAnswer`. With ``measure_cpu``, the server's CPU over the run is read from ``/proc`` too (its
    process or its tree, as ``server.tree`` says). ``generator`` is one of :data:`LOAD_GENERATORS`."""
    request = encode_request(server, stream, directive)
    remaining = requests
    latencies: list[float] = []
    totals: list[float] = []
    session = (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
        if generator == "aiohttp"
        else None
    )

    async def worker() -> None:
        nonlocal remaining
        conn: Connection | AiohttpConnection = (
            Connection(server.port)
            if session is None
            else AiohttpConnection(server, session, stream, directive)
        )
        try:
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                try:
                    status, body, first = await conn.call(request)
                except (OSError, asyncio.IncompleteReadError, aiohttp.ClientError) as exc:
                    raise BadAnswer(f"{server.name}: the connection failed: {exc!r}") from None
                end = time.perf_counter()
                if status != 200:
                    raise BadAnswer(f"{server.name} answered {status}: {body[:300]!r}")
                if stream:
                    if first is None or _STREAM_END not in body:
                        raise BadAnswer(f"{server.name}: a stream without a token or without message_stop")
                    latencies.append((first - start) * 1000)
                else:
                    latencies.append((end - start) * 1000)
                totals.append((end - start) * 1000)
        finally:
            await conn.close()

    cpu_before = cpu_seconds(server.pid, server.tree) if measure_cpu else None
    workers: list[asyncio.Task[None]] = []
    try:
        async with asyncio.timeout(CELL_TIMEOUT_S):
            start = time.perf_counter()
            workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
            await asyncio.gather(*workers)
            seconds = time.perf_counter() - start
    except TimeoutError:
        raise BadAnswer(f"{server.name}: {requests} calls took longer than {CELL_TIMEOUT_S:.0f} s") from None
    finally:
        for task in workers:  # one worker's failure stops the others (gather leaves them running)
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if session is not None:
            await session.close()
    cpu_after = cpu_seconds(server.pid, server.tree) if measure_cpu else None
    cpu = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) * 1000 / requests
    return Sample(requests, seconds, latencies, totals, cpu)
