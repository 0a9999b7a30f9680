"""Mutants of the Anthropic Messages wire (contracts/clauses/wire.yaml): status codes, envelopes, tools, headers."""

from __future__ import annotations

from reference_server.mutants.base import Mutant

MUTANTS = (
    Mutant("malformed-json-500", "WIRE-005", "malformed JSON escapes as an unhandled error (500)"),
    Mutant(
        "flat-error-envelope",
        "WIRE-004",
        'error bodies lose their top-level "type": "error"',
        fuzz_check="anthropic_error_envelope",
    ),
    Mutant(
        "error-echoes-value",
        "WIRE-009",
        "validation errors quote the offending value back",
        fuzz_check="no_secret_echo",
    ),
)
