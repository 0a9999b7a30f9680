"""``gateway-contracts batch``: many harness runs, each a fork of one process that loaded the harness once.

A ``check`` spends most of a second before its first request: importing pytest, httpx, hypothesis and the
harness, validating the contract's catalogue, rewriting the asserts of the conformance suite. A program that runs
the harness many times (a mutation selftest: about a hundred checks, one per broken gateway) pays that each time.
This command pays it once: it loads all of that, runs a collection of the suite (which imports the test modules
through pytest's assert rewriting), then forks once per request, and the fork runs the very ``gateway-contracts
ARGV`` a user would type. Nothing but imports, the catalogue and a collection has run in the parent (no target, no
thread, no connection), so each fork starts where a fresh process would be once it has imported everything.

The protocol (one JSON line each way, one run at a time) is ``contracts/batch.py``.
"""

from __future__ import annotations

import argparse
import gc
import os
import select
import signal
import sys
import tempfile
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any, NoReturn

from contracts.batch import COMMAND, reply
from contracts.exits import exit_after
from gateway_contracts.bounded_io import InputTooLarge, bounded_lines
from gateway_contracts.errors import EXIT_USAGE, CliError

MAX_REQUEST = 1024 * 1024
"""The longest request line read (bytes): a command line and two paths are far shorter."""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        COMMAND,
        help="run many harness commands (JSON lines on stdin), each forked from one warmed process",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not hasattr(os, "fork") or not hasattr(os, "pidfd_open"):
        raise CliError("batch needs fork and pidfd_open (Linux); run each command on its own", EXIT_USAGE)
    # The replies get a descriptor of their own; fd 1 goes to stderr, so that nothing the warm-up or a library
    # prints can be read as a reply.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    warm()
    # Stopped, it stops the run in progress too (in a process group of its own, the run gets no signal of ours).
    signal.signal(signal.SIGTERM, _terminated)
    # A fork copies only the forking thread: locks another thread held would stay held in every run.
    if threading.active_count() != 1:
        raise CliError("batch: a thread started while loading the harness; cannot fork safely", EXIT_USAGE)
    requests = bounded_lines(sys.stdin.buffer, name="a batch request", max_line=MAX_REQUEST, max_total=0)
    try:
        for line in requests:
            text = line.data.decode("utf-8", errors="replace")
            if text.strip():
                replies.write(_serve(text))
                replies.flush()
    except InputTooLarge as exc:  # no request is that long: whatever writes it is not speaking the protocol
        raise CliError(f"{exc}; a request is one JSON line", EXIT_USAGE) from None
    return 0


def warm() -> None:
    """Import and load what every run needs: the commands, the catalogue, the suite (asserts rewritten)."""
    import pytest

    from contracts.clauses import catalogue
    from gateway_contracts import cli
    from gateway_contracts.commands import check

    cli.parser()
    catalogue()
    with tempfile.TemporaryDirectory(prefix="gateway-contracts-batch-") as tmp:
        preset = argparse.Namespace(verbose=False, seed=0, clause=[], keyword=None)
        argv = [*check.pytest_args(preset, Path(tmp) / "report.json"), "--collect-only"]
        quiet = os.dup(1)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the collection's listing is of no use to anyone
        try:
            with check.no_plugin_autoload():
                pytest.main(argv)
        finally:
            os.dup2(quiet, 1)
            os.close(quiet)
    check.load_suite()  # what each run would build for itself: the TLS context, validators, grammars
    # Everything loaded so far lives as long as the process: out of the collector's sight, a run's collections
    # (pytest forces two at its end) do not walk it, and the forks' pages stay shared instead of being written to.
    gc.collect()
    gc.freeze()


def _serve(line: str) -> str:
    import json

    try:
        request = json.loads(line)
        argv = [str(a) for a in request["argv"]]
        out, err = str(request["stdout"]), str(request["stderr"])
        timeout = float(request["timeout"]) if request.get("timeout") is not None else None
    except (ValueError, KeyError, TypeError) as exc:
        return reply(None, f"not a batch request ({type(exc).__name__}): {line.strip()[:200]}")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(argv, out, err)  # never returns
    return _wait(pid, timeout)


def _wait(pid: int, timeout: float | None) -> str:
    """The run's reply once it ends; at its timeout its process group is killed (it may have started a target)."""
    exited = os.pidfd_open(pid)
    try:
        readable, _, _ = select.select([exited], [], [], timeout)
        if not readable:
            with suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): the run must not outlive the batch
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        with suppress(ChildProcessError):
            os.waitpid(pid, 0)
        raise
    finally:
        os.close(exited)
    if not readable:
        return reply(None, f"the run took longer than {timeout:g}s and was killed")
    if os.WIFSIGNALED(status):
        return reply(None, f"the run was killed by signal {os.WTERMSIG(status)}")
    return reply(os.waitstatus_to_exitcode(status))


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _child(argv: list[str], out: str, err: str) -> NoReturn:
    def run() -> int:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the batch's handler is not the run's
        os.setpgid(0, 0)  # its own process group: a timeout kills the run and whatever it started
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
        os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
        sys.stdin = open(os.devnull)  # noqa: SIM115 - the batch's stdin buffer must not be read again
        from gateway_contracts import cli

        return cli.main(argv)

    exit_after(run)  # never returns into the batch loop
