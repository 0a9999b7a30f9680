"""The SSE grammar clauses (``SSE-*``, ``OAI-SSE-*``) over a corpus of real streams from the target.

One corpus per dialect is collected once per run — text of several lengths, tool use, text then tool, a matched
stop sequence, truncation, aliases, an upstream drop after the first byte — and checked with the strict
validator. Each clause is its own test, so a violation fails exactly the clause it breaks, and its evidence is
the exchange (request, stream transcript, curl) of the first stream that broke it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.requests import SCRIPT, WEATHER_TOOL
from gateway_contracts.failures import Blocked
from gateway_contracts.sse import Violation, load_clauses, validate_text
from gateway_contracts.target import Target

ANTHROPIC_CLAUSES = [c.id for c in load_clauses() if c.id.startswith("SSE-")]
OPENAI_CLAUSES = [c.id for c in load_clauses() if c.id.startswith("OAI-SSE-")]
TOOL_CHOICE = {"type": "tool", "name": "get_weather"}


@dataclass(frozen=True)
class Stream:
    text: str
    violations: list[Violation]
    exchange: dict[str, Any]
    """The recorded exchange, as ``Exchanges`` keeps it for the report."""


def _collect(
    gw: Exchanges,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    dialect: Literal["anthropic", "openai"],
) -> Stream | None:
    gw.evidence = {}  # one exchange per stream: a failing clause shows the stream that broke it
    r = gw.post(path, body, headers)
    if r.status_code != 200:
        return None  # a refused call is no stream: its status is other clauses' business, not the grammar's
    return Stream(r.text, validate_text(r.content, dialect, strict=True), gw.evidence["exchanges"][-1])


def _anthropic_requests(gw: Exchanges, scripted: bool) -> list[tuple[dict[str, object], dict[str, str]]]:
    message = gw.message
    plain: list[tuple[dict[str, object], dict[str, str]]] = [
        (message(stream=True), {}),
        (message(stream=True, max_tokens=256, tools=[WEATHER_TOOL], tool_choice=TOOL_CHOICE), {}),
        *[(message(model=a, stream=True), {}) for a in gw.target.aliases],
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
def anthropic_streams(target: Target) -> list[Stream]:
    gw = Exchanges(target, {})
    try:
        return _answered(
            _collect(gw, "/v1/messages", body, headers, "anthropic")
            for body, headers in _anthropic_requests(gw, "scripted-upstream" in target.features)
        )
    finally:
        gw.close()


@pytest.fixture(scope="session")
def openai_streams(target: Target) -> list[Stream]:
    gw = Exchanges(target, {})
    chat = gw.chat
    function = {
        "type": "function",
        "function": {"name": "get_weather", "parameters": WEATHER_TOOL["input_schema"]},
    }
    usage = {"include_usage": True}
    requests: list[tuple[dict[str, object], dict[str, str]]] = [
        (chat(stream=True), {}),
        (chat(stream=True, stream_options=usage), {}),
        (
            chat(
                stream=True,
                max_tokens=256,
                tools=[function],
                tool_choice={"type": "function", "function": {"name": "get_weather"}},
            ),
            {},
        ),
        *[(chat(model=a, stream=True, stream_options=usage), {}) for a in target.aliases[:1]],
    ]
    if "scripted-upstream" in target.features:
        requests += [
            (chat(stream=True, max_tokens=10, stream_options=usage), {SCRIPT: "text_tokens=40"}),
            (
                chat(stream=True, max_tokens=256, tools=[function], stream_options=usage),
                {SCRIPT: "text_tokens=6; text_before_tool=1; tool=get_weather"},
            ),
            # An upstream drop after the first byte: the stream carries an error payload, then ends.
            (chat(stream=True, stream_options=usage), {SCRIPT: "text_tokens=30; chunk=2; drop_after=4"}),
        ]
    try:
        return _answered(
            _collect(gw, "/v1/chat/completions", body, headers, "openai") for body, headers in requests
        )
    finally:
        gw.close()


def _answered(streams: Iterable[Stream | None]) -> list[Stream]:
    """The streams the target answered; with none at all there is nothing to judge, and that is WIRE-002's."""
    got = [s for s in streams if s is not None]
    if not got:
        raise Blocked("WIRE-002", "no streaming request of the corpus was answered with a stream")
    return got


def _assert_clause(streams: list[Stream], clause_id: str, evidence: dict[str, Any]) -> None:
    hits = [(stream, v) for stream in streams for v in stream.violations if v.clause == clause_id]
    if hits:
        stream, first = hits[0]
        evidence["exchanges"] = [stream.exchange]
        raise AssertionError(
            f"{len(hits)} violation(s); first: {first}\nstream excerpt: {stream.text[:600]!r}"
        )


def _per_clause(ids: list[str]) -> list[object]:
    return [pytest.param(cid, marks=pytest.mark.clause(cid), id=cid) for cid in ids]


@pytest.mark.needs("surface:messages")
@pytest.mark.parametrize("clause_id", _per_clause(ANTHROPIC_CLAUSES))
def test_anthropic_stream_clause(
    anthropic_streams: list[Stream], clause_id: str, evidence: dict[str, Any]
) -> None:
    _assert_clause(anthropic_streams, clause_id, evidence)


@pytest.mark.needs("surface:chat-completions")
@pytest.mark.parametrize("clause_id", _per_clause(OPENAI_CLAUSES))
def test_openai_stream_clause(openai_streams: list[Stream], clause_id: str, evidence: dict[str, Any]) -> None:
    _assert_clause(openai_streams, clause_id, evidence)
