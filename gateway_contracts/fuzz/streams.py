"""The full SSE grammar on a streamed response, as the fuzz check sees it.

schemathesis reads only the first 20 events of a stream by default; the run configures ``max-stream-events`` high
enough that a stream is read to its end, and a stream cut short anyway (by the request timeout) is reported as
such instead of being validated as a truncated stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway_contracts.sse import Dialect, validate_text

DIALECTS: dict[str, Dialect] = {"createMessage": "anthropic", "createChatCompletion": "openai"}
MAX_STREAM_EVENTS = 1_000_000
"""What the run sets as schemathesis' ``max-stream-events``: no stream the fuzzer provokes comes near it."""
MAX_LISTED = 5


@dataclass(frozen=True)
class StreamVerdict:
    title: str
    message: str


def stream_verdict(operation_id: str, content: bytes, cut_short: bool) -> StreamVerdict | None:
    """None when the stream follows the grammar of its operation's dialect (strictly, framing included)."""
    dialect = DIALECTS.get(operation_id, "anthropic")
    if cut_short:
        return StreamVerdict(
            "SSE stream not finished",
            f"the {dialect} stream did not end within the request timeout ({len(content)} bytes read)",
        )
    violations = validate_text(content, dialect, strict=True)
    if not violations:
        return None
    clauses = sorted({v.clause for v in violations})
    lines = [str(v) for v in violations[:MAX_LISTED]]
    if len(violations) > MAX_LISTED:
        lines.append(f"… and {len(violations) - MAX_LISTED} more")
    return StreamVerdict(f"SSE grammar violated: {', '.join(clauses)}", "\n".join(lines))
