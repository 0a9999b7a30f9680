"""The harness's hostile-input corpus: its commands given bad arguments and bad input files, as a CI script can.

Generated, not listed: URLs for ``--target`` and ``--db-url`` are built from schemes, separators, authorities
and tails (a seeded sample of their product); log files from bad lines (nesting, number size, NaN, every
truncation of a good record, binary, non-objects) crossed with repetitions and line endings, plus the files that
are not files (``/dev/zero``, a named pipe that never closes, a directory, a sparse file of gigabytes); event
streams and scrub inputs that are binary, endless, one huge line or nested beyond the parser.

Every case runs the real command line (``python -m gateway_contracts.cli``) in a subprocess under
``RLIMIT_AS`` (a memory blow-up is a failure, not a machine that swaps) and a timeout, and must end with one of
the statuses its command documents, one line on stderr and no traceback. Network traffic stays on 127.0.0.1:
the only hosts generated are 127.0.0.1 or URLs that cannot be parsed.

Alongside, in-process corpora push thousands of generated lines and streams through the readers themselves
(``gateway_contracts.logs``, the SSE validators), which must never raise.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gateway_contracts.errors import EXIT_BAD_LOG, EXIT_DATABASE, EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE
from gateway_contracts.logs import LogFileError, check_is_json_lines, line_count, parse_record, read_lines

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


# -- fixtures ---------------------------------------------------------------------------------------------------


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


@pytest.fixture(scope="module")
def stub_target() -> Iterator[str]:
    """A server that answers every GET: the preflight's reachability check passes, so what follows is judged
    (the database, the log file). Not a gateway: no case may get as far as running the suite against it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer200)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Input files that are not what they seem: a named pipe whose write end stays open (a reader never sees
    its end), a sparse file of 8 GiB and one of 100 MiB (one line of NULs), a directory, a missing path, random
    bytes, a file of SQLite-looking garbage."""
    base = tmp_path_factory.mktemp("hostile-files")
    fifo = base / "never-closes.fifo"
    os.mkfifo(fifo)
    holder = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # Linux: a FIFO opened read-write needs no peer
    huge = base / "sparse-8g.log"
    with huge.open("wb") as fh:
        fh.truncate(8 * 1024**3)
    one_line = base / "sparse-100m.log"
    with one_line.open("wb") as fh:
        fh.truncate(100 * 1024**2)
    binary = base / "random.bin"
    binary.write_bytes(random.Random(SEED).randbytes(256 * 1024))
    garbage_db = base / "garbage.sqlite3"
    garbage_db.write_bytes(b"SQLite format 3\x00" + random.Random(SEED + 1).randbytes(8192))
    directory = base / "a-directory"
    directory.mkdir()
    yield {
        "fifo": fifo,
        "sparse_huge": huge,
        "sparse_line": one_line,
        "binary": binary,
        "garbage_db": garbage_db,
        "directory": directory,
        "missing": base / "no" / "such" / "file",
    }
    os.close(holder)


# -- generators -------------------------------------------------------------------------------------------------


def target_urls() -> Iterator[tuple[str, frozenset[int]]]:
    """``--target`` values with the statuses ``check`` and ``fuzz`` document for them: 2 for what is not an
    http(s) URL, 3 for one that cannot be reached (every host here is 127.0.0.1 on a closed port, or none)."""
    yield "", frozenset({EXIT_USAGE})  # an unset $URL in CI: never "use the embedded gateway"
    yield " ", frozenset({EXIT_USAGE})
    yield "http://[::1", frozenset({EXIT_USAGE})
    yield "http://127.0.0.1:1", frozenset({EXIT_UNREACHABLE})
    schemes = ["http", "https", "HTTP", "ftp", "file", "", "h ttp", "http\t"]
    separators = ["://", ":/", ":", "//", ""]
    authorities = [
        "127.0.0.1:1",
        "127.0.0.1:99999",
        "127.0.0.1:-1",
        "127.0.0.1:x",
        "127.0.0.1:1:1",
        "[127.0.0.1]:1",
        "[::1",
        "u:p@127.0.0.1:1",
        "@127.0.0.1:1",
        "",
    ]
    tails = ["", "/", "/\x7f", "/a b", "?q=\n", "#f", "/%zz", "/" + "a" * 65536, "\r\nx: y"]
    combos = list(itertools.product(schemes, separators, authorities, tails))
    for scheme, sep, authority, tail in random.Random(SEED).sample(combos, 44):
        url = f"{scheme}{sep}{authority}{tail}"
        if url in ("", " ", "http://[::1", "http://127.0.0.1:1"):
            continue
        yield url, frozenset({EXIT_USAGE, EXIT_UNREACHABLE})


MISSING_DB = "gc_hostile_no_such_db"


def db_urls(files: dict[str, Path]) -> Iterator[str]:
    """``--db-url`` values that are wrong: each must be exit 4 from every command that takes one. The only
    server named is 127.0.0.1 (closed ports, or PostgreSQL's with a database that does not exist)."""
    yield from (
        "",
        " ",
        "garbage",
        "postgresql://u:p@[::1/x",
        f"postgresql://postgres@127.0.0.1:1/{MISSING_DB}",
    )
    yield f"sqlite:///{files['missing']}"
    yield f"sqlite:///{files['directory']}"
    yield f"sqlite:///{files['garbage_db']}"
    yield f"sqlite:///{files['fifo']}"
    yield "sqlite:///:memory:"
    schemes = ["postgresql", "postgres", "postgresql+asyncpg", "sqlite", "mysql", "", "postgresql+nodriver"]
    separators = ["://", ":///", ":"]
    authorities = [
        "postgres@127.0.0.1:1",
        "postgres@127.0.0.1:5432",
        "u:p@127.0.0.1:99999",
        "127.0.0.1:x",
        "[::1",
        "@",
        "u:p@",
    ]
    databases = [
        f"/{MISSING_DB}",
        "",
        f"/{MISSING_DB}?sslmode=bogus",
        f"/{MISSING_DB}?connect_timeout=x",
        "/%00",
    ]
    combos = list(itertools.product(schemes, separators, authorities, databases))
    for scheme, sep, authority, database in random.Random(SEED + 2).sample(combos, 26):
        if scheme.startswith("sqlite") or (authority in ("@", "u:p@") and sep != ":"):
            # SQLite would create the file; PostgreSQL with no host would take the default server (5432):
            # name a missing database there, never a real one.
            database = f"/{MISSING_DB}"
        if scheme.startswith("sqlite"):
            authority = ""
            database = f"{files['missing']}"
        yield f"{scheme}{sep}{authority}{database}"


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


def log_files(base: Path) -> Iterator[tuple[str, Path]]:
    """Each bad line once, and 25 times with LF, CRLF or no final ending."""
    for (name, line), (count, ending) in itertools.product(
        bad_log_lines(), [(1, b"\n"), (25, b"\r\n"), (2, b"")]
    ):
        path = base / f"{name}-x{count}-{ending.hex() or 'none'}.log"
        path.write_bytes((line + b"\n") * (count - 1) + line + ending)
        yield path.stem, path


# -- the corpus: check and fuzz ---------------------------------------------------------------------------------


def test_check_and_fuzz_on_bad_target_urls(tmp_path: Path) -> None:
    """``--target`` values a CI script can produce: one line, exit 2 (not a URL) or 3 (nothing there), fast."""
    cases = []
    for i, (url, statuses) in enumerate(target_urls()):
        report = str(tmp_path / f"t{i}")
        here = url != ""  # until refused, an empty --target starts the embedded gateway: a subprocess
        argv = ("check", "--target", url, "--model", "m", "--report-dir", report)
        cases.append(Case(f"check-target-{i}", argv, statuses, in_process=here))
        if i % 3 == 0:
            argv = ("fuzz", "--target", url, "--model", "m", "--report-dir", report + "-fuzz")
            cases.append(Case(f"fuzz-target-{i}", argv, statuses, in_process=here))
    assert_all_pass(run_all(cases))


# In process, a failed SQLite connect leaves aiosqlite's worker thread calling into the closed event loop
# ("Event loop is closed"): noise from the driver after the command has answered, not what is judged here.
AIOSQLITE_AFTERMATH = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


@AIOSQLITE_AFTERMATH
def test_every_command_on_bad_database_urls(stub_target: str, files: dict[str, Path], tmp_path: Path) -> None:
    """The same bad ``--db-url`` gets exit 4 from ``check``, ``fuzz``, ``audit-verify`` and ``db upgrade``."""
    cases = []
    for i, url in enumerate(db_urls(files)):
        report = str(tmp_path / f"d{i}")
        statuses = frozenset({EXIT_DATABASE})
        # A named pipe for SQLite may block a driver; an empty URL, until refused, runs the whole suite.
        here = "fifo" not in url
        suite_here = here and url != ""
        cases += [
            Case(f"audit-verify-{i}", ("audit-verify", "--db-url", url), statuses, in_process=here),
            Case(f"db-upgrade-{i}", ("db", "upgrade", "--db-url", url), statuses, in_process=here),
            Case(
                f"check-db-{i}",
                ("check", "--target", stub_target, "--model", "m", "--db-url", url, "--report-dir", report),
                statuses,
                in_process=suite_here,
            ),
        ]
        if i % 3 == 0:
            argv = (
                "fuzz",
                "--target",
                stub_target,
                "--model",
                "m",
                "--db-url",
                url,
                "--report-dir",
                report + "-fuzz",
            )
            cases.append(Case(f"fuzz-db-{i}", argv, statuses, in_process=suite_here))
    assert_all_pass(run_all(cases))


def test_check_on_bad_log_files(stub_target: str, files: dict[str, Path], tmp_path: Path) -> None:
    """Log files that are not JSON lines, or not files: exit 5, one line, bounded time and memory."""
    logs = tmp_path / "logs"
    logs.mkdir()
    inputs = [(name, path, True) for name, path in log_files(logs)]
    inputs += [(f"special-{name}", path, False) for name, path in files.items() if name != "garbage_db"]
    inputs += [("dev-zero", Path("/dev/zero"), False), ("dev-urandom", Path("/dev/urandom"), False)]
    cases = [
        Case(
            f"check-log-{name}",
            (
                "check",
                "--target",
                stub_target,
                "--model",
                "m",
                "--log-file",
                str(path),
                "--report-dir",
                str(tmp_path / name),
            ),
            frozenset({EXIT_BAD_LOG}),
            in_process=here,
        )
        for name, path, here in inputs
    ]
    assert_all_pass(run_all(cases))


# -- the corpus: sse-lint and scrub -----------------------------------------------------------------------------

START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
    b'"role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,'
    b'"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
)
DELTA = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hello"}}\n\n'
)


