"""Mutants of the JSON logs (contracts/clauses/logs.yaml)."""

from __future__ import annotations

from reference_server.mutants.base import Mutant

MUTANTS = (
    Mutant(
        "access-log-plain-handler",
        "LOG-001",
        "the access log also goes to the log file through a handler with no JSON formatter",
    ),
    Mutant("log-level-as-severity", "LOG-002", "the JSON lines name the level 'severity' instead of 'level'"),
    Mutant(
        "access-log-query-values",
        "LOG-003",
        "the access log records the query parameters' values instead of their names",
    ),
    Mutant(
        "log-prompt-preview",
        "LOG-004",
        "the dispatch log line carries a preview of the last message under a key the scrubber does not know",
    ),
    Mutant(
        "router-logger-quiet",
        "LOG-005",
        "the router's logger is set to WARNING, which drops the alias-hit events",
    ),
)
