"""The streaming grammar of BRIEF §2, checked: Anthropic event streams and OpenAI chunk streams.

* ``contracts/sse-grammar.yaml`` is the contract (state tables, per-event schemas, value lists) and
  ``contracts/clauses/sse.yaml`` its clauses (``SSE-NNN`` for Anthropic, ``OAI-SSE-NNN`` for OpenAI);
  ``grammar`` loads and proves it (``Grammar.step`` is the one transition function), ``schemas`` compiles its
  event schemas, ``rules`` registers what only code can state under the names the file uses;
* ``framing`` reads Server-Sent Events frames incrementally, keeping the raw bytes and the framing faults;
* ``machine`` walks a stream's events through the grammar; ``AnthropicValidator`` / ``OpenAIValidator`` are it
  with each dialect's classification and content checks: they check a stream fed in arbitrary chunks and report
  each ``Violation`` with its clause, event index, excerpt and message;
* ``fold_anthropic`` / ``fold_openai`` turn a valid stream into the message it describes.
"""

from __future__ import annotations

from gateway_contracts.sse.fold import (
    FoldError,
    fold_anthropic,
    fold_anthropic_text,
    fold_openai,
    fold_openai_text,
    stream_payloads,
)
from gateway_contracts.sse.framing import Frame, FrameParser, Issue
from gateway_contracts.sse.grammar import (
    Grammar,
    GrammarError,
    clause_ids,
    grammar,
    load_clauses,
)
from gateway_contracts.sse.rules import DIALECTS, Dialect
from gateway_contracts.sse.validator import (
    AnthropicValidator,
    OpenAIValidator,
    StreamValidator,
    Validator,
    validate,
    validate_text,
    validator_for,
)
from gateway_contracts.sse.violations import Violation

__all__ = [
    "DIALECTS",
    "AnthropicValidator",
    "Dialect",
    "FoldError",
    "Frame",
    "FrameParser",
    "Grammar",
    "GrammarError",
    "Issue",
    "OpenAIValidator",
    "StreamValidator",
    "Validator",
    "Violation",
    "clause_ids",
    "fold_anthropic",
    "fold_anthropic_text",
    "fold_openai",
    "fold_openai_text",
    "grammar",
    "load_clauses",
    "stream_payloads",
    "validate",
    "validate_text",
    "validator_for",
]
