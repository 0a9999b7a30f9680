"""Mutants of the JSON logs (contracts/clauses/logs.yaml)."""

from __future__ import annotations

from reference_server.mutants.base import Mutant

MUTANTS: tuple[Mutant, ...] = ()
