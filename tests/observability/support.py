"""Helpers for the observability tests: scraping and parsing /metrics, reading the gateway's SQLite database,
and running ``reference-gateway serve`` as a real process with its JSON log file."""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

KEY_HEADER = "X-Ainfera-Internal-Key"
INTERNAL_KEY = "internal-test-key-7f3a"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
REPO = Path(__file__).resolve().parents[2]
PROMTOOL_CACHE = REPO / ".ci" / "cache" / "bin" / "promtool"


@dataclass
class Scrape:
    text: str
    content_type: str
    families: dict[str, str]
    """family name → type"""
    samples: list[tuple[str, dict[str, str], float]]

    def value(self, name: str, **labels: str) -> float:
        return sum(
            v for n, lbl, v in self.samples if n == name and all(lbl.get(k) == x for k, x in labels.items())
        )

    def label_values(self, label: str) -> set[str]:
        return {lbl[label] for _, lbl, _ in self.samples if label in lbl}

    def pairs(self) -> list[tuple[str, dict[str, str]]]:
        return [(n, lbl) for n, lbl, _ in self.samples]


def scrape(
    url: str, key: str = INTERNAL_KEY, *, openmetrics: bool = True, client: httpx.Client | None = None
) -> Scrape:
    """GET /metrics with the key and parse it strictly (the OpenMetrics parser raises on any malformed line)."""
    headers = {KEY_HEADER: key, "accept": OPENMETRICS if openmetrics else "text/plain"}
    r = (client or httpx).get(f"{url}/metrics", headers=headers)
    assert r.status_code == 200, r.text
    ctype = r.headers["content-type"]
    parse = parse_openmetrics if ctype.startswith("application/openmetrics-text") else parse_text
    families = list(parse(r.text))
    return Scrape(
        r.text,
        ctype,
        {f.name: f.type for f in families},
        [(s.name, dict(s.labels), s.value) for f in families for s in f.samples],
    )


def db_rows(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def find_promtool() -> str | None:
    """``$PROMTOOL``, then ``promtool`` on PATH, then the copy ``.ci/run`` extracts from the Debian package."""
    for candidate in (os.environ.get("PROMTOOL"), shutil.which("promtool"), str(PROMTOOL_CACHE)):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:[0-9]+)")


@dataclass
class GatewayProcess:
    url: str
    log_file: Path
    db_path: Path
    proc: subprocess.Popen[str]

    def log_records(self) -> list[dict[str, Any]]:
        """Every line of the log file, parsed (an AssertionError names the first line that is not JSON). Not a
        last line without its newline: the gateway is writing it (a write across a page boundary shows its
        first part first)."""
        records = []
        written = self.log_file.read_text(encoding="utf-8").split("\n")[:-1]
        for number, line in enumerate(written, start=1):
            try:
                value = json.loads(line)
            except ValueError:
                raise AssertionError(f"log line {number} is not JSON: {line[:200]!r}") from None
            assert isinstance(value, dict), f"log line {number} is not a JSON object"
            records.append(value)
        return records

    def wait_for_log(self, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The log records once one satisfies ``predicate`` (the access log line is written after the response
        went out, so a test reading right after its request may be a few milliseconds early)."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.log_records()
            if any(predicate(r) for r in records) or time.monotonic() > deadline:
                return records
            time.sleep(0.02)


@contextmanager
def gateway_process(tmp: Path, *args: str) -> Iterator[GatewayProcess]:
    """``reference-gateway serve`` on a free loopback port with a JSON log file; stopped with SIGTERM."""
    log_file = tmp / "gateway.log.jsonl"
    db_path = tmp / "gateway.sqlite3"
    cmd = [
        sys.executable, "-m", "reference_server", "serve", "--host", "127.0.0.1", "--port", "0",
        "--db-url", f"sqlite:///{db_path}", "--log-file", str(log_file), *args,
    ]  # fmt: skip
    stderr = (tmp / "gateway.stderr").open("w")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO)
    try:
        assert proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = proc.stdout.readline()
            if not line:
                break
            if m := _LISTENING.search(line):
                url = m.group(1)
        assert url is not None, f"the gateway did not start: {(tmp / 'gateway.stderr').read_text()[-2000:]}"
        yield GatewayProcess(url, log_file, db_path, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stderr.close()
