"""Fixtures of the hostile-input corpus: a stub target that answers, and input files that are not what they
seem."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.hostile.cases import SEED, stub_target_server


@pytest.fixture(scope="module")
def stub_target() -> Iterator[str]:
    """A server that answers every GET: the preflight's reachability check passes, so what follows is judged
    (the database, the log file). Not a gateway: no case may get as far as running the suite against it."""
    with stub_target_server() as url:
        yield url


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Input files that are not what they seem: a named pipe whose write end stays open (a reader never sees
    its end), a sparse file of 8 GiB and one of 100 MiB (one line of NULs), a directory, a missing path, random
    bytes, a file of SQLite-looking garbage."""
    base = tmp_path_factory.mktemp("hostile-files")
    fifo = base / "never-closes.fifo"
    os.mkfifo(fifo)
    holder = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # Linux: a FIFO opened read-write needs no peer
    huge = base / "sparse-8g.log"
    with huge.open("wb") as fh:
        fh.truncate(8 * 1024**3)
    one_line = base / "sparse-100m.log"
    with one_line.open("wb") as fh:
        fh.truncate(100 * 1024**2)
    binary = base / "random.bin"
    binary.write_bytes(random.Random(SEED).randbytes(256 * 1024))
    garbage_db = base / "garbage.sqlite3"
    garbage_db.write_bytes(b"SQLite format 3\x00" + random.Random(SEED + 1).randbytes(8192))
    directory = base / "a-directory"
    directory.mkdir()
    yield {
        "fifo": fifo,
        "sparse_huge": huge,
        "sparse_line": one_line,
        "binary": binary,
        "garbage_db": garbage_db,
        "directory": directory,
        "missing": base / "no" / "such" / "file",
    }
    os.close(holder)
