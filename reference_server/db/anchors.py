"""The five anchor "voter" backends and the literal their ``aa_index_source`` carries.

Migrations never import this module: a revision must keep meaning what it meant when it was written, so each
one spells out its own literals. This is what ``ops.seed`` inserts into a database at head.
"""

from __future__ import annotations

from dataclasses import dataclass

AA_INDEX_SOURCE = "routing_backend_v1_lock"
"""The current literal; the legacy ``aamc_v1_lock`` was rewritten by revision
``0002_rename_aa_index_source``."""


@dataclass(frozen=True)
class Anchor:
    slug: str
    display_name: str
    supports_tools: bool


ANCHORS: tuple[Anchor, ...] = (
    Anchor("anthropic", "Anthropic", supports_tools=True),
    Anchor("openai", "OpenAI", supports_tools=True),
    Anchor("mistral", "Mistral AI", supports_tools=True),
    Anchor("groq", "Groq", supports_tools=True),
    Anchor("together", "Together AI", supports_tools=True),
)
