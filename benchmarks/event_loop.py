"""The gateway and the bare proxy each on uvloop and on asyncio's own loop, in one run: what the loop is worth.

``reference-gateway serve`` runs on uvloop where it is installed (``--loop auto``). This is the measurement behind
that choice, and the comparison the throughput target leaves open: the target is stated against a bare aiohttp
proxy as written, on asyncio's own loop, so this also shows the ratio with both servers on uvloop.

Four servers at once, each its own process, relaying ``POST /v1/messages`` to one shared scripted upstream over
HTTP on 127.0.0.1: the gateway on uvloop, the gateway on asyncio, the proxy on asyncio and the proxy on uvloop.
They get the same calls at concurrency 32, round after round in alternating order, non-streamed and then
streamed. Per server: the median and best requests/s over the rounds and the median CPU per call (from
``/proc``). Only this run's figures are compared with each other: the shared machine drifts more between runs
than the loop is worth.

Run: ``python -m benchmarks.event_loop [--requests N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.support import cli
from benchmarks.support.load import Sample
from benchmarks.support.processes import gateway_args, server_process, upstream_args
from benchmarks.support.proxy import proxy_command
from benchmarks.support.rounds import alternating_rounds, warm_up
from benchmarks.support.settings import HIGH_CONCURRENCY
from benchmarks.support.table import print_table


@dataclass
class Target:
    name: str
    args: list[str]
    samples: dict[bool, list[Sample]] = field(default_factory=lambda: {False: [], True: []})

    def rate(self, stream: bool) -> float:
        return statistics.median(s.rate for s in self.samples[stream])

    def best(self, stream: bool) -> float:
        return max(s.rate for s in self.samples[stream])

    def cpu(self, stream: bool) -> float:
        return statistics.median(s.cpu_ms_per_call or 0.0 for s in self.samples[stream])


async def main(requests: int = 2000, rounds: int = 6) -> None:
    with tempfile.TemporaryDirectory(prefix="event-loop-") as tmp:
        async with AsyncExitStack() as stack:
            upstream = await stack.enter_async_context(server_process(upstream_args(), "upstream"))

            def gateway(loop: str) -> list[str]:
                return gateway_args(upstream.url, f"sqlite:///{Path(tmp) / f'{loop}.sqlite3'}", loop=loop)

            targets = [
                Target("gateway, uvloop", gateway("uvloop")),
                Target("gateway, asyncio", gateway("asyncio")),
                Target("proxy, asyncio", proxy_command(upstream.url, "asyncio")),
                Target("proxy, uvloop", proxy_command(upstream.url, "uvloop")),
            ]
            servers = [await stack.enter_async_context(server_process(t.args, t.name)) for t in targets]
            await warm_up(servers, requests)
            for stream in (False, True):
                label = f"{'streamed' if stream else 'non-streamed'} round"
                samples = await alternating_rounds(
                    servers, requests, rounds, stream, label=label, who="benchmarks.event_loop"
                )
                for target, runs in zip(targets, samples, strict=True):
                    target.samples[stream] = runs

    uv, aio, proxy, proxy_uv = targets
    print(
        f"the event loop: concurrency {HIGH_CONCURRENCY}, {requests} calls x {rounds} rounds per server and "
        "mode, alternating order; req/s median (best), CPU ms per call median"
    )
    print()
    print_table(
        ["server", "non-streamed req/s", "CPU", "streamed req/s", "CPU"],
        [
            [
                t.name,
                *(
                    x
                    for s in (False, True)
                    for x in (f"{t.rate(s):,.0f} ({t.best(s):,.0f})", f"{t.cpu(s):.3f}")
                ),
            ]
            for t in targets
        ],
    )
    print()
    for stream in (False, True):
        mode = "streamed" if stream else "non-streamed"
        print(
            f"{mode}: uvloop gives the gateway x{uv.rate(stream) / aio.rate(stream):.2f} req/s and "
            f"x{uv.cpu(stream) / aio.cpu(stream):.2f} CPU per call; the gateway's best round is "
            f"{uv.best(stream) / proxy.best(stream):.0%} of the proxy on asyncio's loop (the target's yardstick), "
            f"{uv.best(stream) / proxy_uv.best(stream):.0%} of the proxy on uvloop"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=2000, help="calls per server per round (default 2000)"
    )
    parser.add_argument("--rounds", type=int, default=6, help="rounds per mode (default 6)")
    a = parser.parse_args()
    cli.run(lambda: main(a.requests, a.rounds), "benchmarks.event_loop")
