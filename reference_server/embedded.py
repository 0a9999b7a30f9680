"""The embedded reference gateway: the gateway in front of the scripted upstream, as real processes on loopback.

Each is a process of its own running the same ``reference-gateway serve`` / ``upstream`` command a user runs (a
subprocess, or a fork of a process that imported their modules once: ``start``), so the harness checks the
embedded gateway exactly as it checks anyone's: by URL, database, log file and key. A second gateway instance
with its kill-switch threshold at 0 serves the kill-switch clause.

:func:`embedded` yields what the harness needs to know of them as target options (dotted keys, the ready line of
``contracts/start.py``); ``reference-gateway embedded`` prints them as that line, and is how the reference's own
target file (``contracts/targets/reference.toml``) has the harness start it.
"""

from __future__ import annotations

import os
import re
import secrets
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, Protocol

from contracts.exits import EXIT_UNREACHABLE, CliError
from reference_server.mutants import MUTANT_ENV

_LISTENING = re.compile(r"listening on (http://[0-9.]+:[0-9]+)")
START_TIMEOUT = 60.0
DEFAULT_BODY_LIMIT = 1024 * 1024


class Process(Protocol):
    """What ``embedded`` needs of a started gateway: a ``subprocess.Popen``, or a fork (``gateway_forks``)."""

    @property
    def stdout(self) -> IO[str] | None: ...
    def poll(self) -> int | None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...
    def wait(self, timeout: float | None = None) -> int: ...


Starter = Callable[[list[str], Path, str | None], Process]
"""Starts ``reference-gateway ARGS`` as a mutant (or not), its stderr into a log file."""


def start_command(args: list[str], log: Path, mutant: str | None = None) -> subprocess.Popen[str]:
    """Start a ``reference-gateway`` subcommand on port 0 (``await_url`` then reads the URL it prints)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop(MUTANT_ENV, None)
    if mutant:
        env[MUTANT_ENV] = mutant
    return subprocess.Popen(
        [sys.executable, "-m", "reference_server", *args],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env=env,
    )


def await_url(proc: Process, what: str, log: Path) -> str:
    """The URL the process prints once it listens (bounded wait, no sleeps), or a one-line error."""
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT
    seen: list[str] = []
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = _LISTENING.search(line)
        if match:
            return match.group(1)
    proc.kill()
    proc.wait()
    tail = (log.read_text(errors="replace").strip().splitlines() or seen or ["no output"])[-1]
    raise CliError(f"the embedded {what} did not start: {tail}", EXIT_UNREACHABLE)


def stop_process(proc: Process, signalled: bool = False) -> None:
    if proc.poll() is None:
        if not signalled:
            proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def embedded(
    workdir: Path | None = None,
    mutant: str | None = None,
    db_url: str | None = None,
    upstream_url: str | None = None,
    kill_switch: bool = True,
    body_limit: int = DEFAULT_BODY_LIMIT,
    start: Starter = start_command,
) -> Iterator[dict[str, Any]]:
    """Start the embedded gateway, on ``db_url`` (default: a fresh SQLite file in ``workdir``); ``mutant`` names a
    deliberately broken variant (``reference_server.mutants``); ``upstream_url`` reuses a running scripted
    upstream (it keeps no state between calls) instead of starting one; ``kill_switch=False`` skips the second
    gateway whose kill-switch is engaged (the kill-switch clause is then skipped, not failed). ``start`` starts
    the gateways (default: each a ``reference-gateway serve`` process; ``selftest`` forks them).

    Yields the target options only a running instance has: its URLs, database, log, a fresh client key it
    enforces and a fresh internal key."""
    with ExitStack() as stack:
        base = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="reference-gateway-")))
        base.mkdir(parents=True, exist_ok=True)
        upstream = None
        if upstream_url is None:
            upstream = start(["upstream", "--port", "0"], base / "upstream.stderr", None)
            stack.callback(stop_process, upstream)
            upstream_url = await_url(upstream, "upstream", base / "upstream.stderr")
        key = secrets.token_hex(16)
        client_key = f"gc-client-{secrets.token_hex(16)}"
        db_url = db_url or f"sqlite:///{base / 'gateway.sqlite3'}"
        log_file = base / "gateway.log.jsonl"
        common = [
            "--port",
            "0",
            "--upstream",
            upstream_url,
            "--max-body-bytes",
            str(body_limit),
            "--client-key",
            client_key,
        ]
        ks_db = f"sqlite:///{base / 'kill-switch.sqlite3'}"
        # The two gateways start side by side: start-up is mostly imports, and this halves the wait.
        gateway = start(
            ["serve", *common, "--db-url", db_url, "--log-file", str(log_file), "--internal-key", key],
            base / "gateway.stderr",
            mutant,
        )
        gateways = [gateway]
        stack.callback(_stop_all, gateways)
        killed = None
        if kill_switch:
            killed = start(
                [
                    "serve",
                    *common,
                    "--db-url",
                    ks_db,
                    "--kill-switch-usd",
                    "0",
                    "--log-file",
                    str(base / "ks.log.jsonl"),
                ],
                base / "kill-switch.stderr",
                mutant,
            )
            gateways.append(killed)
        # Drained only now: a fork (``start``) must not copy a process in which another thread runs.
        if upstream is not None:
            _drain(upstream)
        url = await_url(gateway, "serve", base / "gateway.stderr")
        _drain(gateway)
        ready: dict[str, Any] = {
            "target.base_url": url,
            "target.name": _name(mutant, db_url),
            "auth.api_key": client_key,
            "metrics.key": key,
            "logs.file": str(log_file),
            "capture.db_url": db_url,
            "features.upstream_url": upstream_url,
        }
        if killed is not None:
            ready["features.kill_switch_url"] = await_url(killed, "serve", base / "kill-switch.stderr")
            _drain(killed)
            ready["features.kill_switch_db_url"] = ks_db
        yield ready


def _stop_all(gateways: list[Process]) -> None:
    """Both gateways signalled at once, then waited for: their shutdowns overlap."""
    for proc in gateways:
        if proc.poll() is None:
            proc.terminate()
    for proc in gateways:
        stop_process(proc, signalled=True)


def _drain(proc: Process) -> None:
    drain = getattr(proc, "drain", None)  # a fork's stdout is a FIFO that must not fill up
    if drain is not None:
        drain()


def _name(mutant: str | None, db_url: str) -> str:
    return (
        f"mutant {mutant} of " if mutant else ""
    ) + f"the reference gateway (embedded, {db_url.split(':', 1)[0]})"