def stream_inputs(files: dict[str, Path], base: Path) -> Iterator[tuple[str, tuple[str, ...], Any, set[int]]]:
    """(name, arguments, stdin, statuses) for sse-lint: 1 is a stream with violations, 2 an input that cannot
    be read or is over a limit."""
    small = ("--max-total-bytes", "8MiB")
    yield "dev-zero-file", ("/dev/zero",), None, {EXIT_USAGE}
    yield "dev-zero-stdin", ("-",), Endless(b"\x00"), {EXIT_USAGE}
    yield "endless-valid-default-limits", ("-",), Endless(DELTA, START), {EXIT_USAGE}
    yield "endless-valid", ("-", *small), Endless(DELTA, START), {EXIT_USAGE}
    yield "endless-violations", ("-",), Endless(b"data: x\n\n"), {EXIT_FAILED}
    yield "endless-one-event", ("-", "--max-event-bytes", "1MiB"), Endless(b"data: x\n"), {EXIT_USAGE}
    yield "endless-cr-lines", ("-", "--max-event-bytes", "1MiB"), Endless(b"data: x\r"), {EXIT_USAGE}
    yield "sparse-line", (str(files["sparse_line"]),), None, {EXIT_USAGE}
    yield "binary", (str(files["binary"]),), None, {EXIT_FAILED, EXIT_USAGE}
    yield "directory", (str(files["directory"]),), None, {EXIT_USAGE}
    yield "missing", (str(files["missing"]),), None, {EXIT_USAGE}
    for name, line in bad_log_lines():
        for dialect in ("anthropic", "openai"):
            path = base / f"{name}-{dialect}.sse"
            path.write_bytes(b"data: " + line + b"\n\n")
            yield f"{name}-{dialect}", (str(path), "--dialect", dialect), "here", {EXIT_FAILED}
    huge = base / "huge-line.sse"
    huge.write_bytes(b"data: " + b"a" * (17 * 1024 * 1024))
    yield "huge-line", (str(huge),), None, {EXIT_USAGE}


