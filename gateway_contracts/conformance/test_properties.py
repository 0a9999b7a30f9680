"""Property tests generated from the contract's own schemas (schemathesis strategies over ``openapi.yaml``, its
arrays bounded to a few items for generation: ``generation``).

Valid requests, whatever their shape, get 200 with a schema-valid answer (or a 4xx with the envelope for the
semantic rules a schema cannot say, such as a tool_choice naming a tool that is not offered); invalid requests get
a 4xx with the envelope. Never a 5xx. Each test sends its 30 examples in order and stops at the first the gateway
gets wrong (the examples are drawn ahead, in a process of their own: ``examples``). Deterministic: ``check
--seed`` (default 0) chooses the examples, and the same seed draws the same ones again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.envelopes import assert_error, assert_openai_error
from gateway_contracts.conformance.examples import BACKEND, Example, pins_backends
from gateway_contracts.conformance.schemas import validate
from gateway_contracts.conformance.streams import assert_stream_follows_grammar
from gateway_contracts.failures import checking


def _malformed(body: Any) -> bool:
    if not isinstance(body, bytes):
        return False
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def _each(gw: Exchanges, examples: list[Example]) -> Iterator[Example]:
    """The examples in order, each named in the test's evidence while it is sent (a failure says which)."""
    for n, case in enumerate(examples, 1):
        gw.evidence["example"] = f"{n} of {len(examples)} drawn from the run's seed"
        yield case


def _send(gw: Exchanges, path: str, body: Any, headers: dict[str, str]) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    passed = {"traceparent", "anthropic-version"} | ({BACKEND} if pins_backends(gw.target) else set())
    sent = {k: v for k, v in headers.items() if k.lower() in passed}
    return gw.request("POST", path, content=content, headers={"content-type": "application/json", **sent})


@pytest.mark.clause("WIRE-001", "WIRE-004", "WIRE-007")
@pytest.mark.needs("surface:messages")
def test_valid_messages_requests(gw: Exchanges, examples: list[Example]) -> None:
    for case in _each(gw, examples):
        body = dict(case.body)
        # The target's models are not in the schema (any other name is a tested 404): its model, or an alias.
        models = [gw.target.messages_model, *gw.target.aliases]
        body["model"] = models[case.slot % len(models)]
        r = _send(gw, "/v1/messages", body, case.headers)
        assert r.status_code < 500, f"{r.status_code} for a schema-valid request: {r.text[:300]}"
        if r.status_code != 200:
            assert_error(r, r.status_code)
        elif body.get("stream"):
            assert_stream_follows_grammar(r.content)
        else:
            validate(r.json(), "Message")


@pytest.mark.clause("WIRE-004", "WIRE-005", "WIRE-007")
@pytest.mark.needs("surface:messages")
def test_invalid_messages_requests(gw: Exchanges, examples: list[Example]) -> None:
    for case in _each(gw, examples):
        # With the headers: a negative case may break only a header (an unknown x-ainfera-backend), its body valid.
        r = _send(gw, "/v1/messages", case.body, case.headers)
        # Malformed JSON is WIRE-005's promise, any other invalid request WIRE-007's; the envelope is WIRE-004's.
        with checking("WIRE-005" if _malformed(case.body) else "WIRE-007"):
            assert 400 <= r.status_code < 500, f"{r.status_code} for a schema-invalid request: {r.text[:300]}"
        assert_error(r, r.status_code)


@pytest.mark.clause("OAI-001", "OAI-005")
@pytest.mark.needs("surface:chat-completions")
def test_valid_chat_requests(gw: Exchanges, examples: list[Example]) -> None:
    for case in _each(gw, examples):
        body = dict(case.body)
        body["model"] = gw.target.chat_model
        r = _send(gw, "/v1/chat/completions", body, case.headers)
        assert r.status_code < 500, f"{r.status_code} for a schema-valid request: {r.text[:300]}"
        if r.status_code != 200:
            assert_openai_error(r)
        elif not body.get("stream"):
            validate(r.json(), "ChatCompletion")


@pytest.mark.clause("OAI-005")
@pytest.mark.needs("surface:chat-completions")
def test_invalid_chat_requests(gw: Exchanges, examples: list[Example]) -> None:
    for case in _each(gw, examples):
        # With the headers: a negative case may break only a header (an unknown x-ainfera-backend), its body valid.
        r = _send(gw, "/v1/chat/completions", case.body, case.headers)
        assert 400 <= r.status_code < 500, f"{r.status_code} for a schema-invalid request: {r.text[:300]}"
        assert_openai_error(r)
