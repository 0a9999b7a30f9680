"""Stream helpers for conformance tests, on top of the SSE grammar validator (``gateway_contracts.sse``)."""

from __future__ import annotations

import json
from typing import Any


def sse_events(text: str) -> list[dict[str, Any]]:
    """The JSON payloads of an Anthropic event stream, in order (lenient: for tests that look at content)."""
    events: list[dict[str, Any]] = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip(" ") for line in frame.split("\n") if line.startswith("data:")]
        if data:
            events.append(json.loads("\n".join(data)))
    return events


def data_chunks(text: str) -> list[Any]:
    """The ``data:`` payloads of an OpenAI-style stream: parsed JSON, or the literal ``[DONE]``."""
    out: list[Any] = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        for line in frame.split("\n"):
            if line.startswith("data:"):
                payload = line[5:].strip()
                out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def anthropic_violations(text: str, strict: bool = True) -> list[str]:
    from gateway_contracts.sse import validate_text

    return [str(v) for v in validate_text(text, dialect="anthropic", strict=strict)]


def openai_violations(text: str, strict: bool = False) -> list[str]:
    from gateway_contracts.sse import validate_text

    return [str(v) for v in validate_text(text, dialect="openai", strict=strict)]


def fold_anthropic(text: str) -> dict[str, Any]:
    """The message a stream folds to, once the stream is known to follow the grammar: a broken stream is the
    SSE clause's failure (raised here), not the failure of the test that wanted its message."""
    from gateway_contracts.sse import fold_anthropic_text

    assert_stream_follows_grammar(text)
    return fold_anthropic_text(text)


def assert_stream_follows_grammar(
    text: str | bytes, dialect: str = "anthropic", strict: bool = False
) -> None:
    """A stream seen by any test is judged by the SSE checker, and a violation is reported under its own SSE
    clause (a wire test that meets a truncated stream fails SSE-019, not itself)."""
    from gateway_contracts.failures import ClauseFailure
    from gateway_contracts.sse import validate_text

    violations = validate_text(text, dialect=dialect, strict=strict)  # type: ignore[arg-type]
    if violations:
        first = violations[0]
        raise ClauseFailure(first.clause, str(first), f"{len(violations)} violation(s) in the stream")
