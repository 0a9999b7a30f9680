"""Smoke run of ``benchmarks.gateway_vs_peers --quick``: real processes on loopback, a few calls per cell.

No timing is asserted (the figures are the benchmark's business); what must hold is that the run completes,
prints a row for every figure with a value for every subject, takes every ratio against the reference gateway,
and that the gateway's capture checked out. Portkey is a subject when node and its install are here (under CI,
which installs it, it must be).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTKEY_SERVER = ROOT / "examples/portkey/node_modules/@portkey-ai/gateway/build/start-server.js"
FIGURES = [
    *(
        f"{mode}, conc {conc}: {figure}"
        for mode, latency in (("non-streamed", "latency"), ("streamed", "TTFT"))
        for conc in (1, 32)
        for figure in ("req/s", f"p50 {latency} ms", f"p99 {latency} ms", "CPU ms/call")
    ),
    "slow upstream: added TTFT p50 ms",
    "peak memory MiB (VmHWM)",
]
_CELL = re.compile(r"[+-]?[0-9][0-9,]*\.?[0-9]* \(([0-9]+\.[0-9]{2}x|n/a)\)")


def _portkey_here() -> bool:
    here = shutil.which("node") is not None and PORTKEY_SERVER.is_file()
    if not here and os.environ.get("CI"):
        pytest.fail(
            "Portkey is not installed (.ci/run installs it; under CI the peer benchmark must include it)"
        )
    return here


def test_quick_run_prints_every_figure_for_every_subject() -> None:
    with_portkey = _portkey_here()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.gateway_vs_peers", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("figure "))
    subjects = ["bare proxy", "reference gateway", *(["Portkey"] if with_portkey else [])]
    columns = re.split(r"\s{2,}", header.strip())[1:]
    assert len(columns) == len(subjects), header
    assert all(column.startswith(subject) for column, subject in zip(columns, subjects, strict=True)), header
    if not with_portkey:
        assert any(line.strip().startswith("Portkey skipped: ") for line in lines)
    gateway = subjects.index("reference gateway")
    for figure in FIGURES:
        row = next((line for line in lines if line.startswith(figure + "  ")), None)
        assert row is not None, f"no row {figure!r} in:\n{proc.stdout}"
        ratios = _CELL.findall(row)
        assert len(ratios) == len(subjects), row
        # Every ratio is to the reference gateway: its own is 1.00x wherever a ratio can be taken.
        assert ratios[gateway] in ("1.00x", "n/a"), row
    assert "audit-verify: audit chain intact" in proc.stdout
