"""Portkey's open-source gateway (npm ``@portkey-ai/gateway``, pinned in examples/portkey/) as a benchmark
subject, in front of the scripted upstream, configured as examples/targets/portkey.toml configures it for
``check``: per-call headers name the provider and the custom host and let the directive header through.

Installed by ``cd examples/portkey && npm ci --ignore-scripts``. Without node or the install the benchmark
leaves Portkey out and prints why (:func:`unavailable`).
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from benchmarks.support.processes import Server, start_process
from benchmarks.support.settings import HOST, REPO

PACKAGE = REPO / "examples" / "portkey"
INSTALLED = PACKAGE / "node_modules" / "@portkey-ai" / "gateway"
SERVER = INSTALLED / "build" / "start-server.js"
_READY = b"Ready for connections!"


def unavailable() -> str | None:
    """Why Portkey cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not SERVER.is_file():
        return f"it is not installed: run `npm ci --ignore-scripts` in {PACKAGE.relative_to(REPO)}"
    return None


def version() -> str:
    try:
        return str(json.loads((INSTALLED / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "version unknown"


def routing_headers(upstream_url: str) -> dict[str, str]:
    """What Portkey needs on each ``/v1/messages`` call to relay it to the scripted upstream (as in
    examples/targets/portkey.toml)."""
    return {
        "x-portkey-provider": "anthropic",
        "x-portkey-custom-host": f"{upstream_url}/v1",
        "x-portkey-forward-headers": "x-upstream-script",
    }


def _free_port() -> int:
    # Portkey takes only a fixed --port=N: pick a free one. (It listens on every interface, as it always does;
    # the benchmark's calls go to 127.0.0.1 only.)
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def portkey_process(upstream_url: str, name: str = "Portkey") -> AsyncIterator[Server]:
    """Portkey relaying to ``upstream_url``; measured as a process tree (whatever node starts is its work)."""
    port = _free_port()
    url = f"http://{HOST}:{port}"
    argv = ["node", str(SERVER), f"--port={port}", "--headless"]
    async with start_process(argv, name, lambda seen: url if _READY in seen else None, cwd=PACKAGE) as (
        _,
        pid,
    ):
        yield Server(name, url, pid, headers=routing_headers(upstream_url), tree=True)
