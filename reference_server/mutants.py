"""Deliberately broken variants of the reference gateway, to prove the suite catches what it claims to.

Each mutant is a switch, read from ``GATEWAY_CONTRACTS_MUTANT`` at start-up, that breaks exactly one clause. The
switches sit at the one place where the behaviour lives, so a mutant is the smallest realistic bug (a forgotten
line, a wrong constant), not a different program. Unset, the gateway is the reference.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MUTANT_ENV = "GATEWAY_CONTRACTS_MUTANT"


@dataclass(frozen=True)
class Mutant:
    name: str
    breaks: str
    """The clause ID the mutant breaks, and by which ``check`` must catch it."""
    description: str


MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        Mutant("alias-leak", "ALIAS-002", "the response reports the model string the client asked for"),
        Mutant("malformed-json-500", "WIRE-005", "malformed JSON escapes as an unhandled error (500)"),
        Mutant("no-message-stop", "SSE-019", "streams end after message_delta without message_stop"),
        Mutant("stream-no-capture", "CAP-001", "a stream that completes writes no outcome row"),
        Mutant("dead-string-llms", "DISC-002", "llms.txt still mentions the legacy ainfera-mithril"),
        Mutant("no-trace-upstream", "TRACE-005", "the upstream request carries no traceparent"),
        Mutant(
            "unknown-model-fallback", "ALIAS-003", "an unknown model silently falls back to the canonical"
        ),
        # Mutants the fuzz checks catch too (tests/fuzz): each breaks what one contract check guards.
        Mutant("flat-error-envelope", "WIRE-004", 'error bodies lose their top-level "type": "error"'),
        Mutant("error-echoes-value", "WIRE-009", "validation errors quote the offending value back"),
        Mutant("metrics-open-without-key", "MET-001", "/metrics refuses a wrong key but not a missing one"),
        Mutant(
            "aliases-unknown", "ALIAS-001", "the legacy aliases are forgotten: they get 404 unknown model"
        ),
    )
}


def active_mutant() -> str | None:
    name = os.environ.get(MUTANT_ENV) or None
    if name is not None and name not in MUTANTS:
        raise ValueError(f"unknown mutant {name!r} in {MUTANT_ENV}; known: {', '.join(sorted(MUTANTS))}")
    return name


def mutated(name: str) -> bool:
    """Whether this run is the named mutant (read each time: tests switch mutants per process)."""
    return os.environ.get(MUTANT_ENV) == name
