"""What a response may disclose (BRIEF §2, §8): no secret the client put in a valid call's body, and no upstream
address or credential in the response headers."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from contracts.scrub import default_scrubber
from gateway_contracts.conformance.client import Exchanges

pytestmark = pytest.mark.needs("surface:messages")


def _secret() -> str:
    return f"sk-ant-api03-{secrets.token_urlsafe(24)}"


def _echoes(r: httpx.Response, secret: str) -> str | None:
    if secret in r.text:
        return f"status {r.status_code}: the body carries it back"
    named = [name for name, value in r.headers.items() if secret in value]
    return f"status {r.status_code}: header(s) {named} carry it back" if named else None


def _tool_history(gw: Exchanges, secret: str) -> dict[str, Any]:
    call = {"type": "tool_use", "id": "toolu_gc_exposure_01", "name": "lookup", "input": {"token": secret}}
    result = {"type": "tool_result", "tool_use_id": "toolu_gc_exposure_01", "content": "done"}
    return gw.message(
        tools=[{"name": "lookup", "description": "look a thing up", "input_schema": {"type": "object"}}],
        messages=[
            {"role": "user", "content": "Look it up."},
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ],
    )


@pytest.mark.clause("LEAK-001")
@pytest.mark.parametrize("where", ["model", "metadata", "metadata-stream", "tool-input"])
def test_body_secret_never_comes_back(gw: Exchanges, where: str) -> None:
    secret = _secret()
    body = {
        "model": lambda: gw.message(model=secret),
        "metadata": lambda: gw.message(metadata={"user_id": secret}),
        "metadata-stream": lambda: gw.message(stream=True, metadata={"user_id": secret}),
        "tool-input": lambda: _tool_history(gw, secret),
    }[where]()
    echoed = _echoes(gw.post("/v1/messages", body), secret)
    assert echoed is None, f"a secret in the request's {where}: {echoed}"


@pytest.mark.clause("LEAK-002")
@pytest.mark.parametrize("stream", [False, True])
def test_headers_disclose_no_upstream(gw: Exchanges, stream: bool) -> None:
    r = gw.post("/v1/messages", gw.message(stream=stream))
    leaks: list[str] = []
    upstream = gw.target.upstream_url
    hosts = {upstream, urlsplit(upstream).netloc} if upstream else set()
    for name, value in r.headers.items():
        if gw.api_key and gw.api_key in value:
            leaks.append(f"{name} carries the client's key")
        if any(h and h in value for h in hosts):
            leaks.append(f"{name} carries the upstream's address")
        if name.lower() != "set-cookie" and default_scrubber().scrub_text(value) != value:
            leaks.append(f"{name} carries a credential-shaped value")
    assert not leaks, "; ".join(leaks)
