"""Running ``schemathesis run`` as a subprocess, through its documented command line and configuration file.

A subprocess rather than schemathesis' Python engine: the CLI, the ``schemathesis.toml`` keys and the NDJSON/JUnit
reports are its stable, documented surface, where the engine's Python API is internal and changes between minor
versions. The child inherits the terminal, so its live progress display works; when the output is not a terminal
(CI logs), where schemathesis prints only one line per finished phase, a heartbeat reads the NDJSON stream as it
grows and prints how far the run has got.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HEARTBEAT_SECONDS = 15.0


@dataclass(frozen=True)
class RunPaths:
    directory: Path

    @property
    def document(self) -> Path:
        return self.directory / "openapi.json"

    @property
    def config(self) -> Path:
        return self.directory / "schemathesis.toml"

    @property
    def junit(self) -> Path:
        return self.directory / "junit.xml"

    @property
    def ndjson(self) -> Path:
        return self.directory / "events.ndjson"

    @property
    def findings(self) -> Path:
        return self.directory / "findings.json"

    def clear(self) -> None:
        """Remove the previous run's outputs, so a crashed run can never be read as this one's."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for path in (self.document, self.config, self.junit, self.ndjson, self.findings):
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Invocation:
    base_url: str
    seed: int
    workers: int
    phases: tuple[str, ...]


def command(paths: RunPaths, run: Invocation) -> list[str]:
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(paths.config),
        "run",
        str(paths.document),
        "--url",
        run.base_url,
        "--seed",
        str(run.seed),
        "--workers",
        str(run.workers),
        "--phases",
        ",".join(run.phases),
        "--report",
        "junit,ndjson",
        "--report-junit-path",
        str(paths.junit),
        "--report-ndjson-path",
        str(paths.ndjson),
    ]


def run_schemathesis(paths: RunPaths, run: Invocation, env: dict[str, str]) -> int:
    stop = threading.Event()
    heartbeat = None
    if not sys.stdout.isatty():
        heartbeat = threading.Thread(target=_heartbeat, args=(paths.ndjson, stop), daemon=True)
        heartbeat.start()
    try:
        return subprocess.call(command(paths, run), env=env)
    finally:
        stop.set()
        if heartbeat is not None:
            heartbeat.join(timeout=5)


def _heartbeat(ndjson: Path, stop: threading.Event) -> None:
    started = time.monotonic()
    offset = 0
    scenarios: Counter[str] = Counter()
    requests = 0
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with ndjson.open("rb") as fh:
                fh.seek(offset)
                chunk = fh.read()
        except FileNotFoundError:
            continue
        complete = chunk[: chunk.rfind(b"\n") + 1]
        offset += len(complete)
        for line in complete.splitlines():
            if line.startswith(b'{"ScenarioFinished"'):
                event = json.loads(line)["ScenarioFinished"]
                scenarios[event.get("phase", "?")] += 1
                requests += len((event.get("recorder") or {}).get("interactions") or {})
        done = ", ".join(f"{phase} {count}" for phase, count in scenarios.items()) or "starting"
        print(
            f"gateway-contracts: fuzzing… {time.monotonic() - started:.0f}s, {requests} requests "
            f"(scenarios finished: {done})",
            flush=True,
        )
