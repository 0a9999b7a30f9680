"""Stream faults: mutants that live in the code writing a stream's frames.

A stream route hands each item it is about to write (an Anthropic event, an OpenAI chunk, the ``[DONE]`` marker)
to the active fault, if any, and writes what comes back instead: items are framed as usual, ``bytes`` go out
verbatim (for faults below the JSON level: a frame with no data, a line that is not JSON). ``end()`` runs after
the last item, for faults that add or hold back something at the end. With no mutant active ``FAULTS.active()``
returns None (one comparison per stream) and the route takes its fast path, which never calls into this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_server.mutants import base
from reference_server.mutants.base import Mutant

Emitted = Any
"""What a fault returns for the route to write: an item to frame as usual, or ``bytes`` to write verbatim."""


class StreamFault:
    """Passes everything through; a mutant overrides what it breaks. One instance per stream (it may keep state)."""

    def feed(self, item: Any) -> list[Emitted]:
        return [item]

    def end(self) -> list[Emitted]:
        return []


class FaultSet:
    """The faults of one dialect, each registered with the mutant it is."""

    def __init__(self) -> None:
        self.factories: dict[str, Callable[[], StreamFault]] = {}
        self.mutants: list[Mutant] = []

    def register(
        self, name: str, breaks: str, description: str, **extra: Any
    ) -> Callable[[type[StreamFault]], type[StreamFault]]:
        def add(cls: type[StreamFault]) -> type[StreamFault]:
            self.factories[name] = cls
            self.mutants.append(Mutant(name, breaks, description, **extra))
            return cls

        return add

    def active(self) -> StreamFault | None:
        factory = self.factories.get(base.ACTIVE) if base.ACTIVE else None
        return factory() if factory is not None else None
