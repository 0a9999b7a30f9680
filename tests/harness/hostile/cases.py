"""Running a hostile-input case: the real command line in a subprocess under ``RLIMIT_AS`` and a timeout (or
``cli.main`` in this process, for small inputs), judged on its exit status and its stderr; and the stub target
the cases that need a reachable ``--target`` point at."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gateway_contracts.errors import EXIT_FAILED, EXIT_USAGE

MEMORY_LIMIT = 2 * 1024**3
"""Address space per command: the harness needs a few hundred MiB; an input read whole needs far more."""
TIMEOUT = 20.0
"""Per case: the slowest legitimate case (256 MiB of endless stream at the default limit) takes ~10 s."""
WORKERS = max(2, min(6, (os.cpu_count() or 2) * 2))
SEED = 15

# The launcher: the real entry point, as `python -m gateway_contracts.cli` (or `reference_server.cli` for the
# reference gateway's database commands), under a memory limit set by the child itself (preexec_fn is not safe
# with the thread pool that starts the cases).
LAUNCHER = (
    "import resource, runpy, sys; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT})); "
    "prog, module = sys.argv[1:3]; "
    "sys.argv = [prog, *sys.argv[3:]]; "
    "runpy.run_module(module, run_name='__main__', alter_sys=True)"
)
REFERENCE_COMMANDS = frozenset({"audit-verify", "db", "serve", "upstream", "embedded", "selftest"})


def cli_module(argv: tuple[str, ...]) -> tuple[str, str]:
    """The command line a case runs (its module and program name): the harness's, or the reference gateway's."""
    if argv and argv[0] in REFERENCE_COMMANDS:
        return "reference_server.cli", "reference-gateway"
    return "gateway_contracts.cli", "gateway-contracts"


# -- running a case ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endless:
    """Standard input that never ends: ``prefix`` once, then ``pattern`` again and again until the command stops
    reading."""

    pattern: bytes
    prefix: bytes = b""


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    statuses: frozenset[int]
    """The statuses the command documents for this input; a hostile input must get one of them."""
    stdin: bytes | Endless | None = None
    timeout: float = TIMEOUT
    in_process: bool = False
    """Run through ``cli.main`` in this process (no start-up cost): only for inputs that are small, files on
    disk, and cannot start anything (a garbage URL, a short bad log). Endless, huge and special inputs, and any
    case that may start the embedded gateway, run in a subprocess under the memory limit."""


@dataclass
class Outcome:
    case: Case
    status: int | None
    stderr: str
    seconds: float
    problems: list[str] = field(default_factory=list)


def _feed(stream: Any, data: bytes | Endless) -> None:
    try:
        if isinstance(data, Endless):
            stream.write(data.prefix)
            block = data.pattern * max(1, 65536 // max(1, len(data.pattern)))
            while True:
                stream.write(block)
        else:
            stream.write(data)
    except (BrokenPipeError, OSError, ValueError):
        pass  # the command stopped reading: what is being tested
    finally:
        with contextlib.suppress(OSError):
            stream.close()


RAISED = -1
"""The status of an in-process case that raised: the user would have seen a traceback."""


class _Expired(BaseException):
    pass


def _expire(signum: int, frame: Any) -> None:
    raise _Expired


def suite_argv(command: str, target: str, *options: str) -> tuple[str, ...]:
    """``check`` or ``fuzz`` against ``target`` (model ``m``), then ``options``."""
    return (command, "--target", target, "--model", "m", *options)


def run_in_process(case: Case) -> Outcome:
    """``cli.main`` with stdout and stderr captured and a timer: an exception is a traceback the user would see."""
    cli = importlib.import_module(cli_module(case.argv)[0])
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, case.timeout)
    status: int | None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(list(case.argv))
    except _Expired:
        status = None
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except BaseException as exc:
        status = RAISED
        err.write(f"Traceback (in process): {type(exc).__name__}: {exc}"[:500])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    outcome = Outcome(case, status, err.getvalue(), time.monotonic() - started)
    outcome.problems = judge(outcome)
    return outcome


def run_case(case: Case) -> Outcome:
    if case.in_process:
        return run_in_process(case)
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, *reversed(cli_module(case.argv)), *case.argv],
            stdin=subprocess.PIPE if case.stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # its own process group: a timeout ends whatever it started too
        )
        feeder = None
        if case.stdin is not None:
            feeder = threading.Thread(target=_feed, args=(proc.stdin, case.stdin), daemon=True)
            feeder.start()
        try:
            status: int | None = proc.wait(timeout=case.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # the command and what it started (an embedded gateway)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            status = None
        if feeder is not None:
            feeder.join(timeout=5)
        err.seek(0)
        stderr = err.read(1 << 20).decode("utf-8", "replace")
    outcome = Outcome(case, status, stderr, time.monotonic() - started)
    outcome.problems = judge(outcome)
    return outcome


def judge(outcome: Outcome) -> list[str]:
    case, problems = outcome.case, []
    if outcome.status is None:
        problems.append(f"no answer within {case.timeout:g}s")
    elif outcome.status not in case.statuses:
        problems.append(f"exit {outcome.status}, expected one of {sorted(case.statuses)}")
    if "Traceback" in outcome.stderr or "MemoryError" in outcome.stderr:
        problems.append("a traceback: " + outcome.stderr.strip().splitlines()[-1][:200])
    lines = [ln for ln in outcome.stderr.splitlines() if ln.strip()]
    if outcome.status not in (None, 0, EXIT_FAILED) and len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr, not one: {outcome.stderr[:300]!r}")
    if outcome.status in (0, EXIT_FAILED) and len(lines) > 1:  # a verdict: its details go to stdout
        problems.append(f"{len(lines)} lines on stderr: {outcome.stderr[:300]!r}")
    return problems


def run_all(cases: list[Case]) -> list[Outcome]:
    """The subprocess cases in a small pool, the in-process ones meanwhile, one at a time, on this thread (the
    timer is a signal, and stdout and stderr are redirected for the whole process)."""
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    with ThreadPoolExecutor(WORKERS) as pool:
        spawned = pool.map(run_case, [c for c in cases if not c.in_process])
        here = [run_in_process(c) for c in cases if c.in_process]
        return [*spawned, *here]


def assert_all_pass(outcomes: list[Outcome]) -> None:
    failed = [o for o in outcomes if o.problems]
    statuses: dict[str, int] = {}
    for o in outcomes:
        key = "timeout" if o.status is None else str(o.status)
        statuses[key] = statuses.get(key, 0) + 1
    slowest = max(outcomes, key=lambda o: o.seconds)
    print(
        f"{len(outcomes)} cases, {len(failed)} failed; exit statuses {statuses}; "
        f"slowest {slowest.case.id} {slowest.seconds:.1f}s"
    )
    assert not failed, "\n".join(f"{o.case.id} {o.case.argv[:6]!r}: {'; '.join(o.problems)}" for o in failed)


class _Answer200(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"{}"
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def stub_target_server() -> Iterator[str]:
    """A server that answers every GET with ``{}``, on 127.0.0.1, for as long as the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer200)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def bad_log_lines() -> Iterator[tuple[str, bytes]]:
    """Lines none of which is one JSON object, as a gateway's log should hold."""
    for depth in (1000, 100_000):
        yield f"array-depth-{depth}", b"[" * depth + b"]" * depth
        yield f"object-depth-{depth}", b'{"a":' * depth + b"1" + b"}" * depth
    for digits in (4301, 5000, 100_000):
        yield f"int-{digits}-digits", b'{"max_tokens": ' + b"9" * digits + b"}"
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        yield f"constant-{constant.decode()}", b'{"temperature": ' + constant + b"}"
    record = b'{"timestamp":"2026-01-01T00:00:00Z","level":"INFO","logger":"gateway.access","message":"ok"}'
    cuts = sorted(random.Random(SEED + 3).sample(range(1, len(record)), 6))
    for cut in cuts:
        yield f"record-cut-at-{cut}", record[:cut]
    for name, value in (("array", b"[]"), ("string", b'"s"'), ("number", b"1"), ("null", b"null")):
        yield f"not-object-{name}", value
    rng = random.Random(SEED + 4)
    yield "random-bytes", bytes(b for b in rng.randbytes(4096) if b not in b"\r\n")
    yield "nul-bytes", b"\x00" * 4096
    yield "text", b'127.0.0.1 - - [26/Nov/2026] "GET / HTTP/1.1" 200'


# In process, a failed SQLite connect leaves aiosqlite's worker thread calling into the closed event loop
# ("Event loop is closed"): noise from the driver after the command has answered, not what is judged here.
AIOSQLITE_AFTERMATH = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
