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
    Mutant(
        "metrics-text-as-openmetrics",
        "MET-002",
        "the exposition is text format 0.0.4 (no # EOF) served as application/openmetrics-text",
    ),
    Mutant(
        "metrics-threshold-only-when-set",
        "MET-003",
        "the kill-switch threshold gauge is left out when no threshold is configured",
    ),
    Mutant(
        "metrics-agent-label", "MET-004", "ainfera_http_requests carries the caller's agent id as a label"
    ),
    Mutant(
        "metrics-raw-path", "MET-005", "an unmatched request is labelled with its raw path instead of folding"
    ),
    Mutant(
        "metrics-reset-on-scrape", "MET-006", "the call counters are cleared after every scrape (delta flush)"
    ),
    Mutant(
        "metrics-count-ok-only",
        "MET-007",
        "ainfera_provider_calls counts only ok calls, though every outcome writes a row",
    ),
    Mutant(
        "alias-hit-counted-twice",
        "MET-008",
        "an alias hit is counted at the router and again when the call is captured",
    ),
    Mutant(
        "dropped-stream-counted-uncaptured",
        "MET-009",
        "a stream the upstream dropped is counted as a dispatch without capture, though it was captured",
    ),
    Mutant(
        "metrics-client-label",
        "MET-010",
        "ainfera_http_requests carries a `client` label set from the caller's x-request-id: a new series per call",
    ),
    Mutant(
        "metrics-redirect",
        "MET-011",
        "the metrics endpoint moved to /metrics/ behind a permanent redirect (Prometheus does not follow it)",
    ),
)
