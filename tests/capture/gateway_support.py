"""Helpers for the capture tests that go THROUGH the gateway over real HTTP on loopback.

- :class:`Gateway`: the reference gateway (``build_app``) served by a :class:`ServerThread`, with a
  :class:`CaptureWatch` on its capture store.
- :class:`CaptureWatch`: the in-process signal that a call's capture has settled (committed, or failed for
  good). A client that disconnects mid-stream has its capture written *after* it left; the watch lets a test
  wait for exactly that event instead of sleeping.
- :class:`GatewayProcess`: ``python -m reference_server serve ...`` as a real OS process.
- :func:`captured`: the rows one request id left in the three capture tables.
- Request builders and a stream reader that disconnects after the first ``content_block_delta``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reference_server.app import build_app
from reference_server.call_flow import CallFlow
from reference_server.capture.store import SqlCaptureStore
from reference_server.capture.types import CallRecord, CaptureReceipt
from reference_server.config import GatewayConfig
from reference_server.models_catalog import CANONICAL_MODEL, LEGACY_ALIASES
from reference_server.state import STATE
from reference_server.upstream.base import StreamEvent, UpstreamAdapter, UpstreamMessage, UpstreamRequest
from tests.capture.support import Sql
from tests.support.gateway import RunningGateway
from tests.support.servers import ServerThread

REPO = Path(__file__).resolve().parents[2]
CLIENT_KEY = "sk-test-capture-client-0123456789"
AUTH = {"x-api-key": CLIENT_KEY}
SCRIPT = "x-upstream-script"
BACKEND = "x-ainfera-backend"
MODELS = (CANONICAL_MODEL, *sorted(LEGACY_ALIASES))
"""The canonical model and the three legacy aliases, in a fixed order."""
SLOW_STREAM = "text_tokens=1000; chunk=1; latency_ms=20"
"""A stream that would take ~20 s to finish (1000 deltas, 20 ms apart; the bodies' ``max_tokens`` leave room
for all of them): a client that closes after the first delta is certainly mid-stream when it goes."""
MAX_TOKENS = 4096
"""Room for :data:`SLOW_STREAM`'s 1000 words: with less, the scripted answer stops at ``max_tokens`` and the
"slow" stream is over in a moment."""
WAIT_S = 30.0
"""Upper bound on any wait for a capture; reached only when something is broken."""
_TRACE = re.compile(r"^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def message_body(model: str = CANONICAL_MODEL, *, stream: bool = False, **extra: Any) -> dict[str, Any]:
    """A minimal valid ``/v1/messages`` body."""
    return {
        "model": model,
        "max_tokens": MAX_TOKENS,
        "stream": stream,
        "messages": [{"role": "user", "content": "capture me"}],
        **extra,
    }


def chat_body(model: str = CANONICAL_MODEL, *, stream: bool = False) -> dict[str, Any]:
    """A minimal valid ``/v1/chat/completions`` body."""
    return {
        "model": model,
        "max_tokens": MAX_TOKENS,
        "stream": stream,
        "messages": [{"role": "user", "content": "capture me"}],
    }


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def trace_id_of(response: httpx.Response) -> str:
    """The trace id of the response's ``traceparent`` header."""
    match = _TRACE.match(response.headers["traceparent"])
    assert match, response.headers["traceparent"]
    return match.group(1)


