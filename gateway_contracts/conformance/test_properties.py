"""Property tests generated from the contract's own schemas (schemathesis strategies over ``openapi.yaml``, its
arrays bounded to a few items for generation: ``generation``).

Valid requests, whatever their shape, get 200 with a schema-valid answer (or a 4xx with the envelope for the
semantic rules a schema cannot say, such as a tool_choice naming a tool that is not offered); invalid requests get
a 4xx with the envelope. Never a 5xx. Deterministic under the CI profile; ``check --seed`` varies the examples.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from contracts import openapi_document
from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.envelopes import assert_error, assert_openai_error
from gateway_contracts.conformance.generation import cases
from gateway_contracts.conformance.requests import AINFERA
from gateway_contracts.conformance.schemas import validate, validator
from gateway_contracts.conformance.streams import assert_stream_follows_grammar
from gateway_contracts.failures import checking

BACKEND = AINFERA["backend_header"]

# Phases are spelled out here, not only in the conftest profile: a profile loaded by another plugin must not
# bring shrinking back (each shrink step is a network round trip; against a gateway that fails many examples it
# cost minutes). The first failing example is reported and reproduced by its seed.
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    report_multiple_bugs=False,
    # Here too, not only in the conftest profile: a profile loaded by another conftest (a repository's own, with an
    # example database) must not make this suite write into the user's tree or replay what it saved there.
    database=None,
)


def _body_is_invalid(component: str, body: Any) -> bool:
    """Negative cases may be invalid only in a header or the media type; these tests are about bodies."""
    if isinstance(body, bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return True
    return not validator(component).is_valid(body)


def _rejectable(gw: Exchanges, component: str, case: Any) -> bool:
    """Whether the case breaks something a gateway must reject: the body, or (where the target offers backend
    pinning) the backend pin. A malformed ``traceparent`` alone is not: W3C trace context says to ignore it and
    start a new trace."""
    backend = (case.headers or {}).get(BACKEND) if _pins_backends(gw) else None
    backends = openapi_document()["components"]["parameters"]["Backend"]["schema"]["enum"]
    return _body_is_invalid(component, case.body) or (backend is not None and backend not in backends)


def _malformed(body: Any) -> bool:
    if not isinstance(body, bytes):
        return False
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def _pins_backends(gw: Exchanges) -> bool:
    return "backend-selection" in gw.target.features


def _send(gw: Exchanges, path: str, body: Any, headers: dict[str, str]) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    passed = {"traceparent", "anthropic-version"} | ({BACKEND} if _pins_backends(gw) else set())
    sent = {k: v for k, v in headers.items() if k.lower() in passed}
    return gw.request("POST", path, content=content, headers={"content-type": "application/json", **sent})


@pytest.mark.clause("WIRE-001", "WIRE-004", "WIRE-007")
@pytest.mark.needs("surface:messages")
@EXAMPLES
@given(case=cases("/v1/messages", GenerationMode.POSITIVE), slot=st.integers(0, 3))
def test_valid_messages_requests(gw: Exchanges, case: Any, slot: int) -> None:
    body = dict(case.body)
    # The target's models are not in the schema (any other name is a tested 404): its model, or an alias.
    models = [gw.target.messages_model, *gw.target.aliases]
    body["model"] = models[slot % len(models)]
    r = _send(gw, "/v1/messages", body, dict(case.headers or {}))
    assert r.status_code < 500, f"{r.status_code} for a schema-valid request: {r.text[:300]}"
    if r.status_code != 200:
        assert_error(r, r.status_code)
    elif body.get("stream"):
        assert_stream_follows_grammar(r.content)
    else:
        validate(r.json(), "Message")


@pytest.mark.clause("WIRE-004", "WIRE-005", "WIRE-007")
@pytest.mark.needs("surface:messages")
@EXAMPLES
@given(case=cases("/v1/messages", GenerationMode.NEGATIVE))
def test_invalid_messages_requests(gw: Exchanges, case: Any) -> None:
    assume(_rejectable(gw, "MessagesRequest", case))
    # With the headers: a negative case may break only a header (an unknown x-ainfera-backend), its body valid.
    r = _send(gw, "/v1/messages", case.body, dict(case.headers or {}))
    # Malformed JSON is WIRE-005's promise, any other invalid request WIRE-007's; the envelope is WIRE-004's.
    with checking("WIRE-005" if _malformed(case.body) else "WIRE-007"):
        assert 400 <= r.status_code < 500, f"{r.status_code} for a schema-invalid request: {r.text[:300]}"
    assert_error(r, r.status_code)


@pytest.mark.clause("OAI-001", "OAI-005")
@pytest.mark.needs("surface:chat-completions")
@EXAMPLES
@given(case=cases("/v1/chat/completions", GenerationMode.POSITIVE))
def test_valid_chat_requests(gw: Exchanges, case: Any) -> None:
    body = dict(case.body)
    body["model"] = gw.target.chat_model
    r = _send(gw, "/v1/chat/completions", body, dict(case.headers or {}))
    assert r.status_code < 500, f"{r.status_code} for a schema-valid request: {r.text[:300]}"
    if r.status_code != 200:
        assert_openai_error(r)
    elif not body.get("stream"):
        validate(r.json(), "ChatCompletion")


@pytest.mark.clause("OAI-005")
@pytest.mark.needs("surface:chat-completions")
@EXAMPLES
@given(case=cases("/v1/chat/completions", GenerationMode.NEGATIVE))
def test_invalid_chat_requests(gw: Exchanges, case: Any) -> None:
    assume(_rejectable(gw, "ChatCompletionRequest", case))
    # With the headers: a negative case may break only a header (an unknown x-ainfera-backend), its body valid.
    r = _send(gw, "/v1/chat/completions", case.body, dict(case.headers or {}))
    assert 400 <= r.status_code < 500, f"{r.status_code} for a schema-invalid request: {r.text[:300]}"
    assert_openai_error(r)
