"""Capture throughput: non-streamed calls per second through the full gateway, beside a bare proxy.

Set-up, all on loopback, every server an OS process of its own (the load generator, this process, never
shares a core's event loop with what it measures):

- **ceiling**: a bare aiohttp pass-through proxy (no validation, no routing, no capture, no logging) in front of
  the scripted upstream served over HTTP (``gateway-contracts upstream``);
- **gateway**: ``gateway-contracts serve`` exactly as a user runs it (SQLite with ``synchronous=FULL``, WAL,
  group commit; JSON logs and access log on; the in-process scripted upstream), so every call writes its
  outcome row, its two audit events and its ledger debit, durably, before its response leaves.

Each target gets a warm-up, then ``--requests`` calls at ``--concurrency`` in flight, for ``--rounds`` rounds
(alternating targets, best round reported). Afterwards the gateway's database must hold exactly one outcome row
per call it answered and its audit chain must verify, or the figure is void. Prints calls/s for both, the ratio
(target >= 60%) and how many calls each capture commit carried.

Run: ``python -m benchmarks.capture_throughput [--requests N] [--concurrency C] [--rounds R]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

TARGET_RATIO = 0.60
REPO = Path(__file__).resolve().parents[1]
BODY = {
    "model": "ainfera-inference",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "how fast is the capture?"}],
}
HEADERS = {"x-api-key": "bench-client-key", "content-type": "application/json"}
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:[0-9]+)")


# -- the ceiling: a bare pass-through proxy ---------------------------------------------------------------------


def proxy_app(upstream_url: str) -> web.Application:
    """Relays ``POST /v1/messages`` to the upstream and its answer back; nothing else."""
    session_key = web.AppKey("session", aiohttp.ClientSession)

    async def relay(request: web.Request) -> web.Response:
        body = await request.read()
        session = request.app[session_key]
        async with session.post(
            f"{upstream_url}/v1/messages", data=body, headers={"content-type": "application/json"}
        ) as upstream:
            payload = await upstream.read()
            return web.Response(status=upstream.status, body=payload, content_type="application/json")

    async def session_context(app: web.Application) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=256, limit_per_host=256)
        async with aiohttp.ClientSession(connector=connector) as session:
            app[session_key] = session
            yield

    app = web.Application()
    app.router.add_post("/v1/messages", relay)
    app.cleanup_ctx.append(session_context)
    return app


async def serve_proxy(upstream_url: str) -> None:
    """``--serve-proxy URL``: run the proxy on a free loopback port until SIGTERM/SIGINT."""
    from gateway_contracts.commands._signals import wait_for_stop_signal

    runner = web.AppRunner(proxy_app(upstream_url), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"bare proxy listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    try:
        await wait_for_stop_signal()
    finally:
        await runner.cleanup()


# -- processes ----------------------------------------------------------------------------------------------------


@asynccontextmanager
async def server_process(args: list[str], name: str) -> AsyncIterator[str]:
    """Start ``python ARGS`` (it must print ``listening on URL``), yield the URL, SIGTERM it afterwards."""
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
        yield url
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


@dataclass
class Run:
    calls: int
    seconds: float
    errors: int

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


async def load(url: str, requests: int, concurrency: int) -> Run:
    """``requests`` non-streamed calls with ``concurrency`` in flight; every answer must be a 200."""
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    remaining = requests
    errors = 0

    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                async with session.post(f"{url}/v1/messages", json=BODY, headers=HEADERS) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    return Run(requests, seconds, errors)


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


async def main(requests: int = 3000, concurrency: int = 32, rounds: int = 2, warmup: int = 300) -> float:
    """Run the comparison, print the figures; returns gateway calls/s divided by proxy calls/s."""
    from reference_server.db import ops

    with tempfile.TemporaryDirectory(prefix="capture-throughput-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'gateway.sqlite3'}"
        cli = ["-m", "gateway_contracts.cli"]
        async with (
            server_process([*cli, "upstream", "--port", "0"], "scripted upstream") as upstream_url,
            server_process(
                ["-m", "benchmarks.capture_throughput", "--serve-proxy", upstream_url], "proxy"
            ) as proxy,
            server_process(
                [
                    *cli,
                    "serve",
                    "--port",
                    "0",
                    "--db-url",
                    db_url,
                    "--upstream",
                    "scripted",
                    "--log-level",
                    "INFO",
                ],
                "gateway",
            ) as gateway,
        ):
            targets = {"bare proxy (ceiling)": proxy, "gateway, full capture": gateway}
            for url in targets.values():
                await load(url, warmup, concurrency)
            results: dict[str, list[Run]] = {name: [] for name in targets}
            for _ in range(rounds):
                for name, url in targets.items():
                    results[name].append(await load(url, requests, concurrency))
        # The gateway has stopped (SIGTERM: its store committed everything queued); the figure counts only if
        # every call it answered is on the record and the chain verifies.
        answered = warmup + rounds * requests
        outcomes, commits = await count_outcomes(db_url)
        verified = await ops.verify_audit_chain(db_url)

    best = {name: max(runs, key=lambda r: r.rate) for name, runs in results.items()}
    errors = sum(r.errors for runs in results.values() for r in runs)
    ceiling, ours = best["bare proxy (ceiling)"].rate, best["gateway, full capture"].rate
    ratio = ours / ceiling
    print(
        f"capture throughput — non-streamed calls, concurrency {concurrency}, {requests} calls per round, "
        f"{rounds} rounds (best shown), loopback, {os.cpu_count()} CPUs"
    )
    for name, runs in results.items():
        each = ", ".join(f"{r.rate:,.0f}" for r in runs)
        print(f"  {name:<24}{best[name].rate:>10,.0f} calls/s   (rounds: {each})")
    print(f"  ratio gateway / proxy: {ratio:.0%} (target >= {TARGET_RATIO:.0%}): ", end="")
    print("MET" if ratio >= TARGET_RATIO else "BELOW TARGET")
    print(
        f"  capture: {outcomes} outcome rows for {answered} answered calls, {commits} commits "
        f"({outcomes / max(commits, 1):.1f} calls per commit); audit chain: {verified.message}"
    )
    if errors or outcomes != answered or not verified.ok:
        raise SystemExit(f"benchmark void: {errors} non-200 answers, {outcomes}/{answered} captured")
    return ratio


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=3000, help="calls per target per round (default 3000)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight (default 32)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per target, best reported (default 2)")
    parser.add_argument("--serve-proxy", metavar="UPSTREAM_URL", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.serve_proxy:
        asyncio.run(serve_proxy(a.serve_proxy))
    else:
        asyncio.run(main(a.requests, a.concurrency, a.rounds))
