"""Wire profile: POST /v1/messages, the stream, errors, tools and headers (BRIEF §2)."""

from __future__ import annotations

import json
import secrets
from typing import Any

import jsonschema
import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.envelopes import assert_error
from gateway_contracts.conformance.requests import AINFERA, SCRIPT, WEATHER_TOOL
from gateway_contracts.conformance.schemas import validate
from gateway_contracts.conformance.streams import assert_stream_follows_grammar, fold_anthropic, sse_events
from gateway_contracts.failures import ClauseFailure
from gateway_contracts.sse import validate_text
from gateway_contracts.target import Target

pytestmark = pytest.mark.needs("surface:messages")
BACKEND = AINFERA["backend_header"]
NO_TOOLS_BACKEND = AINFERA["no_tools_backend"]
OPENAI_DIALECT_BACKEND = AINFERA["openai_dialect_backend"]


@pytest.mark.clause("WIRE-001")
def test_non_streaming_message(gw: Exchanges) -> None:
    r = gw.post("/v1/messages", gw.message())
    assert r.status_code == 200, r.text[:300]
    validate(r.json(), "Message")


@pytest.mark.clause("WIRE-002")
def test_stream_content_type_and_grammar(gw: Exchanges) -> None:
    r = gw.post("/v1/messages", gw.message(stream=True))
    assert r.status_code == 200, r.text[:300]
    assert r.headers.get("content-type", "").startswith("text/event-stream")
    assert_stream_follows_grammar(r.content)


@pytest.mark.clause("WIRE-002")
def test_stream_with_tool_follows_grammar(gw: Exchanges) -> None:
    body = gw.message(
        stream=True, max_tokens=256, tools=[WEATHER_TOOL], tool_choice={"type": "tool", "name": "get_weather"}
    )
    r = gw.post("/v1/messages", body)
    assert r.status_code == 200, r.text[:300]
    assert_stream_follows_grammar(r.content)


@pytest.mark.clause("WIRE-003")
@pytest.mark.needs("scripted-upstream")
@pytest.mark.parametrize(
    "directive",
    [
        "text_tokens=25; chunk=4",
        "text_tokens=40; chunk=3",  # truncated at max_tokens below
        "text_tokens=12; stop_sequence=HALT",
        "text_tokens=5; text_before_tool=1; tool=get_weather",
    ],
)
def test_stream_folds_to_message(gw: Exchanges, directive: str) -> None:
    body = gw.message(max_tokens=30, tools=[WEATHER_TOOL], stop_sequences=["HALT"])
    headers = {SCRIPT: directive}
    whole = gw.post("/v1/messages", body, headers)
    streamed = gw.post("/v1/messages", {**body, "stream": True}, headers)
    assert whole.status_code == streamed.status_code == 200
    folded = fold_anthropic(streamed.text)
    expected = whole.json()
    # The same upstream behaviour must give the same message; ids are per call.
    for m in (folded, expected):
        m.pop("id", None)
    assert folded == expected


@pytest.mark.clause("WIRE-007", "WIRE-004")
@pytest.mark.parametrize(
    "change",
    [
        {"max_tokens": "many"},
        {"max_tokens": -1},
        {"messages": [{"role": "wizard", "content": "hi"}]},
        {"messages": "hello"},
        {"stream": "yes"},
    ],
    ids=["max_tokens-type", "negative-max_tokens", "unknown-role", "messages-type", "stream-type"],
)
def test_schema_invalid_is_400(gw: Exchanges, change: dict[str, Any]) -> None:
    assert_error(gw.post("/v1/messages", {**gw.message(), **change}), 400, "invalid_request_error")


@pytest.mark.clause("WIRE-007")
def test_missing_max_tokens_is_400(gw: Exchanges) -> None:
    body = gw.message()
    del body["max_tokens"]
    assert_error(gw.post("/v1/messages", body), 400, "invalid_request_error")


@pytest.mark.clause("WIRE-005", "WIRE-004")
@pytest.mark.parametrize("raw", [b'{"model": "m",', b"not json at all", b'{"a": 1}}', b"\xff\xfe"])
def test_malformed_json_is_400(gw: Exchanges, raw: bytes) -> None:
    r = gw.request("POST", "/v1/messages", content=raw, headers={"content-type": "application/json"})
    assert_error(r, 400, "invalid_request_error")


