"""The public face of the stream validators: one incremental validator class per dialect, one-shot helpers.

Usage::

    v = AnthropicValidator()            # or OpenAIValidator(), or validator_for("openai")
    for chunk in response.iter_bytes():
        for violation in v.feed(chunk):  # live, as the stream arrives
            ...
    violations = v.close()              # every violation of the stream, in stream order
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway_contracts.sse.anthropic_stream import AnthropicValidator
from gateway_contracts.sse.machine import StreamValidator
from gateway_contracts.sse.openai_stream import OpenAIValidator
from gateway_contracts.sse.rules import DIALECTS, Dialect
from gateway_contracts.sse.violations import Violation

Validator = StreamValidator
"""The common type of both dialects' validators."""

VALIDATORS: dict[Dialect, type[StreamValidator]] = {
    "anthropic": AnthropicValidator,
    "openai": OpenAIValidator,
}


def validator_for(dialect: Dialect, *, strict: bool = True) -> StreamValidator:
    if dialect not in VALIDATORS:
        raise ValueError(f"unknown dialect {dialect!r} (known: {', '.join(DIALECTS)})")
    return VALIDATORS[dialect](strict=strict)


def validate(
    stream: bytes | str | Iterable[bytes | str], dialect: Dialect = "anthropic", *, strict: bool = True
) -> list[Violation]:
    """Every violation of a whole stream (given at once, or as an iterable of chunks)."""
    validator = validator_for(dialect, strict=strict)
    if isinstance(stream, bytes | str):
        validator.feed(stream)
    else:
        for chunk in stream:
            validator.feed(chunk)
    return validator.close()


def validate_text(
    text: bytes | str, dialect: Dialect = "anthropic", *, strict: bool = True
) -> list[Violation]:
    """``validate`` for a stream held whole (a response body)."""
    return validate(text, dialect, strict=strict)


__all__ = [
    "VALIDATORS",
    "AnthropicValidator",
    "OpenAIValidator",
    "StreamValidator",
    "Validator",
    "Violation",
    "validate",
    "validate_text",
    "validator_for",
]
