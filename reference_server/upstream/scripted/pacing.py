"""Timing and failures of a scripted answer, shared by the in-process adapter and the HTTP server: the error
that comes before the first byte, the delays between stream items, where a ``drop_after`` script dies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TypeVar

from reference_server.upstream.base import UpstreamError, error_type_for_status
from reference_server.upstream.scripted.directives import Directives
from reference_server.upstream.scripted.engine import Script, TextBlock

T = TypeVar("T")

YIELD_EVERY = 64
"""An unpaced stream hands the event loop back every this many items."""


async def sleep_for(seconds: float) -> None:
    """Skip the zero-length sleeps of the default script; a positive one is the simulated upstream's latency."""
    if seconds > 0:
        await asyncio.sleep(seconds)


def upfront_error(d: Directives, *, streaming: bool) -> UpstreamError | None:
    """The failure that happens before the first byte, if the script has one. A non-streaming call cannot
    drop half-way, so ``drop_after`` there is an upstream 500."""
    if d.error is not None:
        message = f"scripted upstream error {d.error} (directive error={d.error})"
        return UpstreamError(d.error, error_type_for_status(d.error), message)
    if d.drop_after is not None and not streaming:
        return UpstreamError(
            500, "api_error", f"scripted upstream failed (directive drop_after={d.drop_after})"
        )
    return None


def drop_error(d: Directives) -> UpstreamError:
    return UpstreamError(
        500,
        "api_error",
        f"scripted upstream dropped the connection after {d.drop_after} content deltas",
        dropped=True,
    )


def pace(
    items: Sequence[T], d: Directives, *, is_delta: Callable[[T], bool], is_end: Callable[[T], bool]
) -> tuple[list[tuple[float, T]], bool]:
    """Attach to each stream item the delay (seconds) to wait before sending it, and cut the stream where a
    ``drop_after`` script dies: before the (N+1)-th content delta, or before the end-of-message item if the
    content has N deltas or fewer (a scripted drop always drops). Returns ``(paced items, dropped)``.
    ``first_byte_ms`` is not included: callers wait it before anything else (a server before its headers)."""
    paced: list[tuple[float, T]] = []
    deltas = 0
    for item in items:
        delta = is_delta(item)
        if d.drop_after is not None and (is_end(item) or (delta and deltas >= d.drop_after)):
            return paced, True
        paced.append((d.latency_ms / 1000 if delta else 0.0, item))
        deltas += delta
    return paced, False


def total_delay(script: Script) -> float:
    """How long a non-streaming call takes: as long as the same stream would."""
    deltas = sum(len(b.deltas) if isinstance(b, TextBlock) else len(b.fragments) for b in script.blocks)
    d = script.directives
    return (d.first_byte_ms + d.latency_ms * deltas) / 1000
