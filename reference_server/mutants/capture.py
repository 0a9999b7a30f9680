"""Mutants of the capture layer (contracts/clauses/capture.yaml): outcome rows, audit chain, ledger, kill-switch."""

from __future__ import annotations

from reference_server.mutants.base import Mutant

MUTANTS = (
    Mutant(
        "stream-no-capture",
        "CAP-001",
        "a stream that completes writes no outcome row",
        fuzz_check="capture_invariant",
        fuzz_phases="examples",
    ),
)
