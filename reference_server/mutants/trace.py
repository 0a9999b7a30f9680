"""Mutants of trace propagation (contracts/clauses/trace.yaml)."""

from __future__ import annotations

from reference_server.mutants.base import Mutant

MUTANTS = (Mutant("no-trace-upstream", "TRACE-005", "the upstream request carries no traceparent"),)
