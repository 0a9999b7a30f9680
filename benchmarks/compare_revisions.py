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
import asyncio
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import benchmarks.gateway_vs_proxy as gvp


def cli(repo: Path) -> list[str]:
    """The reference gateway's command line in ``repo``: ``reference-gateway`` since it has its own, the
    harness's before."""
    return (
        ["-m", "reference_server"]
        if (repo / "reference_server" / "cli.py").is_file()
        else ["-m", "gateway_contracts.cli"]
    )


HERE = gvp.REPO
"""This checkout: the working tree's gateway, the upstream and the proxy run from here."""


@dataclass
class Target:
    name: str
    repo: Path
    args: list[str]
    db_url: str | None = None
    cpu_ms: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """``revision`` checked out in a temporary worktree of this repository."""
    with tempfile.TemporaryDirectory(prefix="gateway-rev-") as tmp:
        path = Path(tmp) / "tree"
        done = subprocess.run(
            ["git", "-C", str(gvp.REPO), "worktree", "add", "--detach", str(path), revision],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"compare_revisions: cannot check out {revision!r}: {done.stderr.strip()}")
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(gvp.REPO), "worktree", "remove", "--force", str(path)], capture_output=True
            )


async def start(stack: AsyncExitStack, target: Target) -> gvp.Server:
    # server_process runs `python ARGS` from gvp.REPO with it on PYTHONPATH: point it at the target's tree.
    gvp.REPO = target.repo
    try:
        return await stack.enter_async_context(gvp.server_process(target.args, target.name))
    finally:
        gvp.REPO = HERE


async def main(revision: str, stream: bool, requests: int, rounds: int) -> None:
    here = HERE
    with worktree(revision) as tree, tempfile.TemporaryDirectory(prefix="gateway-rev-db-") as tmp:
        async with AsyncExitStack() as stack:
            upstream = await start(
                stack, Target("upstream", here, [*cli(here), "upstream", "--host", gvp.HOST, "--port", "0"])
            )

            def gateway(name: str, repo: Path) -> Target:
                db_url = f"sqlite:///{Path(tmp) / f'{name}.sqlite3'}"
                args = [*cli(repo), "serve", "--host", gvp.HOST, "--port", "0", "--db-url", db_url]
                args += ["--upstream", upstream.url, "--log-level", "INFO", "--client-key", gvp.CLIENT_KEY]
                return Target(name, repo, args, db_url)

            targets = [
                gateway(revision, tree),
                gateway("working tree", here),
                Target("proxy", here, ["-m", "benchmarks.gateway_vs_proxy", "--serve-proxy", upstream.url]),
            ]
            servers = [await start(stack, t) for t in targets]
            await gvp.warm_up(servers, requests, stream)
            samples = await gvp.alternating_rounds(
                servers, requests, rounds, stream, who="benchmarks.compare_revisions"
            )
            for target, runs in zip(targets, samples, strict=True):
                target.cpu_ms.extend(s.cpu_ms_per_call or 0.0 for s in runs)
                target.rates.extend(s.rate for s in runs)
        commits = {t.name: await gvp.count_outcomes(t.db_url) for t in targets if t.db_url is not None}

    print(
        f"gateway at {revision} vs the working tree: {'streamed' if stream else 'non-streamed'}, concurrency "
        f"{gvp.HIGH_CONCURRENCY}, {requests} calls x {rounds} rounds each, alternating order"
    )
    print()
    head = f"{'target':<16}{'req/s median':>14}{'best':>8}{'CPU ms/call':>13}{'calls/commit':>14}"
    print(head)
    print("-" * len(head))
    for t in targets:
        rows, n = commits.get(t.name, (0, 0))
        per_commit = f"{rows / n:.1f}" if n else "-"
        print(
            f"{t.name:<16}{statistics.median(t.rates):>14,.0f}{max(t.rates):>8,.0f}"
            f"{statistics.median(t.cpu_ms):>13.3f}{per_commit:>14}"
        )
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
    try:
        asyncio.run(main(a.revision, a.stream, a.requests, a.rounds))
    except KeyboardInterrupt:
        sys.exit(130)
