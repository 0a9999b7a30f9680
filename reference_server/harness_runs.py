"""The harness's commands as ``selftest`` runs them: through ``gateway-contracts batch`` processes, one per job.

Each ``check`` and ``fuzz`` of the selftest is the command a user types, run as a fork of a ``gateway-contracts
batch`` process that has loaded the harness once (``contracts/batch.py``): about half a second less per run than
a process of its own, a hundred times per selftest. The harness stays a command here, never an import: its
output goes to files, its verdicts are read from its report files.
"""

from __future__ import annotations

import queue
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from contracts.batch import COMMAND, parse_reply, request
from reference_server.gateway_forks import close_and_wait

BATCH_GRACE_S = 120.0
"""Beyond a run's own timeout, how long a batch process may take to answer (its start-up loads the harness)."""


@dataclass(frozen=True)
class Ran:
    """One finished run: its exit status (``None``: it gave none, ``error`` says why) and what it printed."""

    status: int | None
    stdout: str
    stderr: str
    error: str = ""

    def last_line(self) -> str:
        lines = (self.error or self.stderr or self.stdout).strip().splitlines()
        return lines[-1] if lines else f"exit {self.status}"


class Batch:
    """One ``gateway-contracts batch`` process; ``run`` one command at a time. A batch that died is started again
    for the next run (the run it died in gets its reason)."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start loading the harness now (it overlaps whatever the caller does next)."""
        self._started()

    def _started(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._workdir.mkdir(parents=True, exist_ok=True)
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "gateway_contracts", COMMAND],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(self._workdir / "batch.stderr").open("a"),
                text=True,
            )
        return self._proc

    def run(self, argv: list[str], output: Path, timeout: float) -> Ran:
        """``gateway-contracts ARGV``, its stdout and stderr into ``output``.stdout/.stderr."""
        out, err = output.with_suffix(".stdout"), output.with_suffix(".stderr")
        output.parent.mkdir(parents=True, exist_ok=True)
        proc = self._started()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(request(argv, str(out), str(err), timeout))
            proc.stdin.flush()
            # The batch bounds the run; this bounds a batch that is itself stuck (its start-up included).
            if not select.select([proc.stdout], [], [], timeout + BATCH_GRACE_S)[0]:
                proc.kill()
                raise OSError(f"no reply within {timeout + BATCH_GRACE_S:g}s")
            status, error = parse_reply(proc.stdout.readline())
        except (OSError, ValueError) as exc:
            self.close()
            tail = (self._workdir / "batch.stderr").read_text(errors="replace").strip().splitlines()
            status, error = None, f"the harness batch process failed ({exc}): {(tail or ['no output'])[-1]}"
        return Ran(status, _read(out), _read(err), error)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            close_and_wait(proc)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


class Batches:
    """``jobs`` batch processes shared by the selftest's worker threads: a run takes a free one."""

    def __init__(self, workdir: Path, jobs: int) -> None:
        self._free: queue.Queue[Batch] = queue.Queue()
        self._all = [Batch(workdir / f"batch-{n}") for n in range(jobs)]
        for batch in self._all:
            batch.start()
            self._free.put(batch)

    def run(self, argv: list[str], output: Path, timeout: float) -> Ran:
        batch = self._free.get()
        try:
            return batch.run(argv, output, timeout)
        finally:
            self._free.put(batch)

    def close(self) -> None:
        for batch in self._all:
            batch.close()


@contextmanager
def batches(workdir: Path, jobs: int) -> Iterator[Batches]:
    pool = Batches(workdir, jobs)
    try:
        yield pool
    finally:
        pool.close()
