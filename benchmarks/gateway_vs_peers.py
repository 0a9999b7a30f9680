"""The reference gateway beside a peer gateway and the bare proxy, on one scripted upstream, in one run.

A user choosing a gateway compares it with other gateways, not with a proxy that does nothing; this puts them
side by side on the same upstream, the same calls and the same machine, each an OS process of its own on
127.0.0.1 (traffic goes nowhere else):

- **upstream**: ``reference-gateway upstream``, the scripted upstream over HTTP;
- **bare proxy**: the aiohttp pass-through of ``benchmarks.support.proxy`` (the ceiling for an aiohttp gateway);
- **reference gateway**: ``reference-gateway serve --upstream URL`` as a user runs it, with full durable capture
  (SQLite WAL, ``synchronous=FULL``, group commit: each call's outcome row, two audit events and ledger debit
  are durable before its response claims success) and JSON logs with the access log at INFO;
- **Portkey**: Portkey's open-source gateway (npm ``@portkey-ai/gateway``, pinned in examples/portkey/), with
  the routing headers examples/targets/portkey.toml gives it. Left out, with the reason printed, when node or
  the install (``cd examples/portkey && npm ci --ignore-scripts``) is missing.

Every subject gets the same calls in each cell (non-streamed and streamed, at concurrency 1 and 32), round
after round, the order rotated every round. Per cell: requests/s (median over rounds), p50 and p99 latency (all
rounds pooled; time to first token for a streamed call, the whole answer otherwise) and CPU per call (the
subject's process tree, utime + stime from ``/proc``, over the calls; median over rounds). Then the time to
first token each adds to the upstream's own with a slow upstream (streamed, concurrency 1; the median over
rounds of each call less a direct call to the upstream in the same round), and each subject's peak memory (VmHWM of its process tree). Every figure is
also given as a ratio to the reference gateway's.

Afterwards the gateway's database must hold one outcome row per call it answered and ``audit-verify`` must pass,
or the figures are void (exit status 1). The run is bounded: fixed counts, a time limit per cell and overall.

Run: ``python -m benchmarks.gateway_vs_peers`` (a smoke run: ``--quick``)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmarks.support import cli, portkey
from benchmarks.support.load import load
from benchmarks.support.processes import Server, gateway_args, server_process, upstream_args
from benchmarks.support.procfs import peak_memory_mib
from benchmarks.support.proxy import proxy_command
from benchmarks.support.record import audit_verify, count_outcomes
from benchmarks.support.rounds import Results, round_order, standard_cells
from benchmarks.support.settings import HIGH_CONCURRENCY
from benchmarks.support.table import pct, print_table

PROXY = "bare proxy"
GATEWAY = "reference gateway"
"""The subject every ratio is taken against."""
SLOW_DIRECTIVE = "text_tokens=8; chunk=2; latency_ms=25"
"""The slow upstream: four deltas 25 ms apart. A relay that buffered the stream would show its first token at
about the stream's end, 75 ms after the upstream's."""
WHO = "benchmarks.gateway_vs_peers"


@dataclass(frozen=True)
class Plan:
    """How many calls: per subject per round at concurrency 32 (``requests``) and 1 (``low``)."""

    requests: int = 1000
    low: int = 100
    rounds: int = 6
    slow_runs: int = 30
    warmup: int = 100
    bound_s: float = 600.0
    """The whole run stops after this, measured or not."""


QUICK = Plan(requests=40, low=10, rounds=1, slow_runs=2, warmup=20, bound_s=180.0)


@dataclass
class Measured:
    subjects: list[str]
    skipped: str | None
    """Why Portkey is not among the subjects, if it is not."""
    results: Results = field(default_factory=Results)
    slow: dict[str, list[float]] = field(default_factory=dict)
    """Time to first token with the slow upstream, per subject and for ``upstream`` called directly, one per
    slow round (so that the i-th of each were taken moments apart)."""
    memory: dict[str, float | None] = field(default_factory=dict)
    answered: int = 0
    """Calls the reference gateway answered (each must be on its record)."""
    load_average: tuple[float, float] = (0.0, 0.0)
    """The machine's 1-minute load average before and after: how busy the shared machine was."""


