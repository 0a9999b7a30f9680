"""Mutants of the Anthropic event stream (contracts/clauses/sse.yaml, SSE-*).

Most are faults in the frame writer of ``/v1/messages`` (``FAULTS``, see ``faults.py``); ``no-message-stop`` sits
in the call flow, where the gateway holds message_stop back until the capture commits.
"""

from __future__ import annotations

from typing import Any

from reference_server.mutants.base import Mutant
from reference_server.mutants.faults import Emitted, FaultSet, StreamFault

FAULTS = FaultSet()


@FAULTS.register("ping-without-data", "SSE-005", "a keep-alive ping frame is written with no data line")
class _PingWithoutData(StreamFault):
    def feed(self, item: Any) -> list[Emitted]:
        if item["type"] == "message_start":
            return [item, b"event: ping\n\n"]
        return [item]


MUTANTS = (
    Mutant(
        "no-message-stop",
        "SSE-019",
        "streams end after message_delta without message_stop",
        fuzz_check="sse_grammar",
        fuzz_phases="examples",
    ),
    *FAULTS.mutants,
)
