"""Bad input gets a clear 4xx with Anthropic's envelope: never a 200, never a 500, no echo of a secret (BRIEF §2)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_server.models_catalog import CANONICAL_MODEL
from tests.support.gateway import CLIENT_KEY
from tests.support.servers import ServerThread

SECRET = "sk-ant-api03-SECRETSECRETSECRET-do-not-echo"
AUTH = {"x-api-key": CLIENT_KEY}


def good() -> dict[str, Any]:
    return {"model": CANONICAL_MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


def post(
    gateway: ServerThread,
    body: bytes,
    content_type: str = "application/json",
    path: str = "/v1/messages",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}{path}",
        content=body,
        headers={**AUTH, "content-type": content_type, **(headers or {})},
    )


def assert_envelope(r: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == error_type and body["error"]["message"]
    assert SECRET not in r.text
    return body


def mutate(**changes: Any) -> bytes:
    body = good()
    body.update(changes)
    return json.dumps(body).encode()


CASES: list[tuple[str, bytes, str, int, str]] = [
    ("malformed JSON", b'{"model": "ainfera-inference", ', "application/json", 400, "invalid_request_error"),
    ("not an object", b'["a"]', "application/json", 400, "invalid_request_error"),
    ("wrong content type", json.dumps(good()).encode(), "text/plain", 400, "invalid_request_error"),
    ("max_tokens is a string", mutate(max_tokens=SECRET), "application/json", 400, "invalid_request_error"),
    ("negative max_tokens", mutate(max_tokens=-5), "application/json", 400, "invalid_request_error"),
    (
        "missing max_tokens",
        json.dumps({k: v for k, v in good().items() if k != "max_tokens"}).encode(),
        "application/json",
        400,
        "invalid_request_error",
    ),
    (
        "unknown role",
        mutate(messages=[{"role": SECRET, "content": "hi"}]),
        "application/json",
        400,
        "invalid_request_error",
    ),
    ("messages not a list", mutate(messages=SECRET), "application/json", 400, "invalid_request_error"),
    ("unknown field", mutate(temperatur=0.5), "application/json", 400, "invalid_request_error"),
    ("secret as model", mutate(model=SECRET), "application/json", 404, "not_found_error"),
    ("invalid UTF-8", b'{"model": "\xff\xfe"}', "application/json", 400, "invalid_request_error"),
    ("bad directive", json.dumps(good()).encode(), "application/json", 400, "invalid_request_error"),
]


@pytest.mark.parametrize(("name", "body", "ctype", "status", "etype"), CASES, ids=[c[0] for c in CASES])
def test_bad_messages_request(
    gateway: ServerThread, name: str, body: bytes, ctype: str, status: int, etype: str
) -> None:
    """ERRORS: each malformed Messages request is the right 4xx with the envelope and echoes no secret."""
    headers = {"x-upstream-script": "bogus=1"} if name == "bad directive" else None
    body_json = assert_envelope(post(gateway, body, ctype, headers=headers), status, etype)
    if name == "max_tokens is a string":
        assert "max_tokens" in body_json["error"]["message"]


def test_body_over_limit(gateway: ServerThread) -> None:
    """ERRORS: a body over the configured limit is 413 request_too_large."""
    big = mutate(messages=[{"role": "user", "content": "x" * (1024 * 1024 + 1)}])
    assert_envelope(post(gateway, big), 413, "request_too_large")


def test_missing_credentials(gateway: ServerThread) -> None:
    """ERRORS: no x-api-key and no bearer token is 401 authentication_error."""
    r = httpx.post(f"{gateway.url}/v1/messages", json=good())
    assert_envelope(r, 401, "authentication_error")


def test_unknown_route_and_method(gateway: ServerThread) -> None:
    """ERRORS: unknown routes and methods keep the envelope too."""
    assert_envelope(httpx.get(f"{gateway.url}/v1/nothing", headers=AUTH), 404, "not_found_error")
    assert_envelope(httpx.get(f"{gateway.url}/v1/messages", headers=AUTH), 405, "invalid_request_error")


def test_bad_chat_completion(gateway: ServerThread) -> None:
    """ERRORS: the OpenAI route rejects malformed bodies with the same envelope."""
    r = post(
        gateway,
        json.dumps({"model": CANONICAL_MODEL, "messages": [{"role": "wizard", "content": SECRET}]}).encode(),
        path="/v1/chat/completions",
    )
    assert_envelope(r, 400, "invalid_request_error")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@given(
    field=st.sampled_from(
        [
            "model",
            "max_tokens",
            "messages",
            "system",
            "stop_sequences",
            "tools",
            "tool_choice",
            "stream",
            "temperature",
        ]
    ),
    value=json_values,
)
def test_any_field_value_is_never_a_500(gateway: ServerThread, field: str, value: Any) -> None:
    """ERRORS: whatever JSON value a field takes, the gateway answers 200 or a 4xx envelope, never a 5xx."""
    r = post(gateway, mutate(**{field: value}))
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["type"] == "error"
