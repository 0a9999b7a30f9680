"""The reference gateway beside a bare pass-through proxy, both relaying to the same scripted upstream.

Set-up, all on 127.0.0.1, every server an OS process of its own; the load generator is this process:

- **upstream**: ``reference-gateway upstream --port 0``, the scripted upstream over HTTP;
- **ceiling**: a bare aiohttp pass-through proxy (this module with ``--serve-proxy URL``): it relays
  ``POST /v1/messages`` to the upstream and the answer back, streamed chunks as they arrive; no validation,
  routing, capture or logging;
- **gateway**: ``reference-gateway serve --upstream URL`` exactly as a user runs it: full capture on SQLite (WAL,
  ``synchronous=FULL``, group commit: every call's outcome row, two audit events and ledger debit are durable
  before its response claims success), JSON logs and the access log at INFO (to stderr, discarded here).

For each cell (non-streamed and streamed, at concurrency 1 and 32) both targets get the same calls, round after
round, alternating which goes first. Requests/s is the best round; latencies pool every round. For a streamed call
the latency is the time to first token (the first ``content_block_delta`` frame), for a non-streamed call the
whole answer. "Added" is gateway minus proxy, at the median and at p90. One more row shows native streaming
with a slow upstream: a gateway that buffered the stream would show its first delta at about the stream's end.

The load generator speaks HTTP/1.1 over keep-alive connections itself (requests pre-encoded, answers parsed just
enough to check them), so it takes as little as possible of the CPU the servers share with it. With
``--load-generator aiohttp`` it is an ``aiohttp.ClientSession`` instead: a typical client, which takes several
times that CPU, so both servers relay fewer calls. Each server's own CPU per call is measured too (from
``/proc``): the work a call costs that server, rather than how the CPUs were shared out.

Afterwards the gateway's database must hold exactly one outcome row per call it answered and
``reference-gateway audit-verify`` must pass, or the figures are void (exit status 1).

Run: ``python -m benchmarks.gateway_vs_proxy [--requests N] [--rounds R] [--load-generator raw|aiohttp]`` (quick:
``--requests 200 --rounds 1``)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from reference_server.commands import _loop as loops
from reference_server.commands._loop import LOOPS

TARGET_RATIO = 0.60
"""Gateway requests/s at concurrency 32 as a share of the proxy's, streamed and non-streamed."""
TTFT_BUDGET_MS = 2.0
"""Time to first token the gateway may add at the median, at concurrency 1."""
HIGH_CONCURRENCY = 32
REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CLIENT_KEY = "bench-client-key"
SLOW_DIRECTIVE = "text_tokens=40; chunk=2; latency_ms=25"
"""The slow upstream of the native-streaming row: 20 deltas, 25 ms apart."""
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
CELL_TIMEOUT_S = 120.0
"""No single measurement may run longer than this: the benchmark stops by itself."""
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:[0-9]+)")
_FIRST_TOKEN = b"event: content_block_delta"
_STREAM_END = b"event: message_stop"


# -- the ceiling: a bare pass-through proxy ---------------------------------------------------------------------


def proxy_app(upstream_url: str) -> web.Application:
    """Relays ``POST /v1/messages`` (and the scripted upstream's directive header) to the upstream and its answer
    back, an event stream chunk by chunk as it arrives; nothing else."""
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


async def serve_until_stopped(runner: web.AppRunner, what: str) -> None:
    """Serve ``runner`` on a free loopback port, print ``<what> listening on URL`` (what
    :func:`server_process` waits for), and stop on SIGTERM/SIGINT."""
    from reference_server.commands._signals import wait_for_stop_signal

    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    print(f"{what} listening on http://{HOST}:{runner.addresses[0][1]}", flush=True)
    try:
        await wait_for_stop_signal()
    finally:
        await runner.cleanup()


async def serve_proxy(upstream_url: str) -> None:
    """``--serve-proxy URL``: run the proxy on a free loopback port until SIGTERM/SIGINT."""
    await serve_until_stopped(web.AppRunner(proxy_app(upstream_url), access_log=None), "bare proxy")


def proxy_command(upstream_url: str, loop: str = "asyncio") -> list[str]:
    """The proxy's process arguments. By default it runs on asyncio's own loop: the issue's baseline is "a bare
    aiohttp proxy" as written, with nothing added; ``uvloop`` shows the comparison with both on uvloop."""
    return ["-m", "benchmarks.gateway_vs_proxy", "--serve-proxy", upstream_url, "--loop", loop]