def scrub_inputs(files: dict[str, Path], base: Path) -> Iterator[tuple[str, tuple[str, ...], Any, set[int]]]:
    """(name, arguments, stdin, statuses) for scrub: 0 scrubbed, 1 --check found secrets, 2 unreadable or over
    a limit."""
    yield "dev-zero-file", ("/dev/zero",), None, {EXIT_USAGE}
    yield "dev-zero-stdin", (), Endless(b"\x00"), {EXIT_USAGE}
    yield "dev-zero-check", ("--check", "/dev/zero"), None, {EXIT_USAGE}
    yield "endless-lines", ("--max-total-bytes", "4MiB"), Endless(b'{"password":"hunter2"}\n'), {EXIT_USAGE}
    yield (
        "endless-lines-check",
        ("--check", "--max-total-bytes", "1MiB"),
        Endless(b"x" * 99 + b"\n"),
        {EXIT_USAGE},
    )
    yield "sparse-line", (str(files["sparse_line"]),), None, {EXIT_USAGE}
    yield "directory", (str(files["directory"]),), None, {EXIT_USAGE}
    yield "missing", (str(files["missing"]),), None, {EXIT_USAGE}
    yield "binary", (str(files["binary"]),), None, {0}
    for name, line in bad_log_lines():
        path = base / f"{name}.log"
        path.write_bytes(line + b"\n" + b'{"password": "hunter2"}\n')
        yield f"{name}", (str(path),), "here", {0}
        yield f"{name}-check", ("--check", str(path)), "here", {EXIT_FAILED}
        yield f"{name}-stdin", ("--summary",), (line + b"\n") * 3, {0}


