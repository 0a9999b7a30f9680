"""CPU time and peak memory of a server, read from ``/proc`` (Linux): what a call costs that server, where
requests/s also depends on how the machine's CPUs were shared out.

A server is either one process (``tree=False``: a helper process it starts is not its cost, as in
``benchmarks.capture_offloop``) or a process with all its descendants (``tree=True``: whatever a gateway
starts to do its work is its work). Every reader returns None where ``/proc`` has nothing to read.
"""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (which may hold spaces and parentheses):
    [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime, in clock ticks."""
    try:
        return (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int, tree: bool = False) -> float | None:
    """User + system CPU used so far by the process (all its threads) or, with ``tree``, by it and its live
    descendants plus the children they have already reaped (so a helper that exits mid-run still counts)."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    if not tree:
        ticks = int(fields[11]) + int(fields[12])
    else:
        ticks = 0
        for member in descendants(pid):
            f = fields if member == pid else _stat_fields(member)
            if f is not None:
                ticks += sum(int(x) for x in f[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _vm_hwm_kib(pid: int) -> int | None:
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_memory_mib(pid: int, tree: bool = False) -> float | None:
    """The process's peak resident set (VmHWM), MiB; with ``tree``, the sum of its live descendants' peaks too
    (an upper bound on the tree's peak: the members may peak at different times; exact for one process)."""
    root = _vm_hwm_kib(pid)
    if root is None:
        return None
    if tree:
        root += sum(_vm_hwm_kib(member) or 0 for member in descendants(pid) if member != pid)
    return root / 1024