@pytest.mark.clause("WIRE-006")
def test_wrong_content_type_is_4xx(gw: Exchanges) -> None:
    r = gw.request(
        "POST",
        "/v1/messages",
        content=json.dumps(gw.message()).encode(),
        headers={"content-type": "text/plain"},
    )
    assert 400 <= r.status_code < 500, f"status {r.status_code}"
    assert_error(r, r.status_code)


@pytest.mark.clause("WIRE-008", "WIRE-004")
def test_body_over_limit_is_413(gw: Exchanges, target: Target) -> None:
    filler = "x" * (target.body_limit + 1)
    assert_error(
        gw.post("/v1/messages", gw.message(messages=[{"role": "user", "content": filler}])),
        413,
        "request_too_large",
    )


@pytest.mark.clause("WIRE-009")
def test_error_bodies_echo_no_secret(gw: Exchanges) -> None:
    secret = f"sk-ant-api03-{secrets.token_urlsafe(24)}"
    # With the valid key, so the body reaches validation: a refused value must not be quoted back.
    attempts = [
        gw.post("/v1/messages", {**gw.message(), "max_tokens": secret}),
        gw.post("/v1/messages", {**gw.message(), "model": secret}),
        gw.post("/v1/messages", {**gw.message(), "messages": [{"role": secret, "content": secret}]}),
        gw.post("/v1/messages", {**gw.message(), secret: secret}),
        gw.request(
            "POST",
            "/v1/messages",
            content=f'{{"model": "{secret}"'.encode(),
            headers={"content-type": "application/json"},
        ),
        # And a credential the gateway may refuse: its refusal must not quote it either.
        gw.request("POST", "/v1/messages", json_body=gw.message(), key=secret),
    ]
    for r in attempts:
        assert secret not in r.text, f"status {r.status_code} body echoes the secret"
        assert all(secret not in v for v in r.headers.values()), f"status {r.status_code}: a header echoes it"


@pytest.mark.clause("WIRE-010")
@pytest.mark.parametrize("stream", [False, True])
def test_forced_tool_use(gw: Exchanges, stream: bool) -> None:
    body = gw.message(
        stream=stream,
        max_tokens=256,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "tool", "name": "get_weather"},
    )
    r = gw.post("/v1/messages", body)
    assert r.status_code == 200, r.text[:300]
    msg = fold_anthropic(r.text) if stream else r.json()
    tools = [b for b in msg["content"] if b["type"] == "tool_use"]
    assert tools and tools[0]["name"] == "get_weather", f"no tool_use block for get_weather: {msg['content']}"
    jsonschema.validate(tools[0]["input"], WEATHER_TOOL["input_schema"])
    assert msg["stop_reason"] == "tool_use"


@pytest.mark.clause("WIRE-011", "WIRE-004")
@pytest.mark.needs("backend-selection")
@pytest.mark.parametrize("stream", [False, True])
def test_tools_on_backend_without_tools_is_422(gw: Exchanges, stream: bool) -> None:
    body = gw.message(stream=stream, tools=[WEATHER_TOOL])
    body_json = assert_error(gw.post("/v1/messages", body, {BACKEND: NO_TOOLS_BACKEND}), 422)
    error = body_json["error"]
    assert error.get("code") == "tools_not_supported_by_backend", error
    assert error.get("backend") == NO_TOOLS_BACKEND and error.get("hint"), error


@pytest.mark.clause("WIRE-012")
@pytest.mark.needs("scripted-upstream", "backend-selection")
@pytest.mark.parametrize(
    ("directive", "extra", "stop_reason", "stop_sequence"),
    [
        ("text_tokens=6", {}, "end_turn", None),
        ("text_tokens=6; stop_sequence=HALT", {"stop_sequences": ["HALT"]}, "stop_sequence", "HALT"),
        ("text_tokens=50", {}, "max_tokens", None),
        ("tool=get_weather", {"tools": [WEATHER_TOOL]}, "tool_use", None),
        ("finish=refusal", {}, "refusal", None),
    ],
    ids=["stop", "stop-sequence", "length", "tool_calls", "content_filter"],
)
@pytest.mark.parametrize("stream", [False, True])
def test_finish_reason_mapping(
    gw: Exchanges,
    directive: str,
    extra: dict[str, Any],
    stop_reason: str,
    stop_sequence: str | None,
    stream: bool,
) -> None:
    # The openai backend speaks the OpenAI dialect upstream: this checks the finish_reason translation.
    r = gw.post(
        "/v1/messages",
        gw.message(max_tokens=20, stream=stream, **extra),
        {SCRIPT: directive, BACKEND: OPENAI_DIALECT_BACKEND},
    )
    assert r.status_code == 200, r.text[:300]
    msg = fold_anthropic(r.text) if stream else r.json()
    assert (msg["stop_reason"], msg["stop_sequence"]) == (stop_reason, stop_sequence)