def test_sse_lint_and_scrub_on_hostile_inputs(files: dict[str, Path], tmp_path: Path) -> None:
    """Binary, endless, one huge line, nested beyond the parser: a verdict or one line and exit 2, in bounded
    time and memory; never a traceback or a MemoryError."""
    cases = []
    for name, args, stdin, statuses in stream_inputs(files, tmp_path):
        # 256 MiB of valid stream at the default limit takes ~10 s alone, more beside the other cases.
        timeout = 3 * TIMEOUT if "default-limits" in name else TIMEOUT
        here = stdin == "here"  # a small file: through cli.main in this process
        feed = None if here else stdin
        argv = ("sse-lint", *args)
        cases.append(Case(f"sse-lint-{name}", argv, frozenset(statuses), feed, timeout, in_process=here))
    for name, args, stdin, statuses in scrub_inputs(files, tmp_path):
        here = stdin == "here"
        feed = None if here else stdin
        cases.append(Case(f"scrub-{name}", ("scrub", *args), frozenset(statuses), feed, in_process=here))
    assert_all_pass(run_all(cases))


# -- in-process corpora: the readers themselves never raise -------------------------------------------------------


def generated_lines(count: int) -> Iterator[bytes]:
    """Bad lines as above, and random splices of JSON fragments: brackets, numbers, strings, constants."""
    for _, line in bad_log_lines():
        yield line
    rng = random.Random(SEED + 5)
    atoms = [
        b"[",
        b"]",
        b"{",
        b"}",
        b'"a":',
        b",",
        b"1e999",
        b"9" * 4400,
        b"NaN",
        b'"\\ud800"',
        b"\xff",
        b"null",
    ]
    for _ in range(count):
        yield b"".join(rng.choice(atoms) for _ in range(rng.randint(1, 40))) * rng.choice([1, 2, 5])


