"""The reference gateway at another git revision beside the working tree's, on one upstream, in one run.

A change that should make the gateway faster is judged here: both gateways (and the bare proxy, as a yardstick)
run at once, each its own process, relaying to one shared scripted upstream over HTTP on 127.0.0.1, and get
the same calls at concurrency 32, round after round in alternating order. Run-to-run drift on a shared machine
is larger than most single changes, so only figures from the same run are compared. The other revision is
checked out into a temporary git worktree (removed afterwards) and served from there.

For each it prints the median and best requests/s over the rounds, the server's median CPU per call (from
``/proc``) and, for each gateway, its calls per commit (from its database afterwards).

Run: ``python -m benchmarks.compare_revisions REV [--stream] [--requests N] [--rounds R]``, e.g.
``python -m benchmarks.compare_revisions HEAD~3``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.support import cli
from benchmarks.support.processes import Server, gateway_args, server_process, upstream_args
from benchmarks.support.proxy import proxy_command
from benchmarks.support.record import count_outcomes
from benchmarks.support.revisions import worktree
from benchmarks.support.rounds import alternating_rounds, warm_up
from benchmarks.support.settings import CLI, HIGH_CONCURRENCY, REPO
from benchmarks.support.table import print_table

HERE = REPO
"""This checkout: the working tree's gateway, the upstream and the proxy run from here."""


@dataclass
class Target:
    name: str
    repo: Path
    args: list[str]
    db_url: str | None = None
    cpu_ms: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)


async def start(stack: AsyncExitStack, target: Target) -> Server:
    """``python ARGS`` run from the target's tree, with that tree first on its ``PYTHONPATH``."""
    return await stack.enter_async_context(server_process(target.args, target.name, target.repo))


async def main(revision: str, stream: bool, requests: int, rounds: int) -> None:
    here = HERE
    with (
        worktree(revision, "benchmarks.compare_revisions") as tree,
        tempfile.TemporaryDirectory(prefix="gateway-rev-db-") as tmp,
    ):
        async with AsyncExitStack() as stack:
            upstream = await start(stack, Target("upstream", here, upstream_args()))

            def gateway(name: str, repo: Path) -> Target:
                db_url = f"sqlite:///{Path(tmp) / f'{name}.sqlite3'}"
                args = gateway_args(upstream.url, db_url)
                if not (repo / "reference_server" / "cli.py").is_file():
                    # A revision from before the reference gateway had its own command line ran it as the harness's.
                    args = ["-m", "gateway_contracts.cli", *args[len(CLI) :]]
                return Target(name, repo, args, db_url)

            targets = [
                gateway(revision, tree),
                gateway("working tree", here),
                Target("proxy", here, proxy_command(upstream.url)),
            ]
            servers = [await start(stack, t) for t in targets]
            await warm_up(servers, requests, stream)
            samples = await alternating_rounds(
                servers, requests, rounds, stream, who="benchmarks.compare_revisions"
            )
            for target, runs in zip(targets, samples, strict=True):
                target.cpu_ms.extend(s.cpu_ms_per_call or 0.0 for s in runs)
                target.rates.extend(s.rate for s in runs)
        commits = {t.name: await count_outcomes(t.db_url) for t in targets if t.db_url is not None}

    print(
        f"gateway at {revision} vs the working tree: {'streamed' if stream else 'non-streamed'}, concurrency "
        f"{HIGH_CONCURRENCY}, {requests} calls x {rounds} rounds each, alternating order"
    )
    print()
    table = []
    for t in targets:
        rows, n = commits.get(t.name, (0, 0))
        table.append(
            [
                t.name,
                f"{statistics.median(t.rates):,.0f}",
                f"{max(t.rates):,.0f}",
                f"{statistics.median(t.cpu_ms):.3f}",
                f"{rows / n:.1f}" if n else "-",
            ]
        )
    print_table(["target", "req/s median", "best", "CPU ms/call", "calls/commit"], table)
    old, new = targets[0], targets[1]
    print()
    print(
        f"working tree vs {revision}: req/s x{statistics.median(new.rates) / statistics.median(old.rates):.2f} "
        f"(median), CPU per call x{statistics.median(new.cpu_ms) / statistics.median(old.cpu_ms):.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("revision", help="a git revision of this repository (a commit, tag, HEAD~N, ...)")
    parser.add_argument("--stream", action="store_true", help="streamed calls (default: non-streamed)")
    parser.add_argument(
        "--requests", type=int, default=1500, help="calls per target per round (default 1500)"
    )
    parser.add_argument("--rounds", type=int, default=10, help="rounds (default 10)")
    a = parser.parse_args()
    cli.run(lambda: main(a.revision, a.stream, a.requests, a.rounds), "benchmarks.compare_revisions")
