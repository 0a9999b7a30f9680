"""The embedded reference gateway as a harness target, for tests: the reference's own target file, started by the
harness's generic start option (``gateway_contracts.target.start``) running ``reference-gateway embedded`` with
this test's choices (a mutant, a database, a running upstream).

Tests may import both sides; the packages themselves do not import each other (tests/harness/test_import_graph.py).
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway_contracts.target import Target
from gateway_contracts.target.config import REFERENCE_FILE, resolve
from gateway_contracts.target.start import started


def embedded_command(
    mutant: str | None = None,
    db_url: str | None = None,
    upstream_url: str | None = None,
    kill_switch: bool = True,
) -> list[str]:
    command = [sys.executable, "-m", "reference_server", "embedded"]
    command += ["--mutant", mutant] if mutant else []
    command += ["--db-url", db_url] if db_url else []
    command += ["--upstream", upstream_url] if upstream_url else []
    return command if kill_switch else [*command, "--no-kill-switch"]


@contextmanager
def embedded_target(
    workdir: Path | None = None,
    mutant: str | None = None,
    db_url: str | None = None,
    upstream_url: str | None = None,
    kill_switch: bool = True,
) -> Iterator[Target]:
    """The running embedded gateway, as the harness sees it once started (stopped when the block ends)."""
    command = embedded_command(mutant, db_url, upstream_url, kill_switch)
    spec = resolve(REFERENCE_FILE, {"target.start": shlex.join(command)})
    with started(spec, workdir) as target:
        yield (
            target if kill_switch else dataclasses.replace(target, features=target.features - {"kill-switch"})
        )
