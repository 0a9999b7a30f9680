"""The SSE grammar clauses (``SSE-*``, ``OAI-SSE-*``) over a corpus of real streams from the target.

One corpus per dialect is collected once per run — text of several lengths, tool use, text then tool, a matched
stop sequence, truncation, aliases, an upstream drop after the first byte — and checked with the strict
validator. Each clause is its own test, so a violation fails exactly the clause it breaks.
"""

from __future__ import annotations

import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.requests import ALIASES, SCRIPT, WEATHER_TOOL, chat, message
from gateway_contracts.sse import Violation, load_clauses, validate_text
from gateway_contracts.target import Target

ANTHROPIC_CLAUSES = [c.id for c in load_clauses() if c.id.startswith("SSE-")]
OPENAI_CLAUSES = [c.id for c in load_clauses() if c.id.startswith("OAI-SSE-")]
TOOL_CHOICE = {"type": "tool", "name": "get_weather"}


def _anthropic_requests(scripted: bool) -> list[tuple[dict[str, object], dict[str, str]]]:
    plain: list[tuple[dict[str, object], dict[str, str]]] = [
        (message(stream=True), {}),
        (message(stream=True, max_tokens=256, tools=[WEATHER_TOOL], tool_choice=TOOL_CHOICE), {}),
        *[(message(model=a, stream=True), {}) for a in ALIASES],
    ]
    if not scripted:
        return plain
    return [
        *plain,
        (message(stream=True), {SCRIPT: "text_tokens=40; chunk=3"}),
        (message(stream=True, max_tokens=10), {SCRIPT: "text_tokens=40"}),
        (message(stream=True, stop_sequences=["HALT"]), {SCRIPT: "text_tokens=8; stop_sequence=HALT"}),
        (
            message(stream=True, max_tokens=256, tools=[WEATHER_TOOL]),
            {SCRIPT: "text_tokens=6; text_before_tool=1; tool=get_weather"},
        ),
        (message(stream=True), {SCRIPT: "text_tokens=30; chunk=2; drop_after=4"}),
        (message(stream=True), {SCRIPT: "finish=refusal"}),
    ]


@pytest.fixture(scope="session")
def anthropic_streams(target: Target) -> list[tuple[str, list[Violation]]]:
    gw = Exchanges(target, {})
    try:
        out = []
        for body, headers in _anthropic_requests("scripted-upstream" in target.features):
            r = gw.post("/v1/messages", body, headers)
            assert r.status_code == 200, f"a streaming request failed: {r.status_code} {r.text[:200]}"
            out.append((r.text, validate_text(r.content, "anthropic", strict=True)))
        return out
    finally:
        gw.close()


@pytest.fixture(scope="session")
def openai_streams(target: Target) -> list[tuple[str, list[Violation]]]:
    gw = Exchanges(target, {})
    function = {
        "type": "function",
        "function": {"name": "get_weather", "parameters": WEATHER_TOOL["input_schema"]},
    }
    requests = [
        chat(stream=True),
        chat(stream=True, stream_options={"include_usage": True}),
        chat(
            stream=True,
            max_tokens=256,
            tools=[function],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        ),
        chat(model=ALIASES[0], stream=True, stream_options={"include_usage": True}),
    ]
    try:
        out = []
        for body in requests:
            r = gw.post("/v1/chat/completions", body)
            assert r.status_code == 200, f"a streaming request failed: {r.status_code} {r.text[:200]}"
            out.append((r.text, validate_text(r.content, "openai", strict=True)))
        return out
    finally:
        gw.close()


def _assert_clause(streams: list[tuple[str, list[Violation]]], clause_id: str) -> None:
    hits = [(text, v) for text, violations in streams for v in violations if v.clause == clause_id]
    if hits:
        text, first = hits[0]
        raise AssertionError(f"{len(hits)} violation(s); first: {first}\nstream excerpt: {text[:600]!r}")


def _per_clause(ids: list[str]) -> list[object]:
    return [pytest.param(cid, marks=pytest.mark.clause(cid), id=cid) for cid in ids]


@pytest.mark.parametrize("clause_id", _per_clause(ANTHROPIC_CLAUSES))
def test_anthropic_stream_clause(
    anthropic_streams: list[tuple[str, list[Violation]]], clause_id: str
) -> None:
    _assert_clause(anthropic_streams, clause_id)


@pytest.mark.parametrize("clause_id", _per_clause(OPENAI_CLAUSES))
def test_openai_stream_clause(openai_streams: list[tuple[str, list[Violation]]], clause_id: str) -> None:
    _assert_clause(openai_streams, clause_id)
