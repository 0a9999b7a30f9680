"""The generic ``[target] start`` option: the harness runs a command, reads its ready line, merges it into the
target (the file and the flags win, the line beats the environment), and stops the command's whole process group
at the end; a command that fails to start is one line and a non-zero exit, never a hang.

The command here is a small stand-in gateway (it says where it is and spawns a child, so the process group is
real); the reference gateway's own ``embedded`` command is tested at the end.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contracts.exits import EXIT_UNREACHABLE, EXIT_USAGE, CliError
from contracts.start import READY_KEY, parse_ready
from gateway_contracts.target.config import resolve
from gateway_contracts.target.start import started

STAND_IN = """
import json, os, subprocess, sys, time
workdir = os.environ["GATEWAY_CONTRACTS_WORKDIR"]
with open(os.path.join(workdir, "given.json"), "w") as fh:
    fh.write(os.environ["GATEWAY_CONTRACTS_TARGET"])
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(os.path.join(workdir, "pids"), "w") as fh:
    fh.write(f"{os.getpid()} {child.pid}")
mode = sys.argv[1]
print("starting up", flush=True)
if mode == "ready":
    values = {"target.base_url": "http://127.0.0.1:9", "target.name": "from the line", "logs.file": "/tmp/gw.log",
              "auth.api_key": "key-from-the-line"}
    print(json.dumps({"gateway-contracts-ready": values}), flush=True)
elif mode == "exit":
    print("cannot bind the port", file=sys.stderr, flush=True)
    sys.exit(3)
elif mode == "unknown":
    print(json.dumps({"gateway-contracts-ready": {"nope.key": 1}}), flush=True)
elif mode == "malformed":
    print(json.dumps({"gateway-contracts-ready": ["not", "an", "object"]}), flush=True)
time.sleep(600)  # a gateway runs until it is stopped
"""


def command(tmp_path: Path, mode: str) -> list[str]:
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    return [sys.executable, str(script), mode]


def target_file(tmp_path: Path, mode: str, timeout: float = 60.0) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(
        f"[target]\nstart = {json.dumps(command(tmp_path, mode))}\nstart_timeout = {timeout}\n"
        '[models]\ndefault = "m"\n'
    )
    return path


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def pids(workdir: Path) -> list[int]:
    return [int(p) for p in (workdir / "pids").read_text().split()]


def test_the_ready_line_fills_in_the_target_and_the_group_is_stopped_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_API_KEY", "key-from-the-environment")
    spec = resolve(target_file(tmp_path, "ready"), {"target.name": "from a flag"})
    assert spec.start and not spec.base_url and not spec.embedded
    workdir = tmp_path / "work"
    with started(spec, workdir) as target:
        running = pids(workdir)
        assert all(alive(p) for p in running)
        given = json.loads((workdir / "given.json").read_text())
    assert (target.base_url, target.name) == ("http://127.0.0.1:9", "from a flag")  # the flag wins
    assert target.api_key == "key-from-the-line"  # the line beats the environment
    assert target.log_file == Path("/tmp/gw.log") and target.embedded and target.start == ()
    assert target.given["logs.file"] == "(set by the start command)"
    assert target.given["target.name"] == "from a flag"
    # The command was told what the file and the flags set (not its own command line).
    assert given["target.name"] == "from a flag" and given["models.default"] == "m"
    assert "target.start" not in given
    assert not any(alive(p) for p in running), "the start command's process group outlived the run"
    assert (workdir / "start.stdout").exists() and (workdir / "start.log").exists()


def test_a_command_that_exits_without_a_ready_line_is_one_line_naming_what_it_said(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    with pytest.raises(CliError) as err, started(resolve(target_file(tmp_path, "exit"), {}), workdir):
        pass
    assert err.value.status == EXIT_UNREACHABLE
    message = str(err.value)
    assert "\n" not in message and "exited (status 3)" in message and "cannot bind the port" in message
    assert not any(alive(p) for p in pids(workdir))


def test_a_command_that_never_gets_ready_is_stopped_after_its_timeout(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    began = time.monotonic()
    with pytest.raises(CliError) as err, started(resolve(target_file(tmp_path, "silent", 1.0), {}), workdir):
        pass
    assert time.monotonic() - began < 30
    assert err.value.status == EXIT_UNREACHABLE and "no ready line within 1s" in str(err.value)
    assert "starting up" in str(err.value)  # the last thing it said
    assert not any(alive(p) for p in pids(workdir))


@pytest.mark.parametrize(("mode", "needle"), [("unknown", "nope.key"), ("malformed", "malformed")])
def test_a_wrong_ready_line_is_a_usage_error(mode: str, needle: str, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    with pytest.raises(CliError) as err, started(resolve(target_file(tmp_path, mode), {}), workdir):
        pass
    assert err.value.status == EXIT_USAGE and needle in str(err.value)
    assert not any(alive(p) for p in pids(workdir))


def test_check_with_a_start_command_that_cannot_run_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway_contracts",
            "check",
            "--start",
            "no-such-command-xyz --flag",
            "--model",
            "m",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert (
        proc.stderr.strip()
        == "gateway-contracts: cannot run the start command no-such-command-xyz: No such file or directory"
    )


def test_check_with_a_start_command_that_dies_is_one_line_and_exit_3(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway_contracts",
            "check",
            "--config",
            str(target_file(tmp_path, "exit")),
            "--report-dir",
            str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == EXIT_UNREACHABLE, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot bind the port" in lines[0] and "Traceback" not in proc.stderr


def test_parse_ready_takes_only_the_ready_line() -> None:
    assert parse_ready('{"level": "info", "message": "listening"}') is None
    assert parse_ready("gateway-contracts-ready") is None
    assert parse_ready(json.dumps({READY_KEY: {"target.base_url": "http://x"}})) == {
        "target.base_url": "http://x"
    }
    with pytest.raises(ValueError):
        parse_ready(json.dumps({READY_KEY: 3}))


def test_reference_embedded_prints_its_ready_line_and_stops_on_stdin_eof(tmp_path: Path) -> None:
    """``reference-gateway embedded`` as the harness runs it: it says where everything is, and when its stdin
    (the harness's pipe) ends it stops the upstream and both gateways before it exits."""
    env = {**os.environ, "GATEWAY_CONTRACTS_WORKDIR": str(tmp_path), "GATEWAY_CONTRACTS_TARGET": "{}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reference_server", "embedded"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        ready = parse_ready(proc.stdout.readline().decode())
        assert ready is not None
        assert set(ready) >= {"target.base_url", "capture.db_url", "logs.file", "auth.api_key", "metrics.key"}
        assert ready["features.kill_switch_url"] != ready["target.base_url"]
        assert ready["capture.db_url"] == f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
        children = [
            int(p)
            for p in subprocess.run(
                ["pgrep", "-g", str(proc.pid)], capture_output=True, text=True, check=False
            ).stdout.split()
            if int(p) != proc.pid
        ]
        assert len(children) == 3, children  # the upstream and the two gateways
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        assert not any(alive(p) for p in children)
        # Reaped by it, not left to init as zombies: the harness waits for the whole group to be gone, and a zombie
        # is still a member (a stop took seconds until init reaped them).
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()


def test_start_flag_is_one_shell_quoted_string() -> None:
    spec = resolve(
        None,
        {"target.start": shlex.join(["my gateway", "--port", "0"]), "models.default": "m"},
        default_file=None,
    )
    assert spec.start == ("my gateway", "--port", "0")
