"""Every mutant, gathered from the area modules; a name or a clause listed twice is an error at import."""

from __future__ import annotations

from reference_server.mutants import base, capture, discovery, logs, metrics, openai, streams, trace, wire
from reference_server.mutants.base import MUTANT_ENV, Mutant, mutated

AREAS = (wire, streams, openai, discovery, capture, metrics, logs, trace)


def _gather() -> dict[str, Mutant]:
    out: dict[str, Mutant] = {}
    for area in AREAS:
        for mutant in area.MUTANTS:
            if mutant.name in out:
                raise ValueError(f"mutant {mutant.name!r} is defined twice")
            out[mutant.name] = mutant
    return out


MUTANTS: dict[str, Mutant] = _gather()


def active_mutant() -> str | None:
    name = base.ACTIVE
    if name is not None and name not in MUTANTS:
        raise ValueError(f"unknown mutant {name!r} in {MUTANT_ENV}; known: {', '.join(sorted(MUTANTS))}")
    return name


__all__ = ["MUTANTS", "MUTANT_ENV", "Mutant", "active_mutant", "mutated"]
