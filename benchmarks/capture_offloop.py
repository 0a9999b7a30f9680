"""An experiment, not a design of the gateway: what moving capture off the gateway's event loop would buy.

``benchmarks.gateway_cost`` shows the gateway without capture well above the throughput target and the gateway
with it well below. In the gateway, capture is CPU on the same event-loop thread as the HTTP work, so the
obvious next design is to run the capture store in a process of its own. This measures that design before
anyone builds it for real.

Three servers at once, each its own process, relaying ``POST /v1/messages`` to one shared scripted upstream over
HTTP on 127.0.0.1, the same calls at concurrency 32, round after round in alternating order:

- **proxy**: the bare aiohttp proxy (``benchmarks.support.proxy``) (asyncio's loop, as the target states it);
- **gateway**: ``reference-gateway serve`` as a user runs it (capture on SQLite in its own process);
- **off-loop**: the gateway's app with :class:`ChildProcessCaptureStore`: each ``record()`` is pickled to a
  child process over a pipe, with whatever else was queued in the same loop iteration; the child runs the real
  :class:`~reference_server.capture.store.SqlCaptureStore` (the same group commit, durability and chain) and
  answers once the transaction committed, so a call still claims success only for a committed capture.

It prints the median and best requests/s over the rounds and each server's CPU per call (the off-loop gateway's
child is not counted there: its work moved to the other CPU, which is the point). The prototype store has only
what the measurement needs: no reads (``/v1/audit`` answers an empty list), a kill-switch that is never
engaged, and a child that is not restarted if it dies (its pending callers then fail, as they must).

Run: ``python -m benchmarks.capture_offloop [--stream] [--load-generator raw|aiohttp] [--requests N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import pickle
import statistics
import struct
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from benchmarks.support import cli
from benchmarks.support.load import LOAD_GENERATORS
from benchmarks.support.processes import (
    gateway_args,
    run_on_loop,
    serve_until_stopped,
    server_process,
    upstream_args,
)
from benchmarks.support.proxy import proxy_command
from benchmarks.support.record import audit_verify, count_outcomes
from benchmarks.support.rounds import alternating_rounds, warm_up
from benchmarks.support.settings import CLIENT_KEY, HIGH_CONCURRENCY, HOST, TARGET_RATIO
from benchmarks.support.table import print_table
from reference_server.capture.types import CallRecord, CaptureReceipt, KillSwitchState

_FRAME = struct.Struct("!I")
"""Every message on the pipes is a 4-byte length and a pickled list."""


def _frame(items: list[Any]) -> bytes:
    payload = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(payload)) + payload


async def _read_frame(reader: asyncio.StreamReader) -> list[Any]:
    (size,) = _FRAME.unpack(await reader.readexactly(_FRAME.size))
    items: list[Any] = pickle.loads(await reader.readexactly(size))
    return items


class ChildProcessCaptureStore:
    """A capture store whose writes happen in a child process (see the module docstring; a prototype)."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[CaptureReceipt]] = {}
        self._outbox: list[tuple[int, CallRecord]] = []
        self._spent_usd = 0.0
        self._child: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.capture_offloop", "--serve-child", self.db_url,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 22,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read_acks())

    async def _read_acks(self) -> None:
        assert self._child is not None and self._child.stdout is not None
        try:
            while True:
                for call_id, receipt, error, spent_usd in await _read_frame(self._child.stdout):
                    self._spent_usd = spent_usd
                    future = self._pending.pop(call_id)
                    if future.done():  # the caller went away; its capture is committed all the same
                        continue
                    if error is None:
                        future.set_result(receipt)
                    else:
                        future.set_exception(RuntimeError(f"capture failed in the child: {error}"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the child ended
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(RuntimeError("the capture child process ended"))
            self._pending.clear()

    def _send(self) -> None:
        # Everything record() queued in this loop iteration goes in one write.
        batch, self._outbox = self._outbox, []
        if self._child is not None and self._child.stdin is not None and not self._child.stdin.is_closing():
            self._child.stdin.write(_frame(batch))

    async def record(self, call: CallRecord) -> CaptureReceipt:
        if self._reader is None or self._reader.done():
            raise RuntimeError("the capture child process is not running")
        call_id, self._next_id = self._next_id, self._next_id + 1
        future: asyncio.Future[CaptureReceipt] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        if not self._outbox:
            asyncio.get_running_loop().call_soon(self._send)
        self._outbox.append((call_id, call))
        return await future

    async def kill_switch(self) -> KillSwitchState:
        return KillSwitchState(False, self._spent_usd, None)

    async def audit_events(self, request_id: str) -> list[dict[str, Any]]:
        return []

    async def close(self) -> None:
        if self._child is not None and self._child.stdin is not None:
            self._child.stdin.close()  # the child commits what it has, then exits
            await self._child.wait()
        if self._reader is not None:
            await self._reader


async def serve_child(db_url: str) -> None:
    """``--serve-child DB_URL``: the real store, fed from stdin, answering on stdout after each commit."""
    from reference_server.capture.store import SqlCaptureStore
    from reference_server.db import ops

    await ops.upgrade(db_url)
    await ops.seed(db_url)
    store = SqlCaptureStore(db_url)
    await store.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 22)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout.buffer)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    Ack = tuple[int, CaptureReceipt | None, str | None, float]
    acks: list[Ack] = []

    def send_acks() -> None:
        nonlocal acks
        batch, acks = acks, []
        writer.write(_frame(batch))

    async def capture(call_id: int, call: CallRecord) -> None:
        ack: Ack
        try:
            ack = (call_id, await store.record(call), None, store.spent_usd)
        except Exception as exc:
            ack = (call_id, None, f"{type(exc).__name__}: {exc}", store.spent_usd)
        if not acks:
            loop.call_soon(send_acks)
        acks.append(ack)

    running: set[asyncio.Task[None]] = set()
    try:
        while True:
            try:
                batch = await _read_frame(reader)
            except asyncio.IncompleteReadError:
                break  # the gateway closed the pipe: finish what is queued and stop
            for call_id, call in batch:
                task = asyncio.create_task(capture(call_id, call))
                running.add(task)
                task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)
    finally:
        await store.close()


