"""The provider rules no schema can say (``provider_rules``): a model's ``max_tokens`` ceiling, empty content,
tool calls paired with their results, ``stream_options`` without ``stream``; and the check functions raise
rather than return."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from reference_server.upstream.scripted.provider_rules import (
    MAX_OUTPUT_TOKENS,
    ProviderRefusal,
    ServedModels,
    check_anthropic,
    check_openai,
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
    assert_refused,
    openai_body,
    post,
)

SEMANTIC_CASES = [
    pytest.param(
        MESSAGES,
        anthropic_body(max_tokens=MAX_OUTPUT_TOKENS[ANTHROPIC_MODEL] + 1),
        "max_tokens:",
        id="a-ceiling",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(messages=[{"role": "user", "content": ""}]),
        "messages.0: all messages must have non-empty content",
        id="a-empty-content",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]),
        # The contract's text block has minLength 1 now (Anthropic's rule), so the schema says it first.
        "messages.0.content.0.text: String should have at least 1 character(s)",
        id="a-empty-text-block",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(tools=[TOOL], messages=[{"role": "user", "content": [RESULT]}]),
        "messages.0.content: unexpected `tool_use_id`",
        id="a-result-without-call",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(
            tools=[TOOL],
            messages=[
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [CALL]},
                {"role": "user", "content": "and?"},
            ],
        ),
        "messages.1: `tool_use` ids were found without `tool_result` blocks",
        id="a-call-without-result",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(messages=[]),
        "messages: List should have at least 1 item(s)",
        id="a-no-messages",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(tools=[{"name": "bad name!", "input_schema": {"type": "object"}}]),
        "tools.0.name: String should match pattern",
        id="a-tool-name",
    ),
    pytest.param(
        MESSAGES,
        anthropic_body(tool_choice={"type": "sometimes"}),
        "tool_choice.type: Input should be",
        id="a-tool-choice",
    ),
    pytest.param(
        CHAT,
        openai_body(max_completion_tokens=MAX_OUTPUT_TOKENS[OPENAI_MODEL] + 1),
        "max_completion_tokens",
        id="o-ceiling",
    ),
    pytest.param(CHAT, openai_body(stop=["a", "b", "c", "d", "e"]), "stop", id="o-five-stops"),
    pytest.param(CHAT, openai_body(tools=[]), "tools", id="o-empty-tools"),
    pytest.param(CHAT, openai_body(tool_choice="auto"), "tool_choice", id="o-tool-choice-without-tools"),
    pytest.param(
        CHAT, openai_body(parallel_tool_calls=False), "parallel_tool_calls", id="o-parallel-without-tools"
    ),
    pytest.param(
        CHAT, openai_body(stream_options={"include_usage": True}), "stream_options", id="o-options-unstreamed"
    ),
    pytest.param(
        CHAT,
        openai_body(messages=[{"role": "tool", "tool_call_id": "call_1", "content": "done"}]),
        "messages[0].role",
        id="o-tool-without-call",
    ),
    pytest.param(
        CHAT,
        openai_body(
            tools=[OPENAI_TOOL],
            messages=[
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": None, "tool_calls": [OPENAI_CALL]},
                {"role": "user", "content": "and?"},
            ],
        ),
        "messages[2].role",
        id="o-call-without-result",
    ),
    pytest.param(
        CHAT, openai_body(messages=[{"role": "system"}]), "messages[0].content", id="o-system-without-content"
    ),
    pytest.param(CHAT, openai_body(messages=[]), "messages", id="o-no-messages"),
]


@pytest.mark.parametrize(("path", "request_body", "where"), SEMANTIC_CASES)
async def test_provider_specific_rules(
    upstream: str, http: aiohttp.ClientSession, path: str, request_body: dict[str, Any], where: str
) -> None:
    status, body, text = await post(http, upstream + path, request_body)
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert body["error"]["message"].startswith(where), body
    else:
        assert body["error"]["param"] == where, body


def test_refusals_are_exceptions_not_values() -> None:
    """The check functions return nothing for a good body and raise for a bad one."""
    served = ServedModels(frozenset({ANTHROPIC_MODEL, OPENAI_MODEL}))
    check_anthropic(anthropic_body(), served)
    check_openai(openai_body(), served)
    with pytest.raises(ProviderRefusal):
        check_openai(openai_body(model=ANTHROPIC_MODEL + "x"), served)