async def measure(plan: Plan, db_url: str, with_portkey: bool = True) -> Measured:
    cells = standard_cells(plan.requests, plan.low)
    skipped = portkey.unavailable() if with_portkey else "left out (--without-portkey)"
    async with AsyncExitStack() as stack:

        async def start(server: AbstractAsyncContextManager[Server]) -> Server:
            return await stack.enter_async_context(server)

        upstream = await start(server_process(upstream_args(), "upstream"))
        subjects = [
            replace(await start(server_process(proxy_command(upstream.url), PROXY)), tree=True),
            replace(await start(server_process(gateway_args(upstream.url, db_url), GATEWAY)), tree=True),
        ]
        if skipped is None:
            subjects.append(
                await start(portkey.portkey_process(upstream.url, f"Portkey {portkey.version()}"))
            )
        run = Measured([s.name for s in subjects], skipped, load_average=(os.getloadavg()[0], 0.0))

        def counted(server: Server, calls: int) -> None:
            run.answered += calls if server.name == GATEWAY else 0

        print("  warm-up", flush=True)
        for server in subjects:  # connection pools, caches, first-call imports and JIT
            await load(server, plan.warmup, HIGH_CONCURRENCY, False)
            await load(server, max(5, plan.warmup // 5), 1, True)
            counted(server, plan.warmup + max(5, plan.warmup // 5))
        for r in range(plan.rounds):
            print(f"  round {r + 1}/{plan.rounds}", flush=True)
            for cell in cells:
                for server in round_order(subjects, r):
                    sample = await load(
                        server, cell.requests, cell.concurrency, cell.stream, measure_cpu=True
                    )
                    if sample.cpu_ms_per_call is None:
                        raise SystemExit(f"{WHO}: no /proc/<pid>/stat to read the subjects' CPU (Linux only)")
                    run.results.add(cell, server.name, sample)
                    counted(server, sample.calls)
        print("  slow upstream", flush=True)
        direct = replace(upstream, name="upstream")
        for i in range(plan.slow_runs):
            for server in round_order([direct, *subjects], i):
                slow = await load(server, 1, 1, True, SLOW_DIRECTIVE)
                run.slow.setdefault(server.name, []).extend(slow.latencies_ms)
                counted(server, 1)
        run.memory = {s.name: peak_memory_mib(s.pid, tree=True) for s in subjects}
        run.load_average = (run.load_average[0], os.getloadavg()[0])
    return run


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None or base <= 0 or value < 0:
        return "n/a"
    return f"{value / base:.2f}x"


def figures(run: Measured) -> list[tuple[str, str, dict[str, float | None]]]:
    """(label, format, value per subject) for every row of the table."""
    r, subjects = run.results, run.subjects
    cells = sorted({cell for cell, _ in r.runs}, key=lambda c: (c.stream, c.concurrency))
    out: list[tuple[str, str, dict[str, float | None]]] = []
    for cell in cells:
        latency = "TTFT" if cell.stream else "latency"
        out += [
            (f"{cell.label}: req/s", ",.0f", {s: r.median_rate(cell, s) for s in subjects}),
            (f"{cell.label}: p50 {latency} ms", ".2f", {s: pct(r.latencies(cell, s), 0.5) for s in subjects}),
            (
                f"{cell.label}: p99 {latency} ms",
                ".2f",
                {s: pct(r.latencies(cell, s), 0.99) for s in subjects},
            ),
            (f"{cell.label}: CPU ms/call", ".3f", {s: r.cpu_ms(cell, s) for s in subjects}),
        ]
    added: dict[str, float | None] = {
        # Paired: each call less the direct call of the same slow round, so drift between rounds cancels out.
        s: statistics.median(a - d for a, d in zip(run.slow[s], run.slow["upstream"], strict=True))
        for s in subjects
    }
    out += [
        ("slow upstream: added TTFT p50 ms", "+.2f", added),
        ("peak memory MiB (VmHWM)", ".1f", {s: run.memory.get(s) for s in subjects}),
    ]
    return out


def rows(run: Measured) -> list[list[str]]:
    """The table: one row per figure, one column per subject, each ``value (ratio to the gateway)``."""
    table = []
    for label, spec, values in figures(run):
        base = values[GATEWAY]
        row = [label]
        for subject in run.subjects:
            value = values[subject]
            row.append("n/a" if value is None else f"{value:{spec}} ({_ratio(value, base)})")
        table.append(row)
    return table


def report(run: Measured, plan: Plan, wall: float, outcomes: int, commits: int, chain: str) -> None:
    print()
    print(
        f"the reference gateway beside its peers: one scripted upstream over HTTP, each subject its own process, "
        f"loopback, {os.cpu_count()} CPUs, {wall:.0f} s; load average {run.load_average[0]:.1f} at the start, "
        f"{run.load_average[1]:.1f} at the end"
    )
    print(
        f"  per subject and round: {plan.requests} calls at concurrency {HIGH_CONCURRENCY}, {plan.low} at "
        f"concurrency 1; {plan.rounds} round(s), the order rotated every round; req/s: median over rounds; "
        "latency: all rounds pooled (streamed: time to first token)"
    )
    print(
        "  CPU ms/call: the subject's process tree (utime + stime from /proc) over the calls, median over "
        "rounds; peak memory: VmHWM summed over the tree"
    )
    print(
        f"  slow upstream ({SLOW_DIRECTIVE}; {plan.slow_runs} streamed calls each, concurrency 1, one each per "
        "round in rotated order): added TTFT = the median over rounds of the time to first token less the "
        f"upstream's own called directly in the same round (median {statistics.median(run.slow['upstream']):.1f} ms)"
    )
    print("  (N.NNx): the figure divided by the reference gateway's")
    if run.skipped:
        print(f"  Portkey skipped: {run.skipped}")
    print()
    print_table(["figure", *run.subjects], rows(run))
    print()
    for subject in run.subjects:
        if subject == GATEWAY:
            continue
        cpu = [
            value / base
            for cell, name in run.results.runs
            if name == subject
            and (value := run.results.cpu_ms(cell, subject)) is not None
            and (base := run.results.cpu_ms(cell, GATEWAY))
        ]
        if cpu:
            print(
                f"{subject}: {statistics.median(cpu):.2f}x the reference gateway's CPU per call (median of the cells)"
            )
    print(
        f"reference gateway capture: {outcomes} outcome rows for {run.answered} answered calls, {commits} commits; "
        f"audit-verify: {chain}"
    )


async def main(plan: Plan = Plan(), with_portkey: bool = True) -> Measured:
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gateway-vs-peers-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'gateway.sqlite3'}"
        try:
            async with asyncio.timeout(plan.bound_s):
                run = await measure(plan, db_url, with_portkey)
        except TimeoutError:
            raise SystemExit(f"{WHO}: stopped after {plan.bound_s:.0f} s, before the run was done") from None
        # The gateway has stopped (SIGTERM: its store committed what was queued). The figures count only if
        # every call it answered is on the record and the chain verifies.
        outcomes, commits = await count_outcomes(db_url)
        chain_ok, chain = await audit_verify(db_url)
    report(run, plan, time.perf_counter() - wall, outcomes, commits, chain)
    if outcomes != run.answered or not chain_ok:
        raise SystemExit(
            f"{WHO}: figures void: {outcomes} outcome rows for {run.answered} answered calls; {chain}"
        )
    return run


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = Plan()
    parser.add_argument("--quick", action="store_true", help="a smoke run: a few calls per cell, one round")
    parser.add_argument(
        "--requests",
        type=_positive,
        help=f"calls per subject per round at concurrency 32 (default {default.requests})",
    )
    parser.add_argument(
        "--low", type=_positive, help=f"calls per subject per round at concurrency 1 (default {default.low})"
    )
    parser.add_argument("--rounds", type=_positive, help=f"rounds (default {default.rounds})")
    parser.add_argument(
        "--slow-runs",
        type=_positive,
        help=f"calls per subject with the slow upstream (default {default.slow_runs})",
    )
    parser.add_argument(
        "--without-portkey", action="store_true", help="leave Portkey out even if it is installed"
    )
    a = parser.parse_args()
    chosen = QUICK if a.quick else default
    chosen = replace(
        chosen,
        **{
            name: value
            for name, value in (
                ("requests", a.requests),
                ("low", a.low),
                ("rounds", a.rounds),
                ("slow_runs", a.slow_runs),
            )
            if value is not None
        },
    )
    cli.run(lambda: main(chosen, not a.without_portkey), WHO)
