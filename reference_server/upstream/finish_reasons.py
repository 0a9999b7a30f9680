"""Upstream finish reasons → Anthropic stop reasons (BRIEF §2).

OpenAI-compatible backends say ``stop`` both for a natural end and for a matched stop sequence; a backend that
reports which sequence matched (vLLM's ``stop_reason``, the scripted upstream) lets us say ``stop_sequence``.
"""

from __future__ import annotations

from reference_server.mutants import mutated

ANTHROPIC_STOP_REASONS = frozenset(
    {"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"}
)

_OPENAI_TO_ANTHROPIC = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}

_ANTHROPIC_TO_OPENAI = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "stop",
}


def openai_to_anthropic(finish_reason: str | None, matched_stop: str | None) -> tuple[str, str | None]:
    """Return ``(stop_reason, stop_sequence)``; ``stop_sequence`` is set exactly when the reason is
    ``stop_sequence``."""
    if finish_reason == "stop" and matched_stop:
        return "stop_sequence", matched_stop
    if finish_reason == "length" and mutated("length-maps-to-end-turn"):
        return "end_turn", None
    return _OPENAI_TO_ANTHROPIC.get(finish_reason or "stop", "end_turn"), None


def anthropic_to_openai(stop_reason: str | None) -> str:
    return _ANTHROPIC_TO_OPENAI.get(stop_reason or "end_turn", "stop")
