"""Secret and prompt scrubbing (BRIEF §5), shared by the reference gateway's logs, ``gateway-contracts scrub``
and the evidence a report carries.

The rules are data (``contracts/scrubbing.yaml``); :func:`default_scrubber` compiles them once per process.

>>> s = default_scrubber()
>>> s.scrub_text("auth failed for sk-ant-api03-" + "x1" * 20)
'auth failed for [REDACTED:anthropic]'
>>> s.scrub_value({"api_key": "abc", "max_tokens": 64})
{'api_key': '[REDACTED:credential]', 'max_tokens': 64}
"""

from __future__ import annotations

import functools
from typing import Any

from contracts.scrub.rules import RuleSet, load_rules, normalize_key
from contracts.scrub.scrubber import Scrubber
from contracts.scrub.text import Finding

__all__ = [
    "Finding",
    "RuleSet",
    "Scrubber",
    "default_scrubber",
    "load_rules",
    "normalize_key",
    "scrub_text",
    "scrub_value",
]


@functools.cache
def default_scrubber() -> Scrubber:
    """The scrubber built from the contract's rules (compiled on first use, then shared)."""
    return Scrubber(load_rules())


def scrub_text(text: str) -> str:
    return default_scrubber().scrub_text(text)


def scrub_value(value: Any) -> Any:
    return default_scrubber().scrub_value(value)
