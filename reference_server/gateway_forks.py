"""A fork server for ``selftest``'s gateways: one process imports the gateway once, and each start forks it.

A gateway's start is mostly imports (aiohttp, SQLAlchemy, Alembic, the app: about a second of CPU), the same for
every mutant, and the mutant switch is read when a call needs it (``mutants.base.ACTIVE``), never at import. So
``selftest`` starts this server once, and each gateway it needs (one per mutant, ~100) is a fork of it running
the very ``reference-gateway serve`` command a user runs, with its own arguments, database, log and stderr, and
the mutant switched on in the child only. Nothing but imports has run in the server (no event loop, no logging
set-up, no thread, no database), so each child starts from the state a fresh ``serve`` process has after its
imports.

Protocol, one JSON line each way: the request ``{"args": [...], "mutant": NAME|null, "stdout": FIFO,
"stderr": PATH}`` on stdin; the reply, the child's pid. The child writes its stdout into the named FIFO, which the
caller reads as it would read a ``Popen`` pipe (:class:`Forked`). The kernel reaps the children (SIGCHLD ignored);
the caller stops one by its pid and learns of its end from a pidfd. The end of stdin ends the server.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, NoReturn

from contracts.exits import exit_after

PRELOAD = (
    "aiohttp.web",
    "reference_server.app",
    "reference_server.commands.serve",
    "reference_server.db.ops",
    "reference_server.observability.access_log",
    "reference_server.observability.logging_setup",
)
"""What ``serve`` imports before it listens (``reference_server.cli`` loads the rest of the commands)."""


class Forked:
    """A forked gateway, with the part of ``subprocess.Popen``'s interface that ``embedded`` uses."""

    def __init__(self, pid: int, stdout: IO[str], drain_to: Path, own_child: bool = False) -> None:
        self.pid = pid
        self.stdout = stdout
        self._drain_to = drain_to
        self._own_child = own_child
        """Forked by this very process (``fork_here``): reaped here, not by the kernel."""
        try:
            self._exited: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # gone already (and reaped): it failed at once
            self._exited = None

    def drain(self) -> None:
        """Keep reading what it prints after its ``listening`` line, so that it never blocks on a full FIFO."""

        def run() -> None:
            with self._drain_to.open("a") as out, suppress(OSError, ValueError):
                for line in self.stdout:
                    out.write(line)

        threading.Thread(target=run, name=f"gateway-{self.pid}-stdout", daemon=True).start()

    def poll(self) -> int | None:
        if self._alive(0.0):
            return None
        return self.wait(0.0)  # an own child is reaped here: left a zombie, it would outlive this process

    def _alive(self, timeout: float) -> bool:
        if self._exited is None:
            return False
        readable, _, _ = select.select([self._exited], [], [], timeout)
        return not readable

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self._exited is not None:
            with suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._exited, sig)

    def wait(self, timeout: float | None = None) -> int:
        if self._alive(timeout if timeout is not None else 1e9):
            raise subprocess.TimeoutExpired([f"gateway {self.pid}"], timeout or 0.0)
        if self._exited is not None:
            os.close(self._exited)
            self._exited = None
            if self._own_child:
                with suppress(ChildProcessError):
                    os.waitpid(self.pid, 0)
        return 0


class ForkServer:
    """The client side: starts the server, and forks gateways from it (thread-safe)."""

    def __init__(self, proc: subprocess.Popen[str], workdir: Path) -> None:
        self._proc = proc
        self._workdir = workdir
        self._lock = threading.Lock()
        self._count = 0

    def start(self, args: list[str], log: Path, mutant: str | None = None) -> Forked:
        """``reference-gateway ARGS`` (a ``serve``) forked, as ``mutant``; its stderr into ``log``."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        with self._lock:
            self._count += 1
            fifo = self._workdir / f"gateway-{self._count}.stdout"
            os.mkfifo(fifo)
            # Opened before the child exists (non-blocking, so no writer is needed yet), then blocking, as a pipe.
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            os.set_blocking(fd, True)
            request = {"args": args, "mutant": mutant, "stdout": str(fifo), "stderr": str(log)}
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            reply = self._proc.stdout.readline()
        if not reply.strip().isdigit():
            os.close(fd)
            raise RuntimeError(f"the gateway fork server did not fork: {reply.strip() or 'it is gone'}")
        return Forked(
            int(reply), os.fdopen(fd, encoding="utf-8", errors="replace"), log.with_suffix(".stdout")
        )


@contextmanager
def fork_server(workdir: Path) -> Iterator[ForkServer]:
    """The server, running until the block ends (its stdin closed: it exits; forked gateways are stopped by
    whoever started them)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    from reference_server.mutants import MUTANT_ENV

    env.pop(MUTANT_ENV, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reference_server.gateway_forks"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(workdir / "fork-server.stderr").open("w"),
        text=True,
        env=env,
    )
    try:
        yield ForkServer(proc, workdir)
    finally:
        close_and_wait(proc)


def preload(extra: tuple[str, ...] = ()) -> None:
    """Import what the forked commands would import (``serve``'s modules, ``extra``, every command's module)."""
    import importlib

    for name in (*PRELOAD, *extra):
        importlib.import_module(name)
    from reference_server import cli

    cli.parser()  # imports every command module, as each child's cli.main would


UPSTREAM_PRELOAD = ("reference_server.upstream.scripted.server",)
"""What ``upstream`` imports before it listens, for a process that forks the scripted upstream too."""


def fork_here(args: list[str], log: Path, mutant: str | None = None) -> Forked:
    """``reference-gateway ARGS`` forked from this process (which has called :func:`preload` and runs no other
    thread): what ``embedded`` does to start its upstream and gateways without three interpreters importing the
    same modules. The child's stdout is a pipe read as ``Popen``'s would be."""
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        # Whatever this process does on a signal is not the child's business: serve sets up its own handling.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _child({"args": args, "mutant": mutant, "stdout": write, "stderr": str(log)})
    os.close(write)
    return Forked(pid, os.fdopen(read, encoding="utf-8", errors="replace"), log.with_suffix(".stdout"), True)


def _serve_requests() -> None:
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    for line in sys.stdin:
        request: dict[str, Any] = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)  # never returns
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


def _child(request: dict[str, Any]) -> NoReturn:
    def run() -> int:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        out = request["stdout"]  # a FIFO's path, or (fork_here) a pipe's descriptor
        os.dup2(out if isinstance(out, int) else os.open(out, os.O_WRONLY), 1)
        os.dup2(os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
        from reference_server import cli
        from reference_server.mutants import MUTANT_ENV, base

        mutant = request["mutant"]
        if mutant:
            os.environ[MUTANT_ENV] = mutant
        base.ACTIVE = mutant or None
        return cli.main(request["args"])

    exit_after(run)  # never returns into the server's loop


def close_and_wait(proc: subprocess.Popen[str]) -> None:
    """End a server that reads requests on its stdin: close it, then a bounded wait (killed after 15 s)."""
    with suppress(OSError):
        assert proc.stdin is not None
        proc.stdin.close()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    _serve_requests()