# -- processes ----------------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    pid: int


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU the process (all its threads) has used so far, seconds; None where /proc has no
    stat for it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mib(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), MiB; None where /proc has no such line."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@asynccontextmanager
async def server_process(args: list[str], name: str) -> AsyncIterator[Server]:
    """Start ``python ARGS`` (it must print ``listening on URL``), yield it, SIGTERM it afterwards."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    url = ""
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while line := (await process.stdout.readline()).decode():
                match = _LISTENING.search(line)
                if match:
                    url = match.group(1)
                    break
        if not url:
            raise RuntimeError(f"{name} exited before listening (status {await process.wait()})")
        yield Server(name, url, process.pid)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


# -- load ---------------------------------------------------------------------------------------------------------


class BadAnswer(Exception):
    pass


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


def request_parts(stream: bool, directive: str | None = None) -> tuple[dict[str, str], bytes]:
    """The benchmark's call: (headers, body)."""
    body = json.dumps(
        {
            "model": "ainfera-inference",
            "max_tokens": 64 if not directive else 512,
            "stream": stream,
            "messages": [{"role": "user", "content": "how much does the gateway add?"}],
        }
    ).encode()
    headers = {"x-api-key": CLIENT_KEY, "content-type": "application/json"}
    if directive:
        headers["x-upstream-script"] = directive
    return headers, body


def encode_request(port: int, stream: bool, directive: str | None = None) -> bytes:
    headers, body = request_parts(stream, directive)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = f"POST /v1/messages HTTP/1.1\r\nHost: {HOST}:{port}\r\n{lines}content-length: {len(body)}\r\n\r\n"
    return head.encode() + body


class AiohttpConnection:
    """The same call through ``aiohttp.ClientSession``, as a typical Python client sends it: it costs the load
    generator several times the CPU of :class:`Connection`, CPU the servers then do not get."""

    def __init__(self, url: str, session: aiohttp.ClientSession, stream: bool, directive: str | None) -> None:
        self.url = f"{url}/v1/messages"
        self.session = session
        self.headers, self.body = request_parts(stream, directive)

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


LOAD_GENERATORS = ("raw", "aiohttp")
"""``raw``: pre-encoded HTTP/1.1 on asyncio streams (the default: the least CPU taken from the servers);
``aiohttp``: ``aiohttp.ClientSession``."""


@dataclass
class Sample:
    calls: int
    seconds: float
    latencies_ms: list[float]
    """Time to first token for a streamed call, the whole answer for a non-streamed one."""
    totals_ms: list[float] = field(default_factory=list)
    """The whole answer, streamed or not."""
    cpu_ms_per_call: float | None = None
    """CPU the server process used during the run, per call (when its pid was given)."""

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


async def load(
    url: str,
    requests: int,
    concurrency: int,
    stream: bool,
    directive: str | None = None,
    pid: int | None = None,
    generator: str = "raw",
) -> Sample:
    """``requests`` calls with ``concurrency`` in flight, each on its own keep-alive connection. Every answer
    must be a 200, and a stream must end with ``message_stop``; anything else raises :class:`BadAnswer`. With
    ``pid``, the server process's CPU over the run is measured too: what the calls cost that server, where
    requests/s also depends on how the CPUs were shared out. ``generator`` is one of :data:`LOAD_GENERATORS`."""
    port = int(url.rsplit(":", 1)[1])
    request = encode_request(port, stream, directive)
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
            Connection(port) if session is None else AiohttpConnection(url, session, stream, directive)
        )
        try:
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                status, body, first = await conn.call(request)
                end = time.perf_counter()
                if status != 200:
                    raise BadAnswer(f"{url} answered {status}: {body[:300]!r}")
                if stream:
                    if first is None or _STREAM_END not in body:
                        raise BadAnswer(f"{url}: stream without a token or without message_stop")
                    latencies.append((first - start) * 1000)
                else:
                    latencies.append((end - start) * 1000)
                totals.append((end - start) * 1000)
        finally:
            await conn.close()

    cpu_before = process_cpu_seconds(pid) if pid is not None else None
    try:
        async with asyncio.timeout(CELL_TIMEOUT_S):
            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            seconds = time.perf_counter() - start
    finally:
        if session is not None:
            await session.close()
    cpu_after = process_cpu_seconds(pid) if pid is not None else None
    cpu = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) * 1000 / requests
    return Sample(requests, seconds, latencies, totals, cpu)


