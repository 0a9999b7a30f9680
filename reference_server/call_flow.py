"""One routed call, from backend checks to capture, shared by the Anthropic and OpenAI routes.

The order is the contract (BRIEF §2, §3): capability check and kill-switch *before* any upstream dispatch; the
capture written exactly once, *after* the outcome is known; and the response claims success (a 200 body, or the
terminal ``message_stop`` of a stream) only once the capture has committed. Whatever way a call ends — finished,
upstream error before or after the first byte, a client that went away — ``_finish`` runs exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reference_server.capture.types import CallRecord, CaptureStore, Outcome, StreamMode
from reference_server.errors import GatewayError
from reference_server.models_catalog import ResolvedModel
from reference_server.mutants import mutated
from reference_server.stream_replay import replay
from reference_server.trace import TraceContext
from reference_server.upstream.answer_check import (
    INVALID_ANSWER_CODE,
    InvalidAnswer,
    StreamGuard,
    check_message,
)
from reference_server.upstream.base import (
    StreamEvent,
    StreamItem,
    UpstreamAdapter,
    UpstreamError,
    UpstreamMessage,
    UpstreamRequest,
)

log = logging.getLogger("reference_server.calls")


@dataclass
class CallContext:
    request_id: str
    trace: TraceContext
    endpoint: str
    model: ResolvedModel
    adapter: UpstreamAdapter
    stream_mode: StreamMode = "none"
    started: float = field(default_factory=time.perf_counter)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ttft_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    captured: bool = False

    @property
    def backend(self) -> str:
        return self.adapter.slug


class CallFlow:
    def __init__(self, capture: CaptureStore, metrics: Any = None) -> None:
        self.capture = capture
        self.metrics = metrics
        self.dispatch_without_capture = 0

    # -- before dispatch -------------------------------------------------------------------------------------
    async def admit(self, ctx: CallContext, request: UpstreamRequest) -> None:
        """Refuse, before any dispatch, what the backend or the budget cannot take; a refusal is captured."""
        if request.tools and not ctx.adapter.capabilities.tools:
            if mutated("tools-refusal-is-400"):
                await self._finish(ctx, "refused", error_type="invalid_request_error")
                raise GatewayError(
                    400, "invalid_request_error", f"backend '{ctx.backend}' does not support tools"
                )
            err = GatewayError(
                422,
                "invalid_request_error",
                f"backend '{ctx.backend}' does not support tools",
                code="tools_not_supported_by_backend",
                backend=ctx.backend,
                hint="remove `tools`/`tool_choice`, or route to a backend with tool support "
                "(x-ainfera-backend: anthropic, openai, mistral or groq)",
            )
            await self._finish(ctx, "refused", error_type=err.extra["code"])
            raise err
        state = await self.capture.kill_switch()
        if state.engaged:
            await self._finish(ctx, "refused", error_type="kill_switch_engaged")
            raise GatewayError(
                403,
                "permission_error",
                f"cost kill-switch engaged: spent {state.spent_usd:.6f} USD of the "
                f"{state.threshold_usd} USD threshold; calls are refused until an operator raises the threshold",
                code="kill_switch_engaged",
            )
        if mutated("log-prompt-preview"):
            last = request.messages[-1]["content"] if request.messages else ""
            preview = last if isinstance(last, str) else ""
            log.info("dispatching", extra={"event": "router.dispatch", "preview": preview[:80]})

    # -- non-streaming -----------------------------------------------------------------------------------------
    async def complete(self, ctx: CallContext, request: UpstreamRequest) -> UpstreamMessage:
        await self.admit(ctx, request)
        try:
            msg = await ctx.adapter.chat(request)
            check_message(msg, ctx.backend, request.max_tokens)
        except UpstreamError as exc:
            await self._finish(ctx, "upstream_error", error_type=exc.error_type)
            raise _client_error(ctx, exc) from None
        except Exception as exc:
            # An adapter bug is still a dispatched call: it is captured, and the client gets a clean 500.
            await self._finish(ctx, "upstream_error", error_type="api_error")
            raise _adapter_failure(ctx, exc) from None
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(ctx, "client_cancelled"))
            raise
        ctx.ttft_ms = _ms_since(ctx.started)
        ctx.input_tokens, ctx.output_tokens = msg.usage.input_tokens, msg.usage.output_tokens
        ctx.stop_reason = msg.stop_reason
        await self._finish(ctx, "ok")
        return msg

    # -- streaming ---------------------------------------------------------------------------------------------
    async def open_stream(self, ctx: CallContext, request: UpstreamRequest) -> StreamRelay:
        """Dispatch and wait for the first upstream event, so that a failure before the first byte is still an
        HTTP error; then hand back a relay of the whole stream (the caller must ``aclose()`` it)."""
        await self.admit(ctx, request)
        upstream: AsyncIterator[StreamEvent]
        if ctx.adapter.capabilities.native_streaming:
            ctx.stream_mode = "native"
            upstream = ctx.adapter.stream_chat(request)
        else:
            ctx.stream_mode = "wrapped"
            try:
                msg = await ctx.adapter.chat(request)
                check_message(msg, ctx.backend, request.max_tokens)
                upstream = replay(msg, ctx.model.canonical)
            except UpstreamError as exc:
                await self._finish(ctx, "upstream_error", error_type=exc.error_type)
                raise _client_error(ctx, exc) from None
        next_batch = _batch_reader(upstream)
        guard = StreamGuard(ctx.backend, request.max_tokens)
        try:
            first = await next_batch()
            for event, _ in first:  # an invalid first batch is still an HTTP error, before the first byte
                guard.check(event)
        except UpstreamError as exc:
            await _aclose(upstream)
            await self._finish(ctx, "upstream_error", error_type=exc.error_type)
            raise _client_error(ctx, exc) from None
        except StopAsyncIteration:  # before `Exception`, which would swallow it
            await self._finish(ctx, "upstream_error", error_type="api_error")
            raise GatewayError(
                500, "api_error", f"backend '{ctx.backend}' closed the stream without an event"
            ) from None
        except Exception as exc:
            await _aclose(upstream)
            await self._finish(ctx, "upstream_error", error_type="api_error")
            raise _adapter_failure(ctx, exc) from None
        return StreamRelay(self, ctx, self._relay(ctx, first, upstream, next_batch, guard), upstream)

    async def _relay(
        self,
        ctx: CallContext,
        first: list[StreamItem],
        upstream: AsyncIterator[StreamEvent],
        next_batch: Callable[[], Awaitable[list[StreamItem]]],
        guard: StreamGuard,
    ) -> AsyncGenerator[list[StreamItem], None]:
        """Relay the upstream a batch at a time (the events of one network read): whatever is in is handed on
        at once, and nothing waits for more. Every event passes ``guard`` first (the first batch already has)."""
        batch = first
        checked = True
        try:
            while True:
                out: list[StreamItem] = []
                for event, frame in batch:
                    if not checked:
                        guard.check(event)
                    self._observe(ctx, event)
                    if event["type"] == "message_stop":
                        if out:  # what came before it is not held back with it
                            yield out
                        # Hold the terminal event back until the capture has committed: a client that saw
                        # message_stop has a call that is on the record.
                        try:
                            if mutated("stream-no-capture"):
                                ctx.captured = True
                            await self._finish(ctx, "ok")
                        except GatewayError as exc:
                            yield [(_error_event(exc.error_type, exc.message), None)]
                            return
                        if not mutated("no-message-stop"):
                            yield [(event, frame)]
                        return
                    # message_start is rewritten here (the canonical model), so its upstream frame is stale.
                    out.append((event, None if event["type"] == "message_start" else frame))
                if out:
                    yield out
                checked = False
                try:
                    batch = await next_batch()
                except StopAsyncIteration:
                    raise UpstreamError(
                        500, "api_error", "upstream stream ended before message_stop", dropped=True
                    ) from None
        except UpstreamError as exc:
            await self._finish(ctx, "upstream_error", error_type=exc.error_type)
            if exc.dropped and mutated("dropped-stream-counted-uncaptured"):
                self.dispatch_without_capture += 1
            yield [(_error_event(exc.error_type, _upstream_message(ctx, exc)), None)]
        except Exception as exc:
            await self._finish(ctx, "upstream_error", error_type="api_error")
            yield [(_error_event("api_error", _adapter_failure(ctx, exc).message), None)]
        finally:
            # Reached without a capture only when the consumer stopped early: the client went away.
            if not ctx.captured and not mutated("disconnect-not-captured"):
                await asyncio.shield(self._finish(ctx, "client_cancelled", raise_errors=False))
            await _aclose(upstream)

    def _observe(self, ctx: CallContext, event: StreamEvent) -> None:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message", {})
            message["model"] = ctx.model.canonical
            ctx.input_tokens = int(message.get("usage", {}).get("input_tokens", 0))
        elif kind == "content_block_delta" and ctx.ttft_ms is None:
            ctx.ttft_ms = _ms_since(ctx.started)
        elif kind == "message_delta":
            usage = event.get("usage") or {}
            ctx.output_tokens = int(usage.get("output_tokens", ctx.output_tokens))
            ctx.input_tokens = int(usage.get("input_tokens") or ctx.input_tokens)
            ctx.stop_reason = (event.get("delta") or {}).get("stop_reason")

    # -- capture -----------------------------------------------------------------------------------------------
    async def _finish(
        self, ctx: CallContext, outcome: Outcome, *, error_type: str | None = None, raise_errors: bool = True
    ) -> None:
        if ctx.captured:
            return
        ctx.captured = True  # never twice, even if the write below fails
        record = CallRecord(
            request_id=ctx.request_id,
            trace_id=ctx.trace.span_id if mutated("rows-carry-span-id") else ctx.trace.trace_id,
            endpoint=ctx.endpoint,
            model_requested=ctx.model.requested,
            model_canonical=ctx.model.canonical,
            backend=ctx.backend,
            outcome=outcome,
            stream_mode=ctx.stream_mode,
            input_tokens=ctx.input_tokens,
            output_tokens=ctx.output_tokens,
            latency_ms=_ms_since(ctx.started),
            ttft_ms=ctx.ttft_ms,
            stop_reason=ctx.stop_reason,
            error_type=error_type,
            started_at=ctx.started_at,
        )
        try:
            await self.capture.record(record)
        except Exception:
            if outcome != "refused":
                self.dispatch_without_capture += 1
            log.exception("capture failed", extra={"request_id": ctx.request_id, "outcome": outcome})
            if raise_errors:
                raise GatewayError(
                    500, "api_error", "the call could not be recorded; it must be treated as failed"
                ) from None
            return  # no row, so no provider-call count: metrics must agree with the rows (MET-007)
        if self.metrics is not None:
            self.metrics.observe_call(record)


class StreamRelay:
    """The relay of one stream as handed to a route: iterate it, and always ``aclose()`` it.

    A bare async generator runs none of its code when it is closed before its first iteration, so a client that
    left between dispatch and its first byte (``response.prepare`` fails) would leave the call dispatched but
    never captured. Closed before it started, this relay records the call as ``client_cancelled`` and closes
    the upstream; once started, the generator's own ``finally`` does that.
    """

    def __init__(
        self,
        flow: CallFlow,
        ctx: CallContext,
        batches: AsyncGenerator[list[StreamItem], None],
        upstream: AsyncIterator[StreamEvent],
    ) -> None:
        self._flow, self._ctx, self._events, self._upstream = flow, ctx, batches, upstream
        self._pending: deque[StreamEvent] = deque()
        self._started = False

    def __aiter__(self) -> StreamRelay:
        return self

    async def __anext__(self) -> StreamEvent:
        self._started = True
        while not self._pending:
            self._pending.extend(event for event, _ in await self._events.__anext__())
        return self._pending.popleft()

    async def next_batch(self) -> list[StreamItem] | None:
        """The events that are in, each with its ready frame if it has one; ``None`` at the end. Not to be mixed
        with iterating event by event."""
        self._started = True
        try:
            return await self._events.__anext__()
        except StopAsyncIteration:
            return None

    async def aclose(self) -> None:
        if not self._started:
            self._started = True
            try:
                await asyncio.shield(self._flow._finish(self._ctx, "client_cancelled", raise_errors=False))
            finally:
                await _aclose(self._upstream)
        await self._events.aclose()


def _error_event(error_type: str, message: str) -> StreamEvent:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _batch_reader(upstream: AsyncIterator[StreamEvent]) -> Callable[[], Awaitable[list[StreamItem]]]:
    """How to read the upstream a batch at a time: its own ``next_batch`` if it has one, else one event at a
    time."""
    batched = getattr(upstream, "next_batch", None)
    if batched is not None:
        return batched  # type: ignore[no-any-return]

    async def one() -> list[StreamItem]:
        return [(await anext(upstream), None)]

    return one


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _upstream_message(ctx: CallContext, exc: UpstreamError) -> str:
    if isinstance(exc, InvalidAnswer):
        return exc.message
    what = "dropped the connection mid-stream" if exc.dropped else f"failed ({exc.status} {exc.error_type})"
    return f"upstream backend '{ctx.backend}' {what}: {exc.message}"


def _adapter_failure(ctx: CallContext, exc: Exception) -> GatewayError:
    log.error(
        "backend adapter failed",
        exc_info=exc,
        extra={"request_id": ctx.request_id, "backend": ctx.backend},
    )
    return GatewayError(
        500, "api_error", f"backend '{ctx.backend}' failed unexpectedly; the call was recorded"
    )


UPSTREAM_REFUSED_CODE = "upstream_refused"


def _client_error(ctx: CallContext, exc: UpstreamError) -> GatewayError:
    status = exc.status if exc.status in (400, 401, 403, 404, 413, 429, 500, 529) else 500
    if mutated("upstream-errors-as-500"):
        return GatewayError(500, "api_error", _upstream_message(ctx, exc))
    if isinstance(exc, InvalidAnswer):
        return GatewayError(500, "api_error", exc.message, code=INVALID_ANSWER_CODE)
    if status == 400 and not exc.dropped:
        # The backend refused the request: its status and type, marked as the backend's so that a client (and
        # the contract's fuzzing) can tell a provider rule the contract does not state from a gateway refusal.
        return GatewayError(status, exc.error_type, _upstream_message(ctx, exc), code=UPSTREAM_REFUSED_CODE)
    return GatewayError(status, exc.error_type, _upstream_message(ctx, exc))


async def _aclose(it: AsyncIterator[StreamEvent]) -> None:
    close = getattr(it, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:  # an upstream that fails while closing has nothing left to tell us
            log.debug("upstream iterator failed to close", exc_info=True)
