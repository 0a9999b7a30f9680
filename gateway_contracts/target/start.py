"""Starting a target that names a start command, and stopping it afterwards (the protocol: ``contracts/start.py``).

The command runs in a process group of its own, with the harness's own interpreter's directory first on ``PATH``
(so ``python3`` and console scripts are the ones installed beside the harness, as in an activated venv), stdin a
pipe, stdout read for the ready line and stderr written to ``start.log`` in the work directory. Every wait is
bounded: a command that exits, or says nothing ready before ``--start-timeout``, is one line naming the last
thing it said, exit 3, and its process group is stopped.
"""

from __future__ import annotations

import json
import os
import selectors
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

from contracts.scrub import default_scrubber
from contracts.start import GIVEN_ENV, WORKDIR_ENV, parse_ready
from gateway_contracts.errors import EXIT_UNREACHABLE, EXIT_USAGE, CliError, printable
from gateway_contracts.target.config import ConfigError, build, explicit_values
from gateway_contracts.target.model import Target

STOP_TIMEOUT = 15.0
"""Seconds the process group has to exit after SIGTERM before it is killed."""
LOG_NAME = "start.log"


@contextmanager
def started(spec: Target, workdir: Path | None = None) -> Iterator[Target]:
    """``spec`` started: its command running until the block ends, the target resolved again with what the
    command's ready line says. ``workdir`` (default: a temporary directory) holds the command's files and log."""
    if not spec.start:
        yield spec
        return
    if spec.inputs is None:
        raise ValueError("a target with a start command must come from gateway_contracts.target.config")
    with ExitStack() as stack:
        base = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gateway-contracts-")))
        base.mkdir(parents=True, exist_ok=True)
        log = base / LOG_NAME
        values, _ = explicit_values(spec.inputs)
        given = {k: (str(v) if isinstance(v, Path) else v) for k, v in values.items() if k != "target.start"}
        proc = _launch(spec.start, base, log, given)
        stack.callback(stop, proc)
        ready = _await_ready(proc, spec.start, spec.start_timeout, log)
        _drain(proc, base / "start.stdout")
        try:
            target = build(spec.inputs, ready)
        except ConfigError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        yield target


def _launch(
    command: tuple[str, ...], workdir: Path, log: Path, given: dict[str, Any]
) -> subprocess.Popen[bytes]:
    here = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": here + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONUNBUFFERED": "1",
        GIVEN_ENV: json.dumps(given),
        WORKDIR_ENV: str(workdir),
    }
    try:
        with log.open("wb") as err:
            return subprocess.Popen(
                list(command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                start_new_session=True,
            )
    except OSError as exc:
        raise CliError(
            f"cannot run the start command {printable(command[0])}: {exc.strerror or exc}", EXIT_USAGE
        ) from None


def _await_ready(
    proc: subprocess.Popen[bytes], command: tuple[str, ...], timeout: float, log: Path
) -> dict[str, Any]:
    """The ready line's values, read from raw bytes (no buffered reader can sit on a line ``select`` waits
    for) within ``timeout`` seconds; else the process group is stopped and a one-line ``CliError``."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    # The command's own end wakes the wait too (a pidfd is readable once the process exits): a child it left
    # behind may hold stdout open, and no end of file would come.
    exited = _exit_watch(proc)
    if exited is not None:
        selector.register(exited, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    pending = b""
    said: list[str] = []
    why = f"no ready line within {timeout:g}s"
    try:
        while (left := deadline - time.monotonic()) > 0:
            events = selector.select(timeout=left if exited is not None else min(left, 0.5))
            chunk = os.read(fd, 65536) if any(key.fd == fd for key, _ in events) else b""
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                try:
                    ready = parse_ready(line)
                except ValueError as exc:
                    stop(proc)
                    raise CliError(
                        f"the start command's ready line is malformed: {exc}", EXIT_USAGE
                    ) from None
                if ready is not None:
                    return ready
                if line.strip():
                    said.append(line.strip())
            if chunk:
                continue  # read on until the pipe is empty before deciding the command is gone
            status = proc.poll()
            if status is not None:
                why = f"it exited (status {status}) without a ready line"
                break
            if any(key.fd == fd for key, _ in events):  # readable, and nothing to read: the end of its stdout
                why = "it closed its stdout without a ready line"
                break
    finally:
        selector.close()
        if exited is not None:
            os.close(exited)
    stop(proc)
    tail = _last_line(log) or (said[-1] if said else "it printed nothing")
    raise CliError(
        f"the target's start command ({printable(default_scrubber().scrub_text(shlex.join(command)), 80)}) did "
        f"not start the gateway: {why}; last said: {printable(default_scrubber().scrub_text(tail))}",
        EXIT_UNREACHABLE,
    )


def _exit_watch(proc: subprocess.Popen[bytes]) -> int | None:
    """A file descriptor readable once ``proc`` exits (Linux' pidfd), or None where there is none."""
    try:
        return os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return None


def _drain(proc: subprocess.Popen[bytes], into: Path) -> None:
    """Keep reading what the command prints after its ready line (into a file), so that a gateway that logs to
    stdout never blocks on a full pipe. The thread ends when the pipe closes: when the process group is gone."""
    assert proc.stdout is not None
    stdout = proc.stdout

    def run() -> None:
        with into.open("ab") as out, suppress(OSError, ValueError):
            while chunk := os.read(stdout.fileno(), 65536):
                out.write(chunk)

    threading.Thread(target=run, name="start-command-stdout", daemon=True).start()


def _last_line(log: Path) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Close the command's stdin, then stop its whole process group: SIGTERM, and SIGKILL after
    :data:`STOP_TIMEOUT` seconds. Bounded, and safe to call twice."""
    if proc.stdin is not None and not proc.stdin.closed:
        with suppress(OSError):
            proc.stdin.close()  # EOF: a command that watches its stdin starts closing down at once
    deadline = time.monotonic() + STOP_TIMEOUT
    _signal_group(proc.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_TIMEOUT)
    # The leader is gone; what it started may still be closing down (a bounded poll: no event tells the end of a
    # process group that is not ours to wait for).
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(proc.pid) or proc.poll() is None:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT)
    if proc.stdout is not None:
        with suppress(OSError):
            proc.stdout.close()


def _signal_group(pgid: int, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
