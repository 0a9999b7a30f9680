"""Mutants of the OpenAI-compatible surface (contracts/clauses/openai.yaml, OAI-*, and OAI-SSE-* in sse.yaml).

Stream mutants are faults in the chunk writer of ``/v1/chat/completions`` (``FAULTS``, see ``faults.py``): each
item fed is a ``chat.completion.chunk`` dict or the string ``"[DONE]"``.
"""

from __future__ import annotations

from typing import Any

from reference_server.mutants.faults import Emitted, FaultSet, StreamFault

FAULTS = FaultSet()


@FAULTS.register("openai-no-done", "OAI-SSE-017", "the chunk stream ends without data: [DONE]")
class _NoDone(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        return [] if item == "[DONE]" else [item]


MUTANTS = (*FAULTS.mutants,)
