"""Mutants of trace propagation (contracts/clauses/trace.yaml)."""

from __future__ import annotations

from reference_server.mutants.base import Mutant

MUTANTS = (
    Mutant(
        "trace-always-new", "TRACE-001", "the caller's traceparent is ignored: every call starts a new trace"
    ),
    Mutant(
        "trace-zero-when-absent",
        "TRACE-002",
        "a call without traceparent gets the all-zero (invalid) trace id",
    ),
    Mutant(
        "rows-carry-span-id", "TRACE-003", "the captured rows carry the gateway's span id, not the trace id"
    ),
    Mutant(
        "access-log-no-trace-id",
        "TRACE-004",
        "the access log line carries the request id but not the trace id",
    ),
    Mutant("no-trace-upstream", "TRACE-005", "the upstream request carries no traceparent"),
)
