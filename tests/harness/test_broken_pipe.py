"""A reader that goes away early (``gateway-contracts scrub big.log | head -1``) ends the command quietly, with
the status a shell gives a command killed by SIGPIPE: never a traceback, never a misleading read error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_closed_pipe_is_neither_a_traceback_nor_an_error(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text("".join(f'{{"n": {i}, "msg": "line of an ordinary log"}}\n' for i in range(50_000)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway_contracts", "scrub", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does once it has its line
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert err == "", err
    assert proc.returncode == 141
