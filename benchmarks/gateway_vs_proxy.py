"""The reference gateway beside a bare pass-through proxy, both relaying to the same scripted upstream.

Set-up, all on 127.0.0.1, every server an OS process of its own; the load generator is this process:

- **upstream**: ``reference-gateway upstream --port 0``, the scripted upstream over HTTP;
- **ceiling**: a bare aiohttp pass-through proxy (``benchmarks.support.proxy``): it relays
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
import os
import tempfile
import time
from pathlib import Path

from benchmarks.support import cli
from benchmarks.support.load import LOAD_GENERATORS, Sample, load
from benchmarks.support.processes import LOOPS, gateway_args, server_process, upstream_args
from benchmarks.support.procfs import peak_memory_mib
from benchmarks.support.proxy import proxy_command
from benchmarks.support.record import audit_verify, count_outcomes
from benchmarks.support.rounds import Cell, Results, round_order, standard_cells
from benchmarks.support.settings import HIGH_CONCURRENCY, SLOW_DIRECTIVE, TARGET_RATIO, TTFT_BUDGET_MS
from benchmarks.support.table import pct, print_table


def _cpu_pair(proxy: float | None, gateway: float | None) -> str:
    if proxy is None or gateway is None:
        return "n/a"
    return f"{proxy:.2f} / {gateway:.2f}"


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
    cells = standard_cells(requests, low)
    warmup = Cell(False, HIGH_CONCURRENCY, max(50, requests // 10))
    results = Results()
    slow: dict[str, Sample] = {}
    answered = 0
    memory: dict[str, float | None] = {}
    wall = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="gateway-vs-proxy-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'gateway.sqlite3'}"
        async with (
            server_process(upstream_args(), "upstream") as upstream,
            server_process(proxy_command(upstream.url, proxy_loop), "proxy") as proxy,
            server_process(gateway_args(upstream.url, db_url, loop=gateway_loop), "gateway") as gateway,
        ):
            targets = {"proxy": proxy, "gateway": gateway}
            for name, server in targets.items():  # warm-up: connection pools, caches, first-call imports
                await load(server, warmup.requests, warmup.concurrency, warmup.stream)
                await load(server, 20, 1, True)
                answered += warmup.requests + 20 if name == "gateway" else 0
            for r in range(rounds):
                for cell in cells:
                    for name, server in round_order(list(targets.items()), r):
                        sample = await load(
                            server,
                            cell.requests,
                            cell.concurrency,
                            cell.stream,
                            measure_cpu=True,
                            generator=generator,
                        )
                        results.add(cell, name, sample)
                        answered += sample.calls if name == "gateway" else 0
            for name, server in targets.items():
                slow[name] = await load(server, slow_runs, 1, True, SLOW_DIRECTIVE, generator=generator)
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
    rows = []
    for cell in cells:
        p_rate, g_rate = results.best_rate(cell, "proxy"), results.best_rate(cell, "gateway")
        p_lat, g_lat = results.latencies(cell, "proxy"), results.latencies(cell, "gateway")
        p50, p90, g50, g90 = pct(p_lat, 0.5), pct(p_lat, 0.9), pct(g_lat, 0.5), pct(g_lat, 0.9)
        rows.append(
            [
                cell.label,
                f"{p_rate:,.0f}",
                f"{g_rate:,.0f}",
                f"{g_rate / p_rate:.0%}",
                f"{p50:.2f} / {p90:.2f}",
                f"{g50:.2f} / {g90:.2f}",
                f"{g50 - p50:+.2f} / {g90 - p90:+.2f}",
                _cpu_pair(results.cpu_ms(cell, "proxy"), results.cpu_ms(cell, "gateway")),
            ]
        )
    header = ["cell", "proxy req/s", "gateway req/s", "ratio", "proxy p50/p90 ms", "gateway p50/p90 ms"]
    print_table([*header, "added p50/p90 ms", "CPU ms/call p / g"], rows)
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
    a = parser.parse_args()
    cli.run(
        lambda: main(a.requests, a.rounds, a.slow_runs, a.load_generator, a.proxy_loop, a.gateway_loop),
        "benchmarks.gateway_vs_proxy",
    )
