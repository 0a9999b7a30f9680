"""W3C trace context (https://www.w3.org/TR/trace-context/): accept ``traceparent``, make one when absent.

The gateway keeps the caller's trace id and starts a span of its own (a new parent id), so the same trace id
reaches the response, the logs, the captured rows and the upstream request.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from reference_server.mutants import mutated

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str
    flags: str = "01"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def from_header(value: str | None) -> TraceContext:
    """The trace context for a call: the caller's trace id when its ``traceparent`` is valid, else a new one.

    Per the spec an all-zero trace or parent id, or version ``ff``, is invalid and is replaced, not propagated.
    """
    span_id = secrets.token_hex(8)
    if value and not mutated("trace-always-new"):
        m = _TRACEPARENT.fullmatch(value.strip().lower())
        if m and m.group(1) != "ff" and set(m.group(2)) != {"0"} and set(m.group(3)) != {"0"}:
            return TraceContext(m.group(2), span_id, m.group(4))
    if not value and mutated("trace-zero-when-absent"):
        return TraceContext("0" * 32, span_id)
    return TraceContext(secrets.token_hex(16), span_id)
