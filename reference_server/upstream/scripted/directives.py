"""The ``X-Upstream-Script`` directive header: how a test tells the scripted upstream what to do.

The value is ``key=value; key=value`` (see docs/scripted-upstream.md). Every key is optional; an empty or
missing header gives a short, normal text answer. Anything we do not understand is a ``DirectiveError`` (a
``ValueError`` naming the key) rather than being ignored: a typo in a test's script must fail loudly, not
silently run a different scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import unquote

DIRECTIVE_HEADER = "x-upstream-script"
"""Lower-case, as the gateway forwards it in ``UpstreamRequest.headers``."""

FINISH_VALUES = ("end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal")
CORRUPT_VALUES = ("bad_json", "wrong_types", "tool_input_string", "truncate", "endless", "huge")
"""Hostile answers (docs/scripted-upstream.md, "Hostile answers"): what a broken or malicious upstream sends."""

# Bounds keep a hostile or mistyped header from making the simulated upstream allocate or sleep forever.
_MAX_TOKENS = 100_000
_MAX_DELAY_MS = 600_000


class DirectiveError(ValueError):
    """A directive header that cannot be honoured. ``key`` names the offending directive key.

    Messages never quote a value from the header (it may hold anything, a credential included). ``public`` is
    the message for an HTTP answer: it names the key only when it is one of the known keys, since an unknown
    "key" is as much the client's text as a value is."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{DIRECTIVE_HEADER}: {key}: {message}")
        self.key = key
        shown = key if key in _PARSERS else "unknown directive key"
        self.public = f"{DIRECTIVE_HEADER}: {shown}: {message}"


@dataclass(frozen=True)
class Directives:
    """A parsed directive header; the defaults are a normal 12-word answer in 3-word deltas."""

    text_tokens: int = 12
    chunk: int = 3
    latency_ms: int = 0
    first_byte_ms: int = 0
    error: int | None = None
    drop_after: int | None = None
    stop_sequence: str | None = None
    finish: str | None = None
    tool: str | None = None
    text_before_tool: bool = False
    seed: int = 0
    corrupt: str | None = None

    def canonical(self) -> str:
        """A stable text form, used in hashes so that ids depend on the script as well as the request."""
        return ";".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))


def _int_in(low: int, high: int) -> Callable[[str, str], int]:
    def parse(key: str, raw: str) -> int:
        try:
            value = int(raw, 10)
        except ValueError:
            raise DirectiveError(key, "expected an integer") from None
        if not low <= value <= high:
            raise DirectiveError(key, f"must be between {low} and {high}")
        return value

    return parse


def _nonempty(key: str, raw: str) -> str:
    if raw == "":
        raise DirectiveError(key, "must not be empty")
    return raw


def _finish(key: str, raw: str) -> str:
    if raw not in FINISH_VALUES:
        raise DirectiveError(key, f"must be one of {', '.join(FINISH_VALUES)}")
    return raw


def _corrupt(key: str, raw: str) -> str:
    if raw not in CORRUPT_VALUES:
        raise DirectiveError(key, f"must be one of {', '.join(CORRUPT_VALUES)}")
    return raw


def _flag(key: str, raw: str) -> bool:
    if raw not in ("0", "1"):
        raise DirectiveError(key, "must be 0 or 1")
    return raw == "1"


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "text_tokens": _int_in(0, _MAX_TOKENS),
    "chunk": _int_in(1, _MAX_TOKENS),
    "latency_ms": _int_in(0, _MAX_DELAY_MS),
    "first_byte_ms": _int_in(0, _MAX_DELAY_MS),
    "error": _int_in(400, 599),  # an HTTP error status the upstream answers with
    "drop_after": _int_in(0, _MAX_TOKENS),
    "stop_sequence": _nonempty,
    "finish": _finish,
    "tool": _nonempty,
    "text_before_tool": _flag,
    "seed": _int_in(0, 2**63 - 1),
    "corrupt": _corrupt,
}


def parse_directives(value: str | None) -> Directives:
    """Parse a header value. Values are stripped of surrounding spaces, then percent-decoded, so a stop
    sequence may carry ``%3B`` (``;``), ``%20`` (a significant space) or ``%25`` (``%``)."""
    if value is None or not value.strip():
        return Directives()
    seen: dict[str, Any] = {}
    for item in value.split(";"):
        item = item.strip()
        if not item:
            continue  # tolerate "a=1;" and "a=1;; b=2"
        key, sep, raw = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise DirectiveError(key, "expected key=value")
        if key not in _PARSERS:
            raise DirectiveError(key, f"not a directive key (known: {', '.join(sorted(_PARSERS))})")
        if key in seen:
            raise DirectiveError(key, "given more than once")
        seen[key] = _PARSERS[key](key, unquote(raw.strip()))
    return Directives(**seen)


def directives_from_headers(headers: Mapping[str, str]) -> Directives:
    """Find the directive header whatever its case (the gateway lower-cases, raw HTTP may not)."""
    for name, value in headers.items():
        if name.lower() == DIRECTIVE_HEADER:
            return parse_directives(value)
    return Directives()
