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
    Mutant("stream-not-audited", "CAP-002", "a streamed call writes no audit events (only non-streamed are)"),
    Mutant(
        "zero-debit-skipped", "CAP-003", "a call that consumed nothing writes no ledger row (0 is skipped)"
    ),
    Mutant(
        "disconnect-not-captured",
        "CAP-004",
        "a client that hangs up mid-stream leaves the call with no outcome row, audit events or debit",
    ),
    Mutant(
        "batch-chain-fork",
        "CAP-006",
        "concurrent calls committed together each chain onto the head read at the start, forking the chain",
    ),
    Mutant("audit-seq-gap", "CAP-006", "each call's events leave a gap of one seq after them"),
    Mutant(
        "batch-drops-ledger",
        "CAP-005",
        "calls committed together (only under concurrency) lose the last call's ledger debit",
    ),
    Mutant("audit-router-alias", "CAP-008", "the audit router event reports the model the client asked for"),
    Mutant(
        "output-priced-as-input",
        "CAP-009",
        "the price table is loaded with the input price in the output column: output tokens debit at input price",
    ),
    Mutant("anchors-legacy-literal", "CAP-010", "the anchor voters are seeded with the legacy aamc_v1_lock"),
    Mutant(
        "kill-switch-strict-compare",
        "CAP-011",
        "the kill-switch engages only once spending exceeds the threshold, not when it reaches it",
    ),
    Mutant(
        "audit-url-unfiltered",
        "CAP-012",
        "the audit trail query forgets its request_id filter and serves every call's events",
    ),
)
