"""Deliberately broken variants of the reference gateway, to prove the suite catches what it claims to.

Each mutant is a switch, read from ``GATEWAY_CONTRACTS_MUTANT`` at start-up, that breaks one clause. The switches
sit at the one place where the behaviour lives, so a mutant is the smallest realistic bug (a forgotten line, a
wrong constant, a serializer that slips), not a different program. Unset, the gateway is the reference.

The mutants are listed by area, one module each (``wire``, ``streams``, ``openai``, ``capture``, …), so that the
list reads like the clause files it mirrors; ``reference-gateway selftest`` runs ``check`` against every one.
"""

from __future__ import annotations

from reference_server.mutants.registry import MUTANT_ENV, MUTANTS, Mutant, active_mutant, mutated

__all__ = ["MUTANTS", "MUTANT_ENV", "Mutant", "active_mutant", "mutated"]
