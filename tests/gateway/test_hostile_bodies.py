"""Hostile bodies, keys, ids and directives (issue 15): limits on JSON, credentials that are not UTF-8, ids with a
trailing newline and directive values are refused with a 4xx envelope that echoes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.state import STATE
from reference_server.validation import MAX_JSON_DEPTH
from tests.hostile.support import SECRET, echoes, envelope_problems, raw_exchange
from tests.support.gateway import start_gateway
from tests.support.servers import ServerThread

KEY = "sk-hostile-bodies-client-key-0123"
AUTH = {"x-api-key": KEY}


def body(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": CANONICAL_MODEL,
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "hi"}],
    }
    out.update(changes)
    return out


def post_raw(gateway: ServerThread, raw: bytes, path: str = "/v1/messages", **headers: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}{path}", content=raw, headers={**AUTH, "content-type": "application/json", **headers}
    )


def assert_refused(r: httpx.Response, status: int = 400) -> None:
    assert r.status_code == status, r.text[:300]
    assert not envelope_problems(r.status_code, dict(r.headers), r.content), r.text[:300]
    assert not echoes(r.content, SECRET) and not echoes(str(r.headers), SECRET)


@pytest.fixture(scope="module")
def keyed_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = start_gateway(tmp_path_factory.mktemp("keyed"), client_keys=(KEY,))
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_json_nested_past_the_depth_limit_is_a_400(keyed_gateway: ServerThread, path: str) -> None:
    assert_refused(post_raw(keyed_gateway, b"[" * 1000 + b"]" * 1000, path))
    deep: Any = SECRET
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = {"k": deep}
    assert_refused(post_raw(keyed_gateway, json.dumps(body(metadata=deep)).encode(), path))


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_integer_past_python_digit_limit_is_a_400(keyed_gateway: ServerThread, path: str) -> None:
    raw = json.dumps(body(max_tokens=0)).replace('"max_tokens": 0', '"max_tokens": ' + "9" * 5000)
    assert_refused(post_raw(keyed_gateway, raw.encode(), path))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_number_is_not_json(keyed_gateway: ServerThread, literal: str) -> None:
    raw = json.dumps(body(temperature=0.5)).replace("0.5", literal)
    assert_refused(post_raw(keyed_gateway, raw.encode()))


def test_lone_surrogate_is_a_400(keyed_gateway: ServerThread) -> None:
    raw = json.dumps(body(messages=[{"role": "user", "content": "x"}])).replace('"x"', '"\\ud800"')
    assert_refused(post_raw(keyed_gateway, raw.encode()))


@pytest.mark.parametrize(
    "header", [b"x-api-key: \xff" + SECRET.encode(), b"authorization: Bearer \xff" + SECRET.encode()]
)
def test_non_utf8_credential_is_a_401(keyed_gateway: ServerThread, header: bytes) -> None:
    answer = raw_exchange(
        keyed_gateway.port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n"
    )
    assert answer.status == 401, answer.raw[:300]
    assert not envelope_problems(answer.status, answer.headers, answer.body)
    assert not echoes(answer.raw, SECRET)


def test_audit_id_with_trailing_newline_never_reaches_the_database(keyed_gateway: ServerThread) -> None:
    assert keyed_gateway.app is not None
    capture = keyed_gateway.app[STATE].capture
    asked: list[str] = []
    original = capture.audit_events

    async def spy(request_id: str) -> Any:
        asked.append(request_id)
        return await original(request_id)

    capture.audit_events = spy  # type: ignore[method-assign]
    try:
        r = httpx.get(f"{keyed_gateway.url}/v1/audit/req_000000000000000000000000%0A", headers=AUTH)
    finally:
        capture.audit_events = original  # type: ignore[method-assign]
    assert_refused(r)
    assert asked == []


@pytest.mark.parametrize(
    "directive",
    [f"seed={SECRET}", f"{SECRET}=1", f"finish={SECRET}", f"tool={SECRET}", f"text_tokens=1; {SECRET}"],
)
def test_directive_value_is_not_echoed(keyed_gateway: ServerThread, directive: str) -> None:
    r = post_raw(keyed_gateway, json.dumps(body()).encode(), **{"x-upstream-script": directive})
    assert_refused(r)
    assert r.json()["error"]["message"].count("x-upstream-script") == 1


def test_tool_choice_naming_an_unknown_tool_is_not_echoed(keyed_gateway: ServerThread) -> None:
    tools = [{"name": "t", "input_schema": {"type": "object"}}]
    raw = json.dumps(body(tools=tools, tool_choice={"type": "tool", "name": SECRET})).encode()
    r = post_raw(keyed_gateway, raw)
    assert 400 <= r.status_code < 500, r.text[:300]
    assert not envelope_problems(r.status_code, dict(r.headers), r.content)
    assert not echoes(r.content, SECRET)
