"""The benchmark helpers that are not timings: process-tree readings from /proc, tables, round order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.support import procfs
from benchmarks.support.portkey import unavailable
from benchmarks.support.rounds import round_order
from benchmarks.support.table import format_table, pct

BURN_S = 0.5
_GRANDCHILD = f"""
import os, sys, time
while time.process_time() < {BURN_S}:
    pass
print(os.getpid(), flush=True)
sys.stdin.readline()
"""
_CHILD = f"""
import subprocess, sys
grandchild = subprocess.Popen([sys.executable, "-c", {_GRANDCHILD!r}], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
print(grandchild.stdout.readline().strip(), flush=True)
sys.stdin.readline()
grandchild.stdin.close()
grandchild.wait()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_a_process_tree_counts_its_descendants_cpu_and_memory() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())  # printed once it has burned its CPU
        assert procfs.descendants(child.pid) == [child.pid, grandchild]
        alone, tree = procfs.cpu_seconds(child.pid), procfs.cpu_seconds(child.pid, tree=True)
        assert alone is not None and tree is not None
        assert tree - alone >= BURN_S - 0.05  # the grandchild's burn, to the clock tick
        memory_alone, memory_tree = procfs.peak_memory_mib(child.pid), procfs.peak_memory_mib(child.pid, True)
        assert memory_alone is not None and memory_tree is not None and memory_tree > memory_alone
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def test_round_order_puts_each_first_in_turn() -> None:
    firsts = [round_order(["a", "b", "c"], r)[0] for r in range(3)]
    assert firsts == ["a", "b", "c"]
    assert round_order(["a", "b"], 1) == ["b", "a"]


def test_table_aligns_columns_and_percentiles_interpolate() -> None:
    lines = format_table(["figure", "x"], [["long label", "1"], ["s", "1,000"]])
    assert lines == ["figure          x", "-" * 17, "long label      1", "s           1,000"]
    assert pct([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert pct(list(map(float, range(101))), 0.99) == pytest.approx(99.0)


def test_portkey_is_left_out_with_a_reason_without_node(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert unavailable() == "node is not installed"
