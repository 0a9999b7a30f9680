"""Another git revision of this repository beside the working tree: the benchmarks that compare revisions
(``compare_revisions``, ``check_time --compare``, ``selftest_time``) check it out the same way."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.support.settings import REPO


@contextmanager
def worktree(revision: str, who: str) -> Iterator[Path]:
    """``revision`` checked out in a temporary worktree of this repository (removed afterwards); a revision git
    cannot check out ends the benchmark ``who`` with one line."""
    with tempfile.TemporaryDirectory(prefix="benchmark-rev-") as tmp:
        path = Path(tmp) / "tree"
        done = subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), revision],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"{who}: cannot check out {revision!r}: {done.stderr.strip()}")
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], capture_output=True
            )