class CaptureWatch:
    """Knows, from any thread, when the capture of a call has settled in the gateway's store; a call is named by
    its request id (``req_...``) or by its trace id (32 hex digits, for a client that left before it saw the
    ``request-id`` header).

    It wraps the store's ``record`` on the running gateway: the real ``record`` runs as a task of its own,
    shielded from the caller (the store already commits a cancelled caller's record; the shield only keeps
    this wrapper from reporting the caller's cancellation as the capture's end), and the task's completion
    (commit or final failure, never before) sets a per-request ``threading.Event``.
    """

    def __init__(self, store: SqlCaptureStore) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, threading.Event] = {}
        self._results: dict[str, CaptureReceipt | BaseException] = {}
        self._original = store.record
        store.record = self._record  # type: ignore[method-assign]

    async def _record(self, call: CallRecord) -> CaptureReceipt:
        task = asyncio.ensure_future(self._original(call))
        task.add_done_callback(lambda done: self._settled((call.request_id, call.trace_id), done))
        return await asyncio.shield(task)

    def _settled(self, keys: tuple[str, str], task: asyncio.Future[CaptureReceipt]) -> None:
        outcome: CaptureReceipt | BaseException
        if task.cancelled():
            outcome = asyncio.CancelledError()
        else:
            exc = task.exception()
            outcome = exc if exc is not None else task.result()
        with self._lock:
            for key in keys:
                self._results[key] = outcome
                self._event(key).set()

    def _event(self, request_id: str) -> threading.Event:
        event = self._events.get(request_id)
        if event is None:
            event = self._events[request_id] = threading.Event()
        return event

    def settled(self, call: str) -> bool:
        """Whether the capture of ``call`` (a request id or a trace id) has settled."""
        with self._lock:
            return call in self._results

    async def wait(self, call: str, limit_s: float = WAIT_S) -> CaptureReceipt:
        """Wait (bounded) until the capture of ``call`` (a request id or a trace id) settled; return its
        receipt, or fail the test with the error that cost the call its capture."""
        with self._lock:
            event = self._event(call)
        if not await asyncio.to_thread(event.wait, limit_s):
            raise AssertionError(f"the capture of {call} did not settle within {limit_s} s")
        with self._lock:
            outcome = self._results[call]
        if isinstance(outcome, BaseException):
            raise AssertionError(f"the capture of {call} failed: {outcome!r}")
        return outcome

    async def wait_all(self, calls: list[str], limit_s: float = WAIT_S) -> list[CaptureReceipt]:
        """Wait (bounded, ``limit_s`` for all of them together) until every call's capture settled."""
        async with asyncio.timeout(limit_s):
            return [await self.wait(call, limit_s) for call in calls]


class DispatchWatch:
    """Knows, from any thread, when the gateway dispatched a call upstream: it wraps ``chat`` and
    ``stream_chat`` of every adapter of a running gateway, and recognises a call by the trace id of the
    ``traceparent`` the gateway forwards upstream."""

    def __init__(self, adapters: Mapping[str, UpstreamAdapter]) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, threading.Event] = {}
        for adapter in adapters.values():
            self._wrap(adapter)

    def _wrap(self, adapter: UpstreamAdapter) -> None:
        chat, stream_chat = adapter.chat, adapter.stream_chat

        async def watched_chat(request: UpstreamRequest) -> UpstreamMessage:
            self._dispatched(request)
            return await chat(request)

        def watched_stream_chat(request: UpstreamRequest) -> AsyncIterator[StreamEvent]:
            self._dispatched(request)
            return stream_chat(request)

        adapter.chat = watched_chat  # type: ignore[method-assign]
        adapter.stream_chat = watched_stream_chat  # type: ignore[method-assign]

    def _dispatched(self, request: UpstreamRequest) -> None:
        match = _TRACE.match(request.headers.get("traceparent", ""))
        if match:
            self._event(match.group(1)).set()

    def _event(self, trace_id: str) -> threading.Event:
        with self._lock:
            event = self._events.get(trace_id)
            if event is None:
                event = self._events[trace_id] = threading.Event()
            return event

    async def wait(self, trace_id: str, limit_s: float = WAIT_S) -> None:
        """Wait (bounded) until the call with this trace id was dispatched upstream."""
        if not await asyncio.to_thread(self._event(trace_id).wait, limit_s):
            raise AssertionError(f"no call with trace id {trace_id} was dispatched within {limit_s} s")


@dataclass
class Gateway(RunningGateway):
    """A reference gateway on loopback, in a thread of its own, with a watch on its capture store."""

    db_url: str
    watch: CaptureWatch = field(init=False)
    dispatches: DispatchWatch = field(init=False)

    def __post_init__(self) -> None:
        self.watch = CaptureWatch(self.store)
        assert self.server.app is not None
        self.dispatches = DispatchWatch(self.server.app[STATE].adapters)

    @property
    def flow(self) -> CallFlow:
        assert self.server.app is not None
        return self.server.app[STATE].flow

    def stop(self) -> None:
        self.server.stop()


def start_gateway(db_url: str, *, upstreams: list[str] | None = None, **overrides: Any) -> Gateway:
    """Start the reference gateway on ``db_url`` (migrated to head on start-up) on a free loopback port;
    ``upstreams`` defaults to the in-process scripted upstream."""
    config = GatewayConfig(
        db_url=db_url, port=0, upstreams=upstreams or ["scripted"], client_keys=(CLIENT_KEY,), **overrides
    )
    return Gateway(ServerThread(lambda: build_app(config)).start(), db_url)