async def serve_gateway(upstream_url: str, db_url: str) -> None:
    """``--serve-gateway UPSTREAM_URL DB_URL``: the gateway's app, as ``serve`` builds it, on the child-process
    store; until SIGTERM/SIGINT."""
    from aiohttp import web

    from reference_server.app import build_app
    from reference_server.config import GatewayConfig
    from reference_server.observability.access_log import ScrubbingAccessLogger
    from reference_server.observability.logging_setup import install_json_logging

    install_json_logging(level="INFO")
    config = GatewayConfig(host=HOST, port=0, upstreams=[upstream_url], client_keys=(CLIENT_KEY,))
    app = build_app(config, capture=ChildProcessCaptureStore(db_url), migrate=False)
    runner = web.AppRunner(
        app, access_log=logging.getLogger("aiohttp.access"), access_log_class=ScrubbingAccessLogger
    )
    await serve_until_stopped(runner, "gateway with capture off the loop")


async def main(stream: bool = False, generator: str = "raw", requests: int = 2000, rounds: int = 8) -> None:
    rates: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="capture-offloop-") as tmp:
        databases = {name: f"sqlite:///{Path(tmp) / f'{name}.sqlite3'}" for name in ("gateway", "off-loop")}
        async with AsyncExitStack() as stack:
            upstream = await stack.enter_async_context(server_process(upstream_args(), "upstream"))
            gateway = gateway_args(upstream.url, databases["gateway"])
            off_loop = [
                "-m", "benchmarks.capture_offloop", "--serve-gateway", upstream.url, databases["off-loop"],
            ]  # fmt: skip
            servers = [
                ("proxy", await stack.enter_async_context(server_process(proxy_command(upstream.url), "proxy"))),
                ("gateway", await stack.enter_async_context(server_process(gateway, "gateway"))),
                ("off-loop", await stack.enter_async_context(server_process(off_loop, "off-loop"))),
            ]  # fmt: skip
            await warm_up([server for _, server in servers], requests, stream)
            samples = await alternating_rounds(
                [server for _, server in servers],
                requests,
                rounds,
                stream,
                generator=generator,
                who="benchmarks.capture_offloop",
            )
            for (name, _), taken in zip(servers, samples, strict=True):
                rates[name] = [s.rate for s in taken]
                cpu[name] = [s.cpu_ms_per_call or 0.0 for s in taken]
        # Both gateways have stopped (and committed what was queued): every answered call must be on the record
        # and each chain must verify, or the figures are void.
        answered = max(50, requests // 10) + rounds * requests
        for name, db_url in databases.items():
            rows, _ = await count_outcomes(db_url)
            chain_ok, chain_line = await audit_verify(db_url)
            if rows != answered or not chain_ok:
                raise SystemExit(
                    f"figures void: {name} has {rows} outcome rows for {answered} calls; {chain_line}"
                )
    proxy = statistics.median(rates["proxy"])
    print(
        f"capture off the event loop (an experiment): {'streamed' if stream else 'non-streamed'}, concurrency "
        f"{HIGH_CONCURRENCY}, load generator {generator}, {requests} calls x {rounds} rounds, alternating"
    )
    print()
    print_table(
        ["server", "req/s median", "best", "of proxy", "CPU ms/call"],
        [
            [
                name,
                f"{statistics.median(rates[name]):,.0f}",
                f"{max(rates[name]):,.0f}",
                f"{statistics.median(rates[name]) / proxy:.0%}",
                f"{statistics.median(cpu[name]):.3f}",
            ]
            for name in ("proxy", "gateway", "off-loop")
        ],
    )
    gain = statistics.median(rates["off-loop"]) / statistics.median(rates["gateway"])
    print()
    print(
        f"capture in a child process: x{gain:.2f} the gateway's req/s (target: {TARGET_RATIO:.0%} of the "
        "proxy); both gateways: one outcome row per answered call, audit chain verified"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stream", action="store_true", help="streamed calls (default: non-streamed)")
    parser.add_argument("--load-generator", choices=LOAD_GENERATORS, default="raw")
    parser.add_argument(
        "--requests", type=int, default=2000, help="calls per server per round (default 2000)"
    )
    parser.add_argument("--rounds", type=int, default=8, help="rounds (default 8)")
    parser.add_argument("--serve-child", metavar="DB_URL", help=argparse.SUPPRESS)
    parser.add_argument(
        "--serve-gateway", nargs=2, metavar=("UPSTREAM_URL", "DB_URL"), help=argparse.SUPPRESS
    )
    a = parser.parse_args()
    if a.serve_child:
        run_on_loop(lambda: serve_child(a.serve_child), "auto")
    elif a.serve_gateway:
        run_on_loop(lambda: serve_gateway(*a.serve_gateway), "auto")
    else:
        cli.run(lambda: main(a.stream, a.load_generator, a.requests, a.rounds), "benchmarks.capture_offloop")
