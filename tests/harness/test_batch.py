"""``gateway-contracts batch``: each request is the very command a user types, run in a fork of one process that
loaded the harness once; its output goes to the files the request names, its exit status comes back, a run that
outlives its timeout is killed with what it started, and a bad request is answered, not fatal."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.batch import parse_reply, request
from contracts.clauses import catalogue
from contracts.exits import EXIT_USAGE


@pytest.fixture()
def batch(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway_contracts", "batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "batch.stderr").open("w"),
        text=True,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def ask(proc: subprocess.Popen[str], line: str) -> tuple[int | None, str]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line)
    proc.stdin.flush()
    return parse_reply(proc.stdout.readline())


def test_a_check_run_in_the_batch_is_the_command_a_user_types(
    batch: subprocess.Popen[str], tmp_path: Path
) -> None:
    """A whole ``check`` (the reference target, started by the run itself) of one clause: a report whose clause
    passed, the console output in the named file, exit 0; then a second run from the same batch."""
    for n, clause in enumerate(["AUTH-001", "MET-001"]):
        out, err, reports = tmp_path / f"{n}.out", tmp_path / f"{n}.err", tmp_path / f"reports-{n}"
        status, error = ask(
            batch,
            request(["check", "--clause", clause, "--report-dir", str(reports)], str(out), str(err), 300),
        )
        assert (status, error) == (0, ""), err.read_text()
        assert "gateway-contracts: PASS" in out.read_text()
        report = json.loads((reports / "report.json").read_text())
        assert {c["id"]: c["result"] for c in report["clauses"]}[clause] == "passed"
        # --clause implies the clause's profile, for a target check starts as for one given by URL
        selected = [p for p, v in report["profiles"].items() if v["selected"]]
        assert selected == [catalogue().clauses[clause].profile]


def test_usage_errors_keep_their_status_and_line(batch: subprocess.Popen[str], tmp_path: Path) -> None:
    out, err = tmp_path / "out", tmp_path / "err"
    status, _ = ask(batch, request(["check", "--clause", "NOPE-1"], str(out), str(err), 60))
    assert status == EXIT_USAGE
    assert err.read_text().strip().splitlines() == [
        "gateway-contracts: unknown clause(s) NOPE-1; see contracts/clauses"
    ]
    status, _ = ask(batch, request(["no-such-command"], str(out), str(err), 60))
    assert status == 2 and "invalid choice" in err.read_text()  # argparse's own usage error


def test_a_run_past_its_timeout_is_killed_and_the_batch_goes_on(
    batch: subprocess.Popen[str], tmp_path: Path
) -> None:
    """A gateway that accepts the connection and never answers: the run would wait for its probe's timeout;
    the batch kills it at the request's, says so, and answers the next request."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        status, error = ask(
            batch,
            request(
                ["check", "--target", url, "--model", "m"], str(tmp_path / "o"), str(tmp_path / "e"), 1.0
            ),
        )
    assert status is None and error == "the run took longer than 1s and was killed"
    status, error = ask(batch, request(["--version"], str(tmp_path / "o"), str(tmp_path / "e"), 60))
    assert (status, error) == (0, "")
    assert (tmp_path / "o").read_text().startswith("gateway-contracts ")


def test_a_bad_request_is_answered_and_stdin_end_ends_the_batch(batch: subprocess.Popen[str]) -> None:
    status, error = ask(batch, "not json\n")
    assert status is None and error.startswith("not a batch request (JSONDecodeError)")
    status, error = ask(batch, json.dumps({"argv": ["--version"]}) + "\n")  # no output files named
    assert status is None and error.startswith("not a batch request (KeyError)")
    assert batch.stdin is not None
    batch.stdin.close()
    assert batch.wait(timeout=60) == 0


def test_parse_reply_refuses_what_is_not_a_reply() -> None:
    assert parse_reply('{"exit": 3}\n') == (3, "")
    assert parse_reply('{"exit": null, "error": "killed"}') == (None, "killed")
    for line in ("", "Traceback (most recent call last):", "[1]", '{"status": 0}'):
        with pytest.raises(ValueError, match="not a batch reply"):
            parse_reply(line)


def test_a_stopped_batch_stops_the_run_in_progress(batch: subprocess.Popen[str], tmp_path: Path) -> None:
    """The run has a process group of its own (its timeout kills it and what it started), so no signal sent to
    the batch reaches it: the batch, stopped, kills it and reaps it before it exits."""
    assert batch.stdin is not None and batch.stdout is not None
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        out = tmp_path / "o.fifo"
        os.mkfifo(out)  # opening it for reading returns once the run has opened it: the run exists
        batch.stdin.write(
            request(["check", "--target", url, "--model", "m"], str(out), str(tmp_path / "e"), 300)
        )
        batch.stdin.flush()
        with out.open("rb"):
            run = _only_child(batch.pid)
            batch.terminate()
            assert batch.wait(timeout=60) == 143
    with pytest.raises(ProcessLookupError):
        os.kill(run, 0)  # killed and reaped: not even a zombie is left


def _only_child(pid: int) -> int:
    (child,) = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(child)


def test_an_endless_request_line_ends_the_batch_in_one_line(tmp_path: Path) -> None:
    """A request line is read up to 1 MiB, never more (a writer that sends no newline cannot fill the memory)."""
    proc = subprocess.run(
        [sys.executable, "-m", "gateway_contracts", "batch"],
        input=b"x" * (2 * 1024 * 1024),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == EXIT_USAGE and proc.stdout == b""
    assert proc.stderr.decode().strip().splitlines() == [
        "gateway-contracts: a batch request: line 1 is longer than 1 MiB; a request is one JSON line"
    ]
