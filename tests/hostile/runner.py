"""Run the hostile-input corpus against a gateway: raw requests, a bounded number at a time, while a probe on a
connection of its own measures how long ``/healthz`` takes to answer; then judge every answer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.hostile.corpus import Case
from tests.hostile.support import SECRET_MARK, envelope_problems, parse_answer

CASE_TIMEOUT_S = 30.0
INVALID_ANSWER_CODE = "upstream_invalid_answer"


@dataclass
class Result:
    case: Case
    status: int | None
    headers: dict[str, str]
    body: bytes
    raw: bytes
    closed: bool
    seconds: float


@dataclass
class Verdict:
    cases: int = 0
    server_errors: list[str] = field(default_factory=list)
    """5xx answers that are not the documented answer to a hostile upstream."""
    echoes: list[str] = field(default_factory=list)
    stalls: list[str] = field(default_factory=list)
    """Slow senders the gateway did not cut off, and cases that got no answer in time."""
    problems: list[str] = field(default_factory=list)
    """Everything else: no envelope, a hostile answer passed on as valid, no answer at all."""
    max_probe_s: float = 0.0
    probes: int = 0

    def summary(self, label: str) -> str:
        return (
            f"hostile corpus [{label}]: {self.cases} cases, {len(self.server_errors)} x 5xx, {len(self.echoes)} echoes, "
            f"{len(self.stalls)} stalls, {len(self.problems)} other problems; /healthz probe max "
            f"{self.max_probe_s * 1000:.0f} ms over {self.probes} probes"
        )


def _dechunk(data: bytes) -> tuple[bytes, bool]:
    """The body of a chunked message, and whether its terminating chunk was seen."""
    out = bytearray()
    position = 0
    while True:
        end = data.find(b"\r\n", position)
        if end < 0:
            return bytes(out), False
        try:
            size = int(data[position:end].split(b";")[0], 16)
        except ValueError:
            return bytes(out), False
        if size == 0:
            return bytes(out), True
        start = end + 2
        if len(data) < start + size:
            out += data[start:]
            return bytes(out), False
        out += data[start : start + size]
        position = start + size + 2


async def send(host: str, port: int, case: Case) -> Result:
    started = time.monotonic()
    raw = b""
    closed = False
    reader, writer = await asyncio.open_connection(host, port)
    try:
        try:
            writer.write(case.raw)
            await writer.drain()
        except ConnectionError:
            pass
        async with asyncio.timeout(CASE_TIMEOUT_S):
            while True:
                try:
                    chunk = await reader.read(65536)
                except ConnectionError:
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                raw += chunk
                head, sep, rest = raw.partition(b"\r\n\r\n")
                if (
                    not sep or case.slow
                ):  # a slow sender's case is over when the gateway closes the connection
                    continue
                lowered = head.lower()
                if b"transfer-encoding: chunked" in lowered:
                    if _dechunk(rest)[1]:
                        break
                elif b"content-length:" in lowered:
                    answer = parse_answer(raw, False)
                    if len(rest) >= int(answer.headers.get("content-length", "0") or 0):
                        break
    except TimeoutError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    answer = parse_answer(raw, closed)
    body = answer.body
    if answer.headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(raw.partition(b"\r\n\r\n")[2])[0]
    return Result(case, answer.status, answer.headers, body, raw, closed, time.monotonic() - started)


class Probe:
    """``GET /healthz`` in a loop on a connection of its own, in a thread of its own; keeps the slowest answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.max_s = 0.0
        self.count = 0
        self.failures = 0
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz-probe", daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        assert self._first.wait(timeout=30), "the probe never got a first answer"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get(f"{self.url}/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.max_s = max(self.max_s, time.perf_counter() - started)
                self.count += 1
                self.failures += not ok
                self._first.set()
                self._stop.wait(0.02)  # a probe every ~20 ms: the probe's pace, not a synchronisation


async def run_corpus(host: str, port: int, cases: list[Case], concurrency: int) -> list[Result]:
    gate = asyncio.Semaphore(concurrency)

    async def one(case: Case) -> Result:
        async with gate:
            return await send(host, port, case)

    return list(await asyncio.gather(*(one(case) for case in cases)))


_TERMINAL = re.compile(r"^(?:event: message_stop|data: \[DONE\])$", re.M)
_ERROR = re.compile(r'^(?:event: error|data: \{"error")', re.M)


def _stream_ended_in_error(result: Result) -> bool:
    text = result.body.decode("utf-8", "replace")
    return _TERMINAL.search(text) is None and _ERROR.search(text) is not None


def judge(results: list[Result], *, slow_bound_s: float) -> Verdict:
    verdict = Verdict(cases=len(results))
    for result in results:
        case = result.case
        where = f"{case.id}: {result.status} {result.raw[:160]!r}"
        if SECRET_MARK.encode() in result.raw:
            verdict.echoes.append(where)
        if case.slow:
            if not result.closed or result.seconds > slow_bound_s:
                verdict.stalls.append(f"{case.id}: open after {result.seconds:.1f}s")
            if result.status is not None and envelope_problems(result.status, result.headers, result.body):
                verdict.problems.append(where)
            continue
        if result.status is None:
            (verdict.stalls if not result.closed else verdict.problems).append(f"{case.id}: no answer")
            continue
        if result.status >= 500 and not (case.upstream_fault and result.status in (500, 529)):
            verdict.server_errors.append(where)
            continue
        if result.status >= 400 and not case.raw.startswith(b"HEAD "):
            problems = envelope_problems(result.status, result.headers, result.body)
            if problems:
                verdict.problems.append(f"{where}: {'; '.join(problems)}")
        if case.upstream_fault and "corrupt=" in case.raw.decode("latin-1"):
            if result.status == 200 and not _stream_ended_in_error(result):
                verdict.problems.append(f"{case.id}: a hostile answer reached the client as valid")
            if result.status == 500 and _error_code(result) != INVALID_ANSWER_CODE:
                verdict.problems.append(f"{case.id}: 500 without code {INVALID_ANSWER_CODE}")
        elif (
            case.upstream_fault
            and "drop_after" in case.raw.decode("latin-1")
            and result.status == 200
            and not _stream_ended_in_error(result)
        ):
            verdict.problems.append(f"{case.id}: a dropped stream did not end in an error event")
    return verdict


def _error_code(result: Result) -> Any:
    try:
        return json.loads(result.body)["error"].get("code")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


SUMMARIES: list[str] = []
"""Each database's counts, appended by the corpus test and shown in the terminal summary
(tests/hostile/conftest.py) even without ``-s``."""
