"""Client authentication (BRIEF §8): where the target enforces client keys, a call without one, or with a key it
did not issue, is a 401 with an authentication_error envelope on every surface it serves."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.envelopes import assert_error, assert_openai_error

pytestmark = pytest.mark.needs("auth-enforced")

SURFACES = [
    pytest.param("/v1/messages", marks=pytest.mark.needs("surface:messages"), id="messages"),
    pytest.param("/v1/chat/completions", marks=pytest.mark.needs("surface:chat-completions"), id="chat"),
]


def _body(gw: Exchanges, path: str) -> dict[str, Any]:
    return gw.chat() if "chat" in path else gw.message()


def _assert_401(r: Any, path: str) -> None:
    assert r.status_code == 401, f"{path}: status {r.status_code}, want 401: {r.text[:200]}"
    if "chat" in path:
        body = assert_openai_error(r)
        kind = body["error"]["type"]
        assert kind in ("authentication_error", "invalid_request_error", "invalid_api_key"), kind
    else:
        assert_error(r, 401, "authentication_error")


@pytest.mark.clause("AUTH-001")
@pytest.mark.parametrize("path", SURFACES)
def test_missing_key_is_401(gw: Exchanges, path: str) -> None:
    r = gw.request("POST", path, json_body=_body(gw, path), auth=False)
    _assert_401(r, path)


@pytest.mark.clause("AUTH-002")
@pytest.mark.parametrize("path", SURFACES)
def test_wrong_key_is_401(gw: Exchanges, path: str) -> None:
    wrong = f"sk-ant-api03-{secrets.token_urlsafe(24)}"
    r = gw.request("POST", path, json_body=_body(gw, path), key=wrong)
    _assert_401(r, path)
    assert wrong not in r.text and all(wrong not in v for v in r.headers.values()), "the wrong key came back"
