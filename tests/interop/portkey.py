"""Portkey's open-source gateway (npm @portkey-ai/gateway, pinned in examples/portkey/) in front of the scripted
upstream, as real processes on loopback: the project's interop target.

Without node or the installed package the tests skip with the reason; under CI (``CI=true``) that is a failure,
since ``.ci/run`` installs it (``npm ci`` in examples/portkey).
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from reference_server.embedded import await_url, start_command, stop_process

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "examples" / "portkey"
SERVER = PACKAGE / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
TARGET_FILE = ROOT / "examples" / "targets" / "portkey.toml"
DOC = ROOT / "docs" / "interop" / "portkey.md"
READY = "Ready for connections!"
START_TIMEOUT = 30.0
_DOCUMENTED = re.compile(r"^\|\s*([A-Z]+(?:-[A-Z]+)*-[0-9]{3})\s*\|", re.MULTILINE)


def require_portkey() -> None:
    """Skip (fail under CI) when Portkey cannot run here."""
    missing = None
    if shutil.which("node") is None:
        missing = "node is not installed"
    elif not SERVER.is_file():
        missing = f"Portkey is not installed: run `npm ci --ignore-scripts` in {PACKAGE.relative_to(ROOT)}"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing} (.ci/run installs it; under CI the interop tests must run)")
        pytest.skip(missing)


def documented_violations() -> set[str]:
    """The clause IDs docs/interop/portkey.md lists as true violations (its table rows ``| ID | ...``)."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Reported violations", 1)[1].split("\n## ", 1)[0]
    return set(_DOCUMENTED.findall(section))


@dataclass(frozen=True)
class Interop:
    portkey_url: str
    upstream_url: str

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PORTKEY_URL": self.portkey_url,
            "UPSTREAM_URL": self.upstream_url,
            "GATEWAY_API_KEY": "sk-gc-interop-any-key-0123456789",
        }


def _free_port() -> int:
    # Portkey takes only a fixed --port=N (it prints port 0 back as 0): pick a free one.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _await_ready(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Portkey's ready line on stdout, within a bounded wait (no sleeps). Read as raw bytes from the pipe: its
    start-up spinner rewrites one line with carriage returns, and a buffered reader would sit on the ready line
    while ``select`` waits for more."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT
    seen = b""
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        seen = (seen + chunk)[-4096:]
        if READY.encode() in seen:
            return
    proc.kill()
    proc.wait()
    raise RuntimeError(f"Portkey did not start: {log.read_text(errors='replace')[-400:]}{seen[-200:]!r}")


@contextmanager
def running(workdir: Path) -> Iterator[Interop]:
    with ExitStack() as stack:
        upstream = start_command(["upstream", "--port", "0"], workdir / "upstream.stderr")
        stack.callback(stop_process, upstream)
        upstream_url = await_url(upstream, "upstream", workdir / "upstream.stderr")
        port = _free_port()
        log = workdir / "portkey.stderr"
        portkey = subprocess.Popen(
            ["node", str(SERVER), f"--port={port}", "--headless"],
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            cwd=PACKAGE,
        )
        stack.callback(stop_process, portkey)
        _await_ready(portkey, log)
        yield Interop(f"http://127.0.0.1:{port}", upstream_url)