@pytest.mark.clause("WIRE-013")
@pytest.mark.needs("request-id")
@pytest.mark.parametrize("stream", [False, True])
def test_call_headers(gw: Exchanges, stream: bool) -> None:
    r = gw.post("/v1/messages", gw.message(stream=stream))
    assert r.status_code == 200
    wanted = (
        gw.target.request_id_header,
        AINFERA["stream_mode_header"],
        AINFERA["agent_id_header"],
        AINFERA["audit_url_header"],
    )
    missing = [h for h in wanted if not r.headers.get(h)]
    assert not missing, f"missing headers: {missing}"
    assert gw.request_id(r) in r.headers[AINFERA["audit_url_header"]]


@pytest.mark.clause("WIRE-014")
def test_streams_are_native(gw: Exchanges) -> None:
    r = gw.post("/v1/messages", gw.message(stream=True))
    assert r.headers.get(AINFERA["stream_mode_header"]) == "native"


@pytest.mark.clause("WIRE-015")
def test_sdk_style_requests_accepted(gw: Exchanges) -> None:
    # What the official SDK sends: its version header; Accept: application/json even on a stream; the key as
    # x-api-key (1.x) or as a Bearer token (2.x). A gateway keyed by a header of its own is sent only that.
    version = {"anthropic-version": "2023-06-01"}
    styles = ["x-api-key", "bearer"] if gw.target.auth in ("x-api-key", "bearer") else [gw.target.auth]
    variants = [{**gw.target.auth_headers(), **version}]
    variants += [{**_credential(style, gw.api_key), **version} for style in styles]
    variants.append({**gw.target.auth_headers(), "accept": "application/json", **version})
    for headers in variants:
        body = gw.message(stream=headers.get("accept") == "application/json")
        r = gw.request("POST", "/v1/messages", json_body=body, headers=headers, auth=False)
        assert r.status_code == 200, f"{sorted(headers)}: status {r.status_code} {r.text[:200]}"


def _credential(style: str, key: str) -> dict[str, str]:
    from gateway_contracts.target.model import credential_header

    return credential_header(style, key)


@pytest.mark.clause("WIRE-016", "WIRE-004")
@pytest.mark.needs("scripted-upstream")
@pytest.mark.parametrize(
    ("code", "error_type"), [(429, "rate_limit_error"), (500, "api_error"), (529, "overloaded_error")]
)
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_error_before_first_byte(gw: Exchanges, code: int, error_type: str, stream: bool) -> None:
    assert_error(
        gw.post("/v1/messages", gw.message(stream=stream), {SCRIPT: f"error={code}"}), code, error_type
    )


@pytest.mark.clause("WIRE-016")
@pytest.mark.needs("scripted-upstream")
def test_upstream_drop_after_first_byte(gw: Exchanges) -> None:
    r = gw.post("/v1/messages", gw.message(stream=True), {SCRIPT: "text_tokens=30; chunk=3; drop_after=2"})
    assert r.status_code == 200
    # Any grammar fault but the missing end is its SSE clause's; the missing error event is this clause's.
    others = [v for v in validate_text(r.content, "anthropic", strict=False) if v.clause != "SSE-019"]
    if others:
        raise ClauseFailure(others[0].clause, str(others[0]))
    events = sse_events(r.text)
    assert events and events[-1]["type"] == "error", (
        f"stream did not end with an error event: {[e['type'] for e in events]}"
    )
    assert sum(e["type"] == "error" for e in events) == 1
    assert not any(e["type"] == "message_stop" for e in events)
