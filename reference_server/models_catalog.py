"""The model catalogue and the silent aliases (BRIEF §1).

Aliases are resolved here, at the router boundary, and nowhere else: everything past ``resolve_model`` sees only
the canonical string, which is why no legacy string can leak into a response, the audit payload or a discovery
surface.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference_server.mutants import mutated

CANONICAL_MODEL = "ainfera-inference"
LEGACY_ALIASES: frozenset[str] = frozenset({"ainfera-mithril", "ainfera-auto", "ainfera/auto"})
DEAD_STRINGS: tuple[str, ...] = ("mithril", "aamc", "ainfera-auto", "ainfera/auto")
"""Strings that must never appear on a discovery surface or in a response."""


@dataclass(frozen=True)
class ResolvedModel:
    requested: str
    canonical: str
    alias: str | None
    """The legacy alias that was hit, if any (for the alias log event and counter)."""


class UnknownModel(LookupError):
    pass


def resolve_model(requested: str) -> ResolvedModel:
    if requested == CANONICAL_MODEL:
        return ResolvedModel(requested, CANONICAL_MODEL, None)
    if requested in LEGACY_ALIASES and not mutated("aliases-unknown"):
        return ResolvedModel(requested, CANONICAL_MODEL, requested)
    raise UnknownModel(requested)
