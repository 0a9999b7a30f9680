"""The mutant record and the switch that reads it (kept apart from the registry so area modules can import it)."""

from __future__ import annotations

import os
from dataclasses import dataclass

MUTANT_ENV = "GATEWAY_CONTRACTS_MUTANT"


@dataclass(frozen=True)
class Mutant:
    name: str
    breaks: str
    """The clause ID the mutant breaks, and by which ``check`` must catch it."""
    description: str
    fuzz_check: str | None = None
    """The ``gateway-contracts fuzz`` check that must fire on it too, where one applies."""
    fuzz_phases: str = "fuzzing"
    """The cheapest fuzz phases that reach the broken path (``examples`` sends the document's own examples)."""


# A mutant is chosen per process, at start-up (``embedded_target`` starts each mutant as its own process), so
# the switch is read once: the gateway asks ``mutated()`` a dozen times per call, and even an environment lookup
# showed in its profile.
ACTIVE: str | None = os.environ.get(MUTANT_ENV) or None


def mutated(name: str) -> bool:
    """Whether this process is the named mutant."""
    return name == ACTIVE
