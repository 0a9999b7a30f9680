"""`gateway-contracts check` on a bad set-up: one line on stderr, a distinct exit status, no traceback, no hang."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway_contracts.errors import EXIT_BAD_LOG, EXIT_DATABASE, EXIT_UNREACHABLE, EXIT_USAGE
from tests.support.gateway import start_gateway
from tests.support.servers import ServerThread


def check(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway_contracts.cli", "check", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line(proc: subprocess.CompletedProcess[str], status: int, words: str) -> None:
    assert proc.returncode == status, (proc.returncode, proc.stdout[-500:], proc.stderr[-500:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert words in lines[0], lines[0]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = start_gateway(tmp_path_factory.mktemp("gw"))
    yield server
    server.stop()


MODEL = "ainfera-inference"
"""The model the reference gateway serves: a set-up it accepts, so the error under test is the only one."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_target(tmp_path: Path) -> None:
    proc = check("--target", f"http://127.0.0.1:{free_port()}", "--model", "m", "--report-dir", str(tmp_path))
    assert_one_line(proc, EXIT_UNREACHABLE, "cannot reach the gateway")


def test_hanging_target(tmp_path: Path) -> None:
    """A server that accepts connections and never answers: bounded by --timeout, not a hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # never accept()ed: connections complete, no byte ever comes back
        port = listener.getsockname()[1]
        proc = check(
            "--target",
            f"http://127.0.0.1:{port}",
            "--model",
            "m",
            "--timeout",
            "1",
            "--report-dir",
            str(tmp_path),
        )
    assert_one_line(proc, EXIT_UNREACHABLE, "did not answer")


def test_not_a_url(tmp_path: Path) -> None:
    proc = check("--target", "localhost:8080", "--model", "m", "--report-dir", str(tmp_path))
    assert_one_line(proc, EXIT_USAGE, "http(s) URL")


def test_bad_database_scheme(gateway: ServerThread, tmp_path: Path) -> None:
    proc = check(
        "--target",
        gateway.url,
        "--model",
        MODEL,
        "--db-url",
        "mysql://root@127.0.0.1/x",
        "--report-dir",
        str(tmp_path),
    )
    assert_one_line(proc, EXIT_DATABASE, "unsupported database scheme 'mysql'")


def test_unreachable_database(gateway: ServerThread, tmp_path: Path) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    proc = check("--target", gateway.url, "--model", MODEL, "--db-url", url, "--report-dir", str(tmp_path))
    assert_one_line(proc, EXIT_DATABASE, "cannot read the database")


def test_log_file_not_json_lines(gateway: ServerThread, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text('127.0.0.1 - - [26/Nov/2026] "GET / HTTP/1.1" 200\n' * 5)
    proc = check(
        "--target", gateway.url, "--model", MODEL, "--log-file", str(log), "--report-dir", str(tmp_path)
    )
    assert_one_line(proc, EXIT_BAD_LOG, "not a JSON-lines log")


def test_unknown_profile(tmp_path: Path) -> None:
    proc = check("--profile", "nonsense", "--report-dir", str(tmp_path))
    assert_one_line(proc, EXIT_USAGE, "unknown profile")
