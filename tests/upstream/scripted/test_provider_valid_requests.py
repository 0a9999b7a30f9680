"""What the providers take, the scripted upstream answers: valid requests of both dialects are answered 200,
the in-process adapter holds the Anthropic adapter's requests to the same rules, and a valid body costs only the
compiled validator."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.upstream.base import UpstreamError, UpstreamRequest
from reference_server.upstream.scripted import ScriptedAdapter
from reference_server.upstream.scripted.provider_rules import (
    MAX_OUTPUT_TOKENS,
    SCRIPTED_MODEL,
    ServedModels,
    check_anthropic,
    default_served_models,
)
from tests.upstream.scripted.provider_bodies import (
    ANTHROPIC_MODEL,
    CALL,
    CHAT,
    MESSAGES,
    OPENAI_CALL,
    OPENAI_MODEL,
    OPENAI_TOOL,
    RESULT,
    TOOL,
    anthropic_body,
    openai_body,
)

VALID_ANTHROPIC = [
    anthropic_body(),
    anthropic_body(model=SCRIPTED_MODEL, stream=True),
    anthropic_body(
        system=[{"type": "text", "text": "terse", "cache_control": {"type": "ephemeral"}}],
        stop_sequences=["END"],
        temperature=1,
        top_p=0.5,
        top_k=5,
        metadata={"user_id": None},
        service_tier="auto",
        thinking={"type": "enabled", "budget_tokens": 1024},
    ),
    anthropic_body(
        tools=[TOOL],
        tool_choice={"type": "tool", "name": "lookup", "disable_parallel_tool_use": True},
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "look"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hm", "signature": "s"},
                    {"type": "text", "text": "ok"},
                    CALL,
                ],
            },
            {
                "role": "user",
                "content": [
                    {**RESULT, "content": [{"type": "text", "text": "42"}], "is_error": False},
                    {"type": "image", "source": {"type": "url", "url": "https://example.invalid/a.png"}},
                ],
            },
            {"role": "assistant", "content": ""},
        ],
    ),
    anthropic_body(max_tokens=MAX_OUTPUT_TOKENS[ANTHROPIC_MODEL]),
]

VALID_OPENAI = [
    openai_body(),
    openai_body(model=SCRIPTED_MODEL, stream=True, stream_options={"include_usage": True}),
    openai_body(
        messages=[
            {"role": "developer", "content": [{"type": "text", "text": "terse"}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                ],
            },
        ],
        max_tokens=10,
        stop="END",
        temperature=2,
        top_p=1,
        n=1,
        seed=3,
        presence_penalty=-2,
        frequency_penalty=0.5,
        user="u",
        metadata={"k": "v"},
        response_format={"type": "json_object"},
        logprobs=False,
        store=False,
    ),
    openai_body(
        tools=[OPENAI_TOOL],
        tool_choice={"type": "function", "function": {"name": "lookup"}},
        parallel_tool_calls=False,
        max_completion_tokens=MAX_OUTPUT_TOKENS[OPENAI_MODEL],
        messages=[
            {"role": "system", "content": "terse"},
            {"role": "user", "content": "look"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [OPENAI_CALL, {**OPENAI_CALL, "id": "call_2"}],
            },
            {"role": "tool", "tool_call_id": "call_2", "content": "42"},
            {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "43"}]},
            {"role": "assistant", "content": "so"},
            {"role": "user", "content": "thanks"},
        ],
    ),
]


@pytest.mark.parametrize(
    ("path", "request_body"),
    [pytest.param(MESSAGES, b, id=f"anthropic-{i}") for i, b in enumerate(VALID_ANTHROPIC)]
    + [pytest.param(CHAT, b, id=f"openai-{i}") for i, b in enumerate(VALID_OPENAI)],
)
async def test_valid_requests_are_answered(
    upstream: str, http: aiohttp.ClientSession, path: str, request_body: dict[str, Any]
) -> None:
    async with http.post(upstream + path, json=request_body) as resp:
        assert resp.status == 200, await resp.text()
        await resp.read()


async def test_the_in_process_adapter_applies_the_same_rules() -> None:
    """``ScriptedAdapter`` holds what the Anthropic adapter would send to Anthropic's rules (all but the model:
    in-process, the request carries the gateway's own model name)."""
    adapter = ScriptedAdapter()
    good = UpstreamRequest(model=CANONICAL_MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    assert (await adapter.chat(good)).content
    bad = UpstreamRequest(
        model=CANONICAL_MODEL,
        max_tokens=16,
        messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}],
    )
    with pytest.raises(UpstreamError) as caught:
        await adapter.chat(bad)
    assert (caught.value.status, caught.value.error_type) == (400, "invalid_request_error")
    with pytest.raises(UpstreamError):
        async for _ in adapter.stream_chat(bad):
            pass


def test_rules_are_cheap() -> None:
    """A valid body costs the compiled validator only (well under a millisecond)."""
    served = ServedModels(default_served_models())
    body = VALID_ANTHROPIC[3]
    started = time.perf_counter()
    for _ in range(200):
        check_anthropic(body, served)
    assert (time.perf_counter() - started) / 200 < 0.002
