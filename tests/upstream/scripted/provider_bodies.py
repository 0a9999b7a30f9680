"""What the provider-rules tests share: request bodies for each provider's route (each refused one carrying a
secret that must never come back), the tool call and result they reuse, and the check that a refusal is in the
provider's envelope."""

from __future__ import annotations

import secrets
from typing import Any

import aiohttp

from reference_server.upstream.registry import BACKENDS

SECRET = "sk-ant-api03-" + secrets.token_urlsafe(24)
"""Carried by every refused request: it must never come back."""

MESSAGES = "/v1/messages"
CHAT = "/v1/chat/completions"
ANTHROPIC_MODEL = BACKENDS["anthropic"].upstream_model
OPENAI_MODEL = BACKENDS["openai"].upstream_model


def anthropic_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": ANTHROPIC_MODEL,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hello"}],
        **extra,
    }


def openai_body(**extra: Any) -> dict[str, Any]:
    return {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "Hello"}], **extra}


BASES = {MESSAGES: anthropic_body, CHAT: openai_body}


async def post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, dict[str, Any], str]:
    async with http.post(url, json=body) as resp:
        text = await resp.text()
        return resp.status, await resp.json(content_type=None), text


def assert_refused(
    path: str, status: int, body: dict[str, Any], text: str, expected_status: int = 400
) -> None:
    """The provider's envelope for the route, and not a trace of the secret."""
    assert status == expected_status, text
    assert SECRET not in text and SECRET[:16] not in text
    if path == MESSAGES:
        assert set(body) == {"type", "error"} and body["type"] == "error"
        assert set(body["error"]) == {"type", "message"}
        kind = "not_found_error" if expected_status == 404 else "invalid_request_error"
        assert body["error"]["type"] == kind and body["error"]["message"]
    else:
        assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["type"] == "invalid_request_error" and body["error"]["message"]


TOOL = {"name": "lookup", "input_schema": {"type": "object"}}
OPENAI_TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
CALL = {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"}
OPENAI_CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