@dataclass
class Captured:
    """The rows one request id has in the three capture tables (audit events in seq order, payloads parsed)."""

    outcomes: list[dict[str, Any]]
    events: list[dict[str, Any]]
    ledger: list[dict[str, Any]]

    @property
    def outcome(self) -> dict[str, Any]:
        assert len(self.outcomes) == 1, self.outcomes
        return self.outcomes[0]

    def payload(self, kind: str) -> dict[str, Any]:
        found = [e["payload"] for e in self.events if e["kind"] == kind]
        assert len(found) == 1, self.events
        payload: dict[str, Any] = json.loads(found[0])
        return payload


async def captured(sql: Sql, request_id: str) -> Captured:
    """Everything the capture wrote for ``request_id``, read with raw SQL."""
    params = {"r": request_id}
    return Captured(
        outcomes=await sql.rows("SELECT * FROM routing_outcomes WHERE request_id = :r", **params),
        events=await sql.rows("SELECT * FROM audit_events WHERE request_id = :r ORDER BY seq", **params),
        ledger=await sql.rows("SELECT * FROM ledger_entries WHERE request_id = :r", **params),
    )


async def stream_and_disconnect(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    """Open a streamed call, read up to its first content delta (``event: content_block_delta`` on
    ``/v1/messages``, a chunk with non-empty ``delta.content`` on ``/v1/chat/completions``), then close the
    connection mid-stream. Returns the response (status, headers)."""
    async with client.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("event: content_block_delta") or _is_openai_content(line):
                break
        else:
            raise AssertionError("the stream ended before its first content delta")
    return response


def _is_openai_content(line: str) -> bool:
    if not line.startswith("data: {"):
        return False
    chunk = json.loads(line.removeprefix("data: "))
    return any((choice.get("delta") or {}).get("content") for choice in chunk.get("choices") or [])


def sse_events(response: httpx.Response) -> list[str]:
    """The ``event:`` names of a complete Anthropic stream, in order."""
    return [line.removeprefix("event: ") for line in response.text.splitlines() if line.startswith("event: ")]


def cli(*args: str) -> list[str]:
    """The command line of the reference gateway's real CLI (``python -m reference_server ...``)."""
    return [sys.executable, "-m", "reference_server", *args]


def subprocess_env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}


async def run_cli(*args: str, limit_s: float = 120.0) -> tuple[int, str, str]:
    """Run the real CLI as a subprocess; (exit status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *cli(*args),
        cwd=REPO,
        env=subprocess_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(limit_s):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:[0-9]+)")


class GatewayProcess:
    """``reference-gateway serve --port 0 ...`` as an OS process; :meth:`start` returns once it printed the
    URL it listens on (bounded wait on its stdout, no sleeps)."""

    def __init__(self, args: list[str], stderr_path: Path) -> None:
        self._args = args
        self.stderr_path = stderr_path
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""

    async def start(self, limit_s: float = 60.0) -> GatewayProcess:
        with self.stderr_path.open("wb") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                *cli("serve", "--host", "127.0.0.1", "--port", "0", *self._args),
                cwd=REPO,
                env=subprocess_env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(limit_s):
                while line := (await self.process.stdout.readline()).decode():
                    match = _LISTENING.search(line)
                    if match:
                        self.url = match.group(1)
                        return self
        except TimeoutError:
            pass
        await self.stop()
        raise AssertionError(f"gateway process did not start: {self.stderr_tail()}")

    async def stop(self, limit_s: float = 30.0) -> int:
        """SIGTERM (a clean shutdown: the capture store commits what is queued), then wait; the exit status."""
        process = self.process
        assert process is not None
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(limit_s):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if process.stdout is not None:
            await process.stdout.read()
        assert process.returncode is not None
        return process.returncode

    def stderr_tail(self, lines: int = 5) -> str:
        text = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return "\n".join(text.strip().splitlines()[-lines:]) or "(no stderr)"


async def until(
    condition: Callable[[], Coroutine[Any, Any, bool]], limit_s: float = WAIT_S, every: float = 0.05
) -> None:
    """Poll an async condition until it holds, bounded by ``limit_s`` (only for what has no in-process signal:
    captures written by another OS process)."""
    async with asyncio.timeout(limit_s):
        while not await condition():  # noqa: ASYNC110 - no event exists across processes; bounded above
            await asyncio.sleep(every)
