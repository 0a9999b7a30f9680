"""Where the gateway's CPU goes: the gateway with parts of its per-call work switched off, beside the bare proxy.

``benchmarks.gateway_vs_proxy`` says how far the gateway is from the proxy; this says what the difference is
made of. Every variant is an OS process of its own, relaying ``POST /v1/messages`` to one shared scripted
upstream over HTTP on 127.0.0.1, under the same non-streamed load at concurrency 32, round after round in
alternating order:

- **proxy**: the bare aiohttp pass-through proxy (``benchmarks.support.proxy``);
- **gateway**: ``reference-gateway serve`` as a user runs it (full capture on SQLite, JSON logs at INFO);
- **no logs**: the same with ``--log-level WARNING`` (no access line, no info line per call);
- **no capture**: the same app with a capture store that keeps nothing and answers at once (every other step,
  metrics and the event loop included, as in the gateway);
- **neither**: no logs and no capture.

Every gateway variant runs on the loop ``serve`` picks (uvloop where installed); the proxy on asyncio's own, as
the target states it. So "everything else the gateway does" is net of what uvloop saves the gateway (about 0.05
ms per call). What the loop is worth is measured apart, with fewer servers and so less noise:
``benchmarks.event_loop``.

For each it prints the server process's CPU per call (all threads, from ``/proc``: what a call costs that
server, where requests/s also depends on how the CPUs were shared out) and requests/s, and then the split: what the capture, the logs and the rest of the gateway's
own work (validation, routing, translation, metrics, ids, headers) each add to the proxy's CPU per call. The
variants without capture or logs are measurements only: they break the contract and are never served.

Run: ``python -m benchmarks.gateway_cost [--requests N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.support import cli
from benchmarks.support.processes import (
    gateway_args,
    run_on_loop,
    serve_until_stopped,
    server_process,
    upstream_args,
)
from benchmarks.support.proxy import proxy_command
from benchmarks.support.rounds import alternating_rounds, warm_up
from benchmarks.support.settings import CLIENT_KEY, HIGH_CONCURRENCY, HOST, TARGET_RATIO
from benchmarks.support.table import print_table
from reference_server.capture.types import CallRecord, CaptureReceipt, KillSwitchState


class NullCaptureStore:
    """A capture store that keeps nothing: ``record()`` answers at once. Only for measuring what capture costs."""

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def kill_switch(self) -> KillSwitchState:
        return KillSwitchState(False, 0.0, None)

    async def record(self, call: CallRecord) -> CaptureReceipt:
        return CaptureReceipt(call.request_id, 0.0, ())

    async def audit_events(self, request_id: str) -> list[dict[str, Any]]:
        return []


async def serve_without_capture(upstream_url: str, log_level: str) -> None:
    """``--serve-without-capture URL``: the gateway's app as ``serve`` builds it, on a free port, with the
    null store (no database at all); until SIGTERM/SIGINT."""
    from aiohttp import web

    from reference_server.app import build_app
    from reference_server.config import GatewayConfig
    from reference_server.observability.access_log import ScrubbingAccessLogger
    from reference_server.observability.logging_setup import install_json_logging

    install_json_logging(level=log_level)
    # As `serve --upstream URL --client-key KEY` configures it; the database URL is never opened.
    config = GatewayConfig(host=HOST, port=0, upstreams=[upstream_url], client_keys=(CLIENT_KEY,))
    app = build_app(config, capture=NullCaptureStore(), migrate=False)
    runner = web.AppRunner(
        app, access_log=logging.getLogger("aiohttp.access"), access_log_class=ScrubbingAccessLogger
    )
    await serve_until_stopped(runner, "gateway without capture")


@dataclass
class Variant:
    name: str
    args: list[str]
    cpu_ms: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms)

    @property
    def rate(self) -> float:
        return max(self.rates)


def variants(upstream_url: str, tmp: Path) -> list[Variant]:
    def serve(name: str, level: str) -> list[str]:
        return gateway_args(upstream_url, f"sqlite:///{tmp / f'{name}.sqlite3'}", level)

    def null(level: str) -> list[str]:
        return [
            "-m",
            "benchmarks.gateway_cost",
            "--serve-without-capture",
            upstream_url,
            "--log-level",
            level,
        ]

    return [
        Variant("proxy", proxy_command(upstream_url)),
        Variant("gateway", serve("gateway", "INFO")),
        Variant("no logs", serve("no-logs", "WARNING")),
        Variant("no capture", null("INFO")),
        Variant("neither", null("WARNING")),
    ]


async def main(requests: int = 1500, rounds: int = 5) -> None:
    with tempfile.TemporaryDirectory(prefix="gateway-cost-") as tmp:
        async with (
            server_process(upstream_args(), "upstream") as upstream,
            AsyncExitStack() as stack,
        ):
            runs = variants(upstream.url, Path(tmp))
            servers = [await stack.enter_async_context(server_process(v.args, v.name)) for v in runs]
            await warm_up(servers, requests)
            samples = await alternating_rounds(
                servers, requests, rounds, False, who="benchmarks.gateway_cost"
            )
            for variant, taken in zip(runs, samples, strict=True):
                variant.cpu_ms.extend(s.cpu_ms_per_call or 0.0 for s in taken)
                variant.rates.extend(s.rate for s in taken)

    by_name = {v.name: v for v in runs}
    proxy = by_name["proxy"]
    print(
        f"where the gateway's CPU goes: non-streamed, concurrency {HIGH_CONCURRENCY}, {requests} calls x "
        f"{rounds} rounds per variant, alternating order"
    )
    print("  CPU ms/call: the server process's own CPU (all threads) per call, median over rounds")
    print()
    print_table(
        ["variant", "CPU ms/call", "min-max", "x proxy", "req/s", "of proxy"],
        [
            [
                v.name,
                f"{v.cpu:.3f}",
                f"{min(v.cpu_ms):.3f}-{max(v.cpu_ms):.3f}",
                f"{v.cpu / proxy.cpu:.1f}x",
                f"{v.rate:,.0f}",
                f"{v.rate / proxy.rate:.0%}",
            ]
            for v in runs
        ],
    )
    gateway, no_logs, no_capture, neither = (
        by_name[n] for n in ("gateway", "no logs", "no capture", "neither")
    )
    print()
    print(f"the gateway's CPU per call beyond the proxy's: {gateway.cpu - proxy.cpu:.3f} ms, of which")
    print(f"  capture (rows, chain, SQLite, group commit): {gateway.cpu - no_capture.cpu:+.3f} ms")
    print(f"  logs (access line and info lines, scrubbed JSON): {gateway.cpu - no_logs.cpu:+.3f} ms")
    print(
        f"  everything else the gateway does per call: {neither.cpu - proxy.cpu:+.3f} ms "
        "(the gateway on uvloop, the proxy on asyncio: net of the loop's saving)"
    )
    print(f"  (the parts overlap a little: capture and logs together {gateway.cpu - neither.cpu:+.3f} ms)")
    print(
        f"a gateway with neither capture nor logs: {neither.rate / proxy.rate:.0%} of the proxy's req/s "
        f"(target for the full gateway: {TARGET_RATIO:.0%})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=1500, help="calls per variant per round (default 1500)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--serve-without-capture", metavar="UPSTREAM_URL", help=argparse.SUPPRESS)
    parser.add_argument("--log-level", default="INFO", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.serve_without_capture:
        # On the loop `serve` picks by default, so that the split compares like with like.
        run_on_loop(lambda: serve_without_capture(a.serve_without_capture, a.log_level), "auto")
    else:
        cli.run(lambda: main(a.requests, a.rounds), "benchmarks.gateway_cost")