# -- the run ------------------------------------------------------------------------------------------------------


async def warm_up(servers: Sequence[Server], requests: int, stream: bool = False) -> None:
    """A tenth of a round (at least 50 calls) to each server: connection pools, caches, first-call imports."""
    for server in servers:
        await load(server.url, max(50, requests // 10), HIGH_CONCURRENCY, stream)


async def alternating_rounds(
    servers: Sequence[Server],
    requests: int,
    rounds: int,
    stream: bool,
    *,
    generator: str = "raw",
    label: str = "round",
    who: str = "benchmarks",
) -> list[list[Sample]]:
    """``rounds`` rounds of ``requests`` calls at concurrency 32 to every server, the order reversed every other
    round (so neither always runs first on a warmer or a busier machine); each server's CPU per call measured.
    Returns the samples per server, in the order of ``servers``. Without ``/proc`` (not Linux) the CPU cannot
    be read: ``who`` exits with one line."""
    samples: list[list[Sample]] = [[] for _ in servers]
    indexed = list(enumerate(servers))
    for r in range(rounds):
        print(f"  {label} {r + 1}/{rounds}", flush=True)
        for i, server in indexed if r % 2 == 0 else indexed[::-1]:
            sample = await load(
                server.url, requests, HIGH_CONCURRENCY, stream, pid=server.pid, generator=generator
            )
            if sample.cpu_ms_per_call is None:
                raise SystemExit(f"{who}: no /proc/<pid>/stat to read the servers' CPU (Linux only)")
            samples[i].append(sample)
    return samples


@dataclass(frozen=True)
class Cell:
    stream: bool
    concurrency: int
    requests: int

    @property
    def label(self) -> str:
        return f"{'streamed' if self.stream else 'non-streamed'}, conc {self.concurrency}"


@dataclass
class Results:
    runs: dict[tuple[Cell, str], list[Sample]] = field(default_factory=dict)

    def add(self, cell: Cell, target: str, sample: Sample) -> None:
        self.runs.setdefault((cell, target), []).append(sample)

    def best_rate(self, cell: Cell, target: str) -> float:
        return max(s.rate for s in self.runs[(cell, target)])

    def cpu_ms(self, cell: Cell, target: str) -> float | None:
        """The median over rounds of the server's CPU per call."""
        values = [s.cpu_ms_per_call for s in self.runs[(cell, target)] if s.cpu_ms_per_call is not None]
        return statistics.median(values) if values else None

    def latencies(self, cell: Cell, target: str) -> list[float]:
        return [x for s in self.runs[(cell, target)] for x in s.latencies_ms]

    def totals(self, cell: Cell, target: str) -> list[float]:
        return [x for s in self.runs[(cell, target)] for x in s.totals_ms]


def _cpu_pair(proxy: float | None, gateway: float | None) -> str:
    if proxy is None or gateway is None:
        return "n/a"
    return f"{proxy:.2f} / {gateway:.2f}"


def pct(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values``, interpolated."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


async def count_outcomes(db_url: str) -> tuple[int, int]:
    """(outcome rows, distinct commit timestamps: one per capture transaction) in the gateway's database."""
    from sqlalchemy import func, select
    from sqlalchemy.pool import NullPool

    from reference_server.db.engine import create_engine
    from reference_server.db.models import RoutingOutcome

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(func.count()).select_from(RoutingOutcome))).scalar_one()
            commits = (
                await conn.execute(select(func.count(func.distinct(RoutingOutcome.created_at))))
            ).scalar_one()
    finally:
        await engine.dispose()
    return int(rows), int(commits)


async def audit_verify(db_url: str) -> tuple[bool, str]:
    """``reference-gateway audit-verify`` as a user runs it: (exit status 0, its one line)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "reference_server",
        "audit-verify",
        "--db-url",
        db_url,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(CELL_TIMEOUT_S):
        out, _ = await process.communicate()
    return process.returncode == 0, out.decode().strip()


async def main(
    requests: int = 2000,
    rounds: int = 2,
    slow_runs: int = 5,
    generator: str = "raw",
    proxy_loop: str = "asyncio",
    gateway_loop: str = "auto",
) -> bool:
    """Run the comparison and print the table; returns whether every target was met. Exits with status 1 when
    the figures are void (a failed call, a call not on the record, a broken audit chain)."""
    low = max(20, requests // 5)
    cells = [
        Cell(False, 1, low),
        Cell(False, HIGH_CONCURRENCY, requests),
        Cell(True, 1, low),
        Cell(True, HIGH_CONCURRENCY, requests),
    ]
    warmup = Cell(False, HIGH_CONCURRENCY, max(50, requests // 10))
    results = Results()
    slow: dict[str, Sample] = {}
    answered = 0
    memory: dict[str, float | None] = {}
    wall = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="gateway-vs-proxy-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'gateway.sqlite3'}"
        cli = ["-m", "reference_server"]
        async with server_process([*cli, "upstream", "--host", HOST, "--port", "0"], "upstream") as upstream:
            gateway_args = [*cli, "serve", "--host", HOST, "--port", "0", "--db-url", db_url]
            gateway_args += ["--upstream", upstream.url, "--log-level", "INFO", "--client-key", CLIENT_KEY]
            gateway_args += ["--loop", gateway_loop]
            async with (
                server_process(proxy_command(upstream.url, proxy_loop), "proxy") as proxy,
                server_process(gateway_args, "gateway") as gateway,
            ):
                targets = {"proxy": proxy, "gateway": gateway}
                for name, server in targets.items():  # warm-up: connection pools, caches, first-call imports
                    await load(server.url, warmup.requests, warmup.concurrency, warmup.stream)
                    await load(server.url, 20, 1, True)
                    answered += warmup.requests + 20 if name == "gateway" else 0
                for r in range(rounds):
                    order = list(targets.items()) if r % 2 == 0 else list(reversed(targets.items()))
                    for cell in cells:
                        for name, server in order:
                            sample = await load(
                                server.url,
                                cell.requests,
                                cell.concurrency,
                                cell.stream,
                                pid=server.pid,
                                generator=generator,
                            )
                            results.add(cell, name, sample)
                            answered += sample.calls if name == "gateway" else 0
                for name, server in targets.items():
                    slow[name] = await load(
                        server.url, slow_runs, 1, True, SLOW_DIRECTIVE, generator=generator
                    )
                    answered += slow_runs if name == "gateway" else 0
                memory = {name: peak_memory_mib(server.pid) for name, server in targets.items()}
        # The gateway has stopped (SIGTERM: its store committed everything queued). The figures count only if
        # every call it answered is on the record and the chain verifies.
        outcomes, commits = await count_outcomes(db_url)
        chain_ok, chain_line = await audit_verify(db_url)
    wall = time.perf_counter() - wall

    print(
        f"gateway vs bare proxy — one scripted upstream over HTTP, each server its own process, loopback, "
        f"{os.cpu_count()} CPUs, {wall:.0f} s"
    )
    print(
        f"  {requests} calls per target per cell at concurrency {HIGH_CONCURRENCY}, {low} at concurrency 1; "
        f"{rounds} round(s), alternating order; req/s: best round; latency: all rounds pooled"
    )
    print(
        f"  load generator: {generator} ({'aiohttp.ClientSession' if generator == 'aiohttp' else 'pre-encoded HTTP/1.1 on asyncio streams'})"
    )
    print(
        f"  gateway: reference-gateway serve --upstream URL --loop {gateway_loop}; SQLite WAL, synchronous=FULL, "
        "group commit; JSON logs + access log at INFO"
    )
    print(f"  proxy: bare aiohttp pass-through on the {proxy_loop} event loop")
    print(
        "  latency: streamed = time to first token (first content_block_delta), non-streamed = whole answer"
    )
    print(
        "  CPU ms/call: the server process's own CPU (all threads) per call, median over rounds (it still varies "
        "with contention: caches, the other processes)"
    )
    print()
    head = f"{'cell':<22}{'proxy req/s':>12}{'gateway req/s':>15}{'ratio':>7}"
    head += f"{'proxy p50/p90 ms':>19}{'gateway p50/p90 ms':>21}{'added p50/p90 ms':>19}"
    head += f"{'CPU ms/call p / g':>20}"
    print(head)
    print("-" * len(head))
    for cell in cells:
        p_rate, g_rate = results.best_rate(cell, "proxy"), results.best_rate(cell, "gateway")
        p_lat, g_lat = results.latencies(cell, "proxy"), results.latencies(cell, "gateway")
        p50, p90, g50, g90 = pct(p_lat, 0.5), pct(p_lat, 0.9), pct(g_lat, 0.5), pct(g_lat, 0.9)
        print(
            f"{cell.label:<22}{p_rate:>12,.0f}{g_rate:>15,.0f}{g_rate / p_rate:>7.0%}"
            f"{f'{p50:.2f} / {p90:.2f}':>19}{f'{g50:.2f} / {g90:.2f}':>21}"
            f"{f'{g50 - p50:+.2f} / {g90 - p90:+.2f}':>19}"
            f"{_cpu_pair(results.cpu_ms(cell, 'proxy'), results.cpu_ms(cell, 'gateway')):>20}"
        )
    print()

    met_all = True

    def target(text: str, ok: bool, shortfall: str) -> None:
        nonlocal met_all
        met_all &= ok
        print(f"  {text}: {'met' if ok else f'MISSED by {shortfall}'}")

    print("targets:")
    for stream in (False, True):
        cell = next(c for c in cells if c.stream == stream and c.concurrency == HIGH_CONCURRENCY)
        ratio = results.best_rate(cell, "gateway") / results.best_rate(cell, "proxy")
        target(
            f"{cell.label}: gateway req/s {ratio:.0%} of the proxy's (>= {TARGET_RATIO:.0%})",
            ratio >= TARGET_RATIO,
            f"{(TARGET_RATIO - ratio) * 100:.0f} points",
        )
    ttft_cell = next(c for c in cells if c.stream and c.concurrency == 1)
    added = pct(results.latencies(ttft_cell, "gateway"), 0.5) - pct(
        results.latencies(ttft_cell, "proxy"), 0.5
    )
    target(
        f"streamed, conc 1: added TTFT at the median {added:+.2f} ms (<= {TTFT_BUDGET_MS:.0f} ms)",
        added <= TTFT_BUDGET_MS,
        f"{added - TTFT_BUDGET_MS:.2f} ms",
    )
    print()
    print(
        "peak memory (VmHWM): "
        + ", ".join(
            f"{name} {mib:.1f} MiB" if mib is not None else f"{name} n/a" for name, mib in memory.items()
        )
    )
    p_first, g_first = pct(slow["proxy"].latencies_ms, 0.5), pct(slow["gateway"].latencies_ms, 0.5)
    p_total, g_total = pct(slow["proxy"].totals_ms, 0.5), pct(slow["gateway"].totals_ms, 0.5)
    print(
        f"native streaming, slow upstream ({SLOW_DIRECTIVE}; {slow_runs} calls, medians): first token "
        f"proxy {p_first:.1f} ms, gateway {g_first:.1f} ms ({g_first - p_first:+.1f}); whole stream proxy "
        f"{p_total:.0f} ms, gateway {g_total:.0f} ms: first token at {g_first / g_total:.0%} of the stream"
    )
    print(
        f"capture: {outcomes} outcome rows for {answered} answered calls, {commits} commits "
        f"({outcomes / max(commits, 1):.1f} calls per commit over the run, the concurrency-1 cells' one each "
        f"included); audit-verify: {chain_line}"
    )
    if outcomes != answered or not chain_ok:
        raise SystemExit(f"figures void: {outcomes} outcome rows for {answered} answered calls; {chain_line}")
    return met_all


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=2000,
        help="calls per target per cell at concurrency 32; a fifth of that at concurrency 1 (default 2000)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds per cell and target (default 2)")
    parser.add_argument(
        "--slow-runs", type=int, default=5, help="streamed calls per target with a slow upstream (default 5)"
    )
    parser.add_argument(
        "--load-generator",
        choices=LOAD_GENERATORS,
        default="raw",
        help="raw: pre-encoded HTTP/1.1 on asyncio streams, the least CPU taken from the servers (default); "
        "aiohttp: aiohttp.ClientSession, as a typical Python client",
    )
    parser.add_argument(
        "--proxy-loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="the proxy's event loop (default asyncio: the bare proxy as the target is stated)",
    )
    parser.add_argument(
        "--gateway-loop",
        choices=LOOPS,
        default="auto",
        help="the gateway's --loop (default auto: uvloop where installed, as serve runs)",
    )
    parser.add_argument("--serve-proxy", metavar="UPSTREAM_URL", help=argparse.SUPPRESS)
    parser.add_argument("--loop", choices=LOOPS, default="asyncio", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.serve_proxy:
        loops.run(lambda: serve_proxy(a.serve_proxy), a.loop)
    else:
        asyncio.run(main(a.requests, a.rounds, a.slow_runs, a.load_generator, a.proxy_loop, a.gateway_loop))
