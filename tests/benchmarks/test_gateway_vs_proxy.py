"""Smoke run of ``benchmarks.gateway_vs_proxy`` with tiny counts: the gateway and the bare proxy relay every call
(a 404 or a broken stream ends the run with one line), the table has its four cells, capture checks out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tiny_run_completes_with_every_cell() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.gateway_vs_proxy",
            "--requests",
            "40",
            "--rounds",
            "1",
            "--slow-runs",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    for cell in ("non-streamed, conc 1", "non-streamed, conc 32", "streamed, conc 1", "streamed, conc 32"):
        assert any(line.startswith(cell + "  ") for line in lines), cell
    assert "audit-verify: audit chain intact" in proc.stdout