def test_log_reader_never_raises_on_generated_lines(tmp_path: Path) -> None:
    """Thousands of generated lines through the log reader: each is a record or None with a reason."""
    path = tmp_path / "generated.log"
    lines = list(generated_lines(2000))
    path.write_bytes(b"\n".join(lines) + b"\n")
    read = read_lines(path)
    assert len(read) == len(lines) == line_count(path)
    for line in read:
        assert (line.record is None) == bool(line.reason), line
        assert "\n" not in line.reason
    assert [ln.number for ln in read_lines(path, 100)][:1] == [101]


def test_sse_validators_never_raise_on_generated_payloads() -> None:
    """Every JSON value of every valid vector replaced, in turn, by a value nested beyond the parser's reach or
    a number too long: each stream gets violations (or none), never an exception."""
    from gateway_contracts.sse import validate
    from tests.sse.vectors import VECTOR_DIR

    deep: list[Callable[[int], str]] = [
        lambda d: "[" * d + "]" * d,
        lambda d: '{"a":' * d + "1" + "}" * d,
    ]
    rng = random.Random(SEED + 6)
    checked = 0
    for vector in sorted(VECTOR_DIR.glob("*/valid*.sse")):
        dialect = vector.parent.name
        frames = vector.read_text(encoding="utf-8").split("\n\n")
        for i, frame in enumerate(frames):
            head, _, data = frame.rpartition("data: ")
            try:
                payload = json.loads(data)
            except ValueError:
                continue
            for where in _paths(payload):
                make = rng.choice(deep)
                depth = rng.choice([127, 129, 990, 5000])
                value = make(depth) if rng.random() < 0.8 else "9" * 5000
                mutated = json.dumps(_replaced(payload, where, "@@@")).replace('"@@@"', value, 1)
                stream = "\n\n".join([*frames[:i], head + "data: " + mutated, *frames[i + 1 :]])
                validate(stream, dialect)  # type: ignore[arg-type]
                checked += 1
    assert checked > 500


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replaced(value: Any, where: tuple[Any, ...], new: Any) -> Any:
    if not where:
        return new
    copy = json.loads(json.dumps(value))
    cursor = copy
    for key in where[:-1]:
        cursor = cursor[key]
    cursor[where[-1]] = new
    return copy


# -- one test per reproduction of issue 15 (items 14, 15, 16) ----------------------------------------------------


def test_log_lines_nested_too_deeply_or_with_numbers_too_long_are_not_records(
    stub_target: str, tmp_path: Path
) -> None:
    """A log line nested 100,000 deep or holding a 5,000-digit number is "not a JSON object", with its reason;
    ``check --log-file`` on such a log is one line and exit 5, not a traceback."""
    assert parse_record("[" * 100_000 + "]" * 100_000) == (None, "not JSON (nested too deeply to read)")
    assert parse_record('{"n": ' + "9" * 5000 + "}") == (None, "not JSON (a number too long to read)")
    assert parse_record('{"t": NaN}')[0] is None
    assert parse_record('{"ok": 1}') == ({"ok": 1}, "")
    log = tmp_path / "gateway.log"
    log.write_text("[" * 100_000 + "]" * 100_000 + "\n" + '{"n": ' + "9" * 5000 + "}\n")
    with pytest.raises(LogFileError, match="nested too deeply"):
        check_is_json_lines(log)
    argv = (
        "check",
        "--target",
        stub_target,
        "--model",
        "m",
        "--log-file",
        str(log),
        "--report-dir",
        str(tmp_path / "r"),
    )
    outcome = run_case(Case("check-nested-log", argv, frozenset({EXIT_BAD_LOG})))
    assert not outcome.problems, outcome
    assert "not a JSON-lines log" in outcome.stderr and "nested too deeply" in outcome.stderr


