"""Mutants of model naming and the discovery surfaces (contracts/clauses/discovery.yaml)."""

from __future__ import annotations

from reference_server.mutants.base import Mutant

MUTANTS = (
    Mutant(
        "agent-card-upstream-model",
        "DISC-001",
        "the agent card's default_model is the anthropic backend's model id, not the canonical model",
    ),
    Mutant(
        "openapi-stale-description",
        "DISC-003",
        "the served OpenAPI document still says the model was formerly ainfera-mithril",
    ),
    Mutant("alias-leak", "ALIAS-002", "the response reports the model string the client asked for"),
    Mutant("dead-string-llms", "DISC-002", "llms.txt still mentions the legacy ainfera-mithril"),
    Mutant("unknown-model-fallback", "ALIAS-003", "an unknown model silently falls back to the canonical"),
    Mutant(
        "aliases-unknown",
        "ALIAS-001",
        "the legacy aliases are forgotten: they get 404 unknown model",
        fuzz_check="valid_data_accepted",
    ),
)
