"""Mutants of /metrics (contracts/clauses/metrics.yaml)."""

from __future__ import annotations

from reference_server.mutants.base import Mutant

MUTANTS = (
    Mutant(
        "metrics-open-without-key",
        "MET-001",
        "/metrics refuses a wrong key but not a missing one",
        fuzz_check="ignored_auth",
    ),
)
