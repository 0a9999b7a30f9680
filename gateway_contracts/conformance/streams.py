"""Stream helpers for conformance tests, on the SSE grammar checker (``gateway_contracts.sse``).

There is one reading of a stream: the strict frame parser (``gateway_contracts.sse.framing``) that the grammar
validator runs on. A test that looks at a stream's content first has the stream judged
(``assert_stream_follows_grammar``), so that a broken stream is reported under its SSE clause, never as the
failure of the test that wanted its content; the content readers below then read the same frames and never
raise a parse error of their own (an unreadable frame is already an SSE-006 or OAI-SSE-006 finding).
"""

from __future__ import annotations

from typing import Any

from gateway_contracts.failures import ClauseFailure
from gateway_contracts.sse import Dialect, fold_anthropic_text, stream_payloads, validate_text


def sse_events(text: str | bytes) -> list[dict[str, Any]]:
    """The JSON objects of an Anthropic event stream, in order."""
    return [p for p in stream_payloads(text, "anthropic") if isinstance(p, dict)]


def data_chunks(text: str | bytes) -> list[Any]:
    """The data of an OpenAI chunk stream, in order: each frame's parsed JSON, or the literal ``[DONE]``."""
    return list(stream_payloads(text, "openai"))


def fold_anthropic(text: str | bytes) -> dict[str, Any]:
    """The message a stream folds to, once the stream is known to follow the grammar: a broken stream is the
    SSE clause's failure (raised here), not the failure of the test that wanted its message."""
    assert_stream_follows_grammar(text)
    return fold_anthropic_text(text)


def assert_stream_follows_grammar(
    text: str | bytes, dialect: Dialect = "anthropic", strict: bool = False
) -> None:
    """A stream seen by any test is judged by the SSE checker, and a violation is reported under its own SSE
    clause (a wire test that meets a truncated stream fails SSE-019, not itself)."""
    violations = validate_text(text, dialect=dialect, strict=strict)
    if violations:
        first = violations[0]
        raise ClauseFailure(first.clause, str(first), f"{len(violations)} violation(s) in the stream")
