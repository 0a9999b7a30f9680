"""What the routes hand to the capture store, and what they get back.

The routes build one ``CallRecord`` per routed call once its outcome is known (never before dispatch) and hand it
to ``CaptureStore.record``; a call's response claims success only after ``record`` returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

Outcome = Literal["ok", "upstream_error", "client_cancelled", "refused"]
StreamMode = Literal["none", "native", "wrapped"]


@dataclass(frozen=True)
class CallRecord:
    request_id: str
    trace_id: str
    endpoint: str
    """The route template the call came in on: ``/v1/messages`` or ``/v1/chat/completions``."""
    model_requested: str
    """The model string the client asked for (may be a legacy alias)."""
    model_canonical: str
    """Always ``ainfera-inference`` for a routed call."""
    backend: str
    outcome: Outcome
    stream_mode: StreamMode
    input_tokens: int
    output_tokens: int
    latency_ms: float
    ttft_ms: float | None
    stop_reason: str | None
    error_type: str | None
    started_at: datetime


@dataclass(frozen=True)
class KillSwitchState:
    engaged: bool
    spent_usd: float
    threshold_usd: float | None


@dataclass(frozen=True)
class CaptureReceipt:
    request_id: str
    cost_usd: float
    audit_seqs: tuple[int, ...]


class CaptureStore(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def kill_switch(self) -> KillSwitchState:
        """The kill-switch state, read before any upstream dispatch."""
        ...

    async def record(self, call: CallRecord) -> CaptureReceipt:
        """Write the outcome row, its audit events and the ledger debit in one transaction; return after commit."""
        ...

    async def audit_events(self, request_id: str) -> list[dict[str, Any]]:
        """The audit events of one call, in ``seq`` order, as JSON-ready dicts."""
        ...
