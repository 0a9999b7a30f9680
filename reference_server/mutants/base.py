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


# ``os.environ.get`` of an unset name raises and catches a KeyError inside ``Mapping.get``, and the gateway asks
# this on every call a dozen times: read the environment's own table instead (still each time, so a change
# made through ``os.environ`` is seen at once).
_ENV_KEY = os.environ.encodekey(MUTANT_ENV)
_DECODE = os.environ.decodevalue


def mutated(name: str) -> bool:
    """Whether this run is the named mutant (read each time: one process can serve several apps in tests)."""
    raw = os.environ._data.get(_ENV_KEY)  # type: ignore[attr-defined]
    return raw is not None and _DECODE(raw) == name