def test_endless_and_huge_inputs_end_in_one_line_within_bounded_memory(
    stub_target: str, files: dict[str, Path], tmp_path: Path
) -> None:
    """``check --log-file /dev/zero`` (and a named pipe that never closes) is refused at once; ``sse-lint`` and
    ``scrub`` on endless input or one huge line stop at their limits: one line, exit 2 or 5, under 2 GiB of
    address space, within seconds."""
    report = str(tmp_path / "r")
    cases = [
        Case(
            "check-dev-zero",
            (
                "check",
                "--target",
                stub_target,
                "--model",
                "m",
                "--log-file",
                "/dev/zero",
                "--report-dir",
                report,
            ),
            frozenset({EXIT_BAD_LOG}),
        ),
        Case(
            "check-fifo",
            (
                "check",
                "--target",
                stub_target,
                "--model",
                "m",
                "--log-file",
                str(files["fifo"]),
                "--report-dir",
                report,
            ),
            frozenset({EXIT_BAD_LOG}),
        ),
        Case("sse-lint-dev-zero", ("sse-lint", "/dev/zero"), frozenset({EXIT_USAGE})),
        Case("sse-lint-endless-stdin", ("sse-lint", "-"), frozenset({EXIT_USAGE}), Endless(b"data: ")),
        Case("scrub-dev-zero", ("scrub", "/dev/zero"), frozenset({EXIT_USAGE})),
        Case("scrub-endless-stdin", ("scrub",), frozenset({EXIT_USAGE}), Endless(b"\x00" * 4096)),
        Case("scrub-huge-line", ("scrub", str(files["sparse_line"])), frozenset({EXIT_USAGE})),
    ]
    outcomes = run_all(cases)
    assert_all_pass(outcomes)
    said = {o.case.id: o.stderr for o in outcomes}
    assert "not a regular file" in said["check-dev-zero"] and "not a regular file" in said["check-fifo"]
    assert (
        "longer than 16 MiB" in said["sse-lint-dev-zero"] and "--max-event-bytes" in said["sse-lint-dev-zero"]
    )
    assert "longer than 1 MiB" in said["scrub-dev-zero"] and "--max-line-bytes" in said["scrub-dev-zero"]
    assert all(o.seconds < 10 for o in outcomes), [(o.case.id, round(o.seconds, 1)) for o in outcomes]


@AIOSQLITE_AFTERMATH
def test_a_bad_database_url_is_exit_4_from_check_and_audit_verify_alike(
    stub_target: str, files: dict[str, Path], tmp_path: Path
) -> None:
    """One rule for ``--db-url``: malformed (garbage, an unsupported scheme) or unreachable, it is exit 4 from
    ``check``, ``audit-verify``, ``db upgrade`` and ``fuzz`` alike."""
    urls = ["garbage", "mysql://root@127.0.0.1/x", f"postgresql://postgres@127.0.0.1:1/{MISSING_DB}"]
    cases = []
    for i, url in enumerate(urls):
        report = str(tmp_path / f"r{i}")
        cases += [
            Case(f"audit-verify-{i}", ("audit-verify", "--db-url", url), frozenset({EXIT_DATABASE})),
            Case(f"db-upgrade-{i}", ("db", "upgrade", "--db-url", url), frozenset({EXIT_DATABASE})),
            Case(
                f"check-{i}",
                ("check", "--target", stub_target, "--model", "m", "--db-url", url, "--report-dir", report),
                frozenset({EXIT_DATABASE}),
            ),
            Case(
                f"fuzz-{i}",
                (
                    "fuzz",
                    "--target",
                    stub_target,
                    "--model",
                    "m",
                    "--db-url",
                    url,
                    "--report-dir",
                    report + "f",
                ),
                frozenset({EXIT_DATABASE}),
            ),
        ]
    assert_all_pass(run_all(cases))
