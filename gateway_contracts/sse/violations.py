"""What a validator reports: one ``Violation`` per broken clause occurrence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXCERPT_LIMIT = 120

# Control characters would break the one-line-per-violation output: show them escaped.
_ESCAPES = {i: f"\\x{i:02x}" for i in range(0x20)} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x7F: "\\x7f"}


def excerpt(raw: bytes | str, limit: int = EXCERPT_LIMIT) -> str:
    """At most ``limit`` characters of ``raw`` on one line: control characters escaped, an ellipsis if cut."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    # Escaping can only lengthen the text: cut generously first so a huge frame costs nothing to excerpt.
    shown = text[: limit + 1].translate(_ESCAPES)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Violation:
    clause: str
    """The clause ID (``SSE-0NN`` or ``OAI-SSE-0NN``)."""
    level: str
    """``MUST`` or ``SHOULD``, from the clause file."""
    index: int
    """The 0-based index of the event (frame) where it shows; for the end of the stream, the last event's."""
    excerpt: str
    """At most 120 characters of that event as sent, on one line."""
    message: str

    def __str__(self) -> str:
        return f"{self.clause} event#{self.index}: {self.message} | {self.excerpt}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "level": self.level,
            "index": self.index,
            "excerpt": self.excerpt,
            "message": self.message,
        }
