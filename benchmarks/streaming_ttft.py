"""Native streaming, measured: with a slow upstream, the first ``content_block_delta`` reaches the client long
before the upstream finishes.

Set-up, all on loopback: the scripted upstream served over HTTP with a per-chunk latency; the reference gateway
fronting it through its real Anthropic adapter (SQLite capture on). Baseline, in the same run: the same stream
read directly from the upstream. A gateway that buffered the stream (``wrapped``) would show a first delta at
about the total time; a native one shows it at about one chunk's latency.

Run: ``python -m benchmarks.streaming_ttft [--runs N] [--latency-ms MS] [--chunks N]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from reference_server.upstream.scripted.server import start_server

BODY = {
    "model": "ainfera-inference",
    "max_tokens": 512,
    "stream": True,
    "messages": [{"role": "user", "content": "stream please"}],
}


@dataclass
class Timing:
    first_delta_ms: float
    total_ms: float


async def measure(session: aiohttp.ClientSession, url: str, directive: str) -> Timing:
    start = time.perf_counter()
    first: float | None = None
    headers = {"x-api-key": "bench", "x-upstream-script": directive}
    async with session.post(f"{url}/v1/messages", json=BODY, headers=headers) as resp:
        resp.raise_for_status()
        async for line in resp.content:
            if first is None and line.startswith(b"event: content_block_delta"):
                first = time.perf_counter()
    end = time.perf_counter()
    assert first is not None, "no content_block_delta in the stream"
    return Timing((first - start) * 1000, (end - start) * 1000)


def _median(values: list[float]) -> float:
    return statistics.median(values)


async def main(runs: int = 10, latency_ms: int = 25, chunks: int = 20) -> None:
    directive = f"text_tokens={chunks * 2}; chunk=2; latency_ms={latency_ms}"
    upstream_runner, upstream_port = await start_server("127.0.0.1", 0)
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = GatewayConfig(db_url=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", upstreams=[upstream_url])
        runner = web.AppRunner(build_app(config), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        gateway_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with aiohttp.ClientSession() as session:
                direct = [await measure(session, upstream_url, directive) for _ in range(runs)]
                via = [await measure(session, gateway_url, directive) for _ in range(runs)]
        finally:
            await runner.cleanup()
            await upstream_runner.cleanup()

    d_first, d_total = _median([t.first_delta_ms for t in direct]), _median([t.total_ms for t in direct])
    g_first, g_total = _median([t.first_delta_ms for t in via]), _median([t.total_ms for t in via])
    print(f"streaming TTFT — {runs} runs, upstream: {chunks} chunks x {latency_ms} ms (medians)")
    print(f"{'path':<28}{'first delta ms':>16}{'total ms':>12}{'first/total':>13}")
    print(f"{'upstream direct (baseline)':<28}{d_first:>16.1f}{d_total:>12.1f}{d_first / d_total:>13.3f}")
    print(f"{'through the gateway':<28}{g_first:>16.1f}{g_total:>12.1f}{g_first / g_total:>13.3f}")
    print(
        f"gateway added to time-to-first-delta: {g_first - d_first:+.1f} ms; "
        f"first delta arrives at {100 * g_first / g_total:.0f}% of the stream's duration (native streaming)"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--latency-ms", type=int, default=25)
    p.add_argument("--chunks", type=int, default=20)
    a = p.parse_args()
    asyncio.run(main(a.runs, a.latency_ms, a.chunks))
