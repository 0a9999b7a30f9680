"""Anthropic's rules for ``POST /v1/messages``: its request schema (the contract's components, with a
``# provider:`` comment wherever Anthropic differs), its refusals in its own words (pydantic's, as Anthropic
reports them), and the rules no schema can say (non-empty content, each ``tool_use`` answered by the next
message's ``tool_result``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from jsonschema.exceptions import ValidationError

from reference_server.upstream.scripted.provider_rules.common import (
    Json,
    ProviderRefusal,
    Rules,
    check_schema,
    compile_rules,
    contract_component,
    missing,
    segments,
    tagged,
)
from reference_server.upstream.scripted.provider_rules.served_models import ServedModels, model_rules


def _text_block() -> Json:
    return contract_component("TextBlockParam")


def _tool_result_block() -> Json:
    block = contract_component("ToolResultBlockParam")
    # provider: Anthropic takes text and image blocks in a tool result; the contract, text only.
    block["properties"]["content"] = {
        "type": ["string", "array"],
        "items": tagged("type", {"text": _text_block(), "image": contract_component("ImageBlockParam")}),
    }
    return block


def _document_block() -> Json:
    # provider: Anthropic's document blocks (PDF or plain text sources); not in the contract.
    return {
        "type": "object",
        "required": ["type", "source"],
        "properties": {
            "type": {"const": "document"},
            "source": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}},
            "title": {"type": ["string", "null"]},
            "context": {"type": ["string", "null"]},
            "citations": {"type": "object"},
            "cache_control": contract_component("CacheControl"),
        },
        "additionalProperties": False,
    }


def _thinking_blocks() -> dict[str, Json]:
    # provider: Anthropic wants earlier thinking blocks sent back with the assistant turn that made them; not in
    # the contract (the reference gateway never produces them, other gateways may pass them on).
    return {
        "thinking": {
            "type": "object",
            "required": ["type", "thinking", "signature"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "thinking"},
                "thinking": {"type": "string"},
                "signature": {"type": "string"},
            },
        },
        "redacted_thinking": {
            "type": "object",
            "required": ["type", "data"],
            "additionalProperties": False,
            "properties": {"type": {"const": "redacted_thinking"}, "data": {"type": "string"}},
        },
    }


def _anthropic_content(blocks: Mapping[str, Json]) -> Json:
    return {"type": ["string", "array"], "minItems": 1, "items": tagged("type", blocks)}


def anthropic_schema() -> Json:
    """``POST /v1/messages`` as Anthropic takes it."""
    contract = contract_component("MessagesRequest")
    props = contract["properties"]
    user_blocks = {
        "text": _text_block(),
        "image": contract_component("ImageBlockParam"),
        "tool_result": _tool_result_block(),
        "document": _document_block(),
    }
    assistant_blocks = {
        "text": _text_block(),
        "tool_use": contract_component("ToolUseBlockParam"),
        **_thinking_blocks(),
    }
    message = {
        **tagged(
            "role",
            {
                "user": {"properties": {"content": _anthropic_content(user_blocks)}},
                "assistant": {"properties": {"content": _anthropic_content(assistant_blocks)}},
            },
        ),
        "required": ["role", "content"],
        "additionalProperties": False,
    }
    message["properties"]["content"] = {}
    tool_choice = tagged(
        "type",
        {
            kind: {
                "additionalProperties": False,
                "properties": {"type": {}, "disable_parallel_tool_use": {"type": "boolean"}},
            }
            for kind in ("auto", "any", "none")
        }
        | {
            "tool": {
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "type": {},
                    "name": {"type": "string", "minLength": 1},
                    "disable_parallel_tool_use": {"type": "boolean"},
                },
            }
        },
    )
    return {
        "type": "object",
        "required": ["model", "max_tokens", "messages"],
        "additionalProperties": False,
        "properties": {
            # provider: any model name is well-formed; whether it is served is the 404 below, not a 400. The
            # contract's 256-character cap is the gateway's own.
            "model": {"type": "string"},
            # provider: the ceiling is the model's (MAX_OUTPUT_TOKENS), not the contract's ceiling.
            "max_tokens": {"type": "integer", "minimum": 1},
            "messages": {"type": "array", "minItems": 1, "items": message},
            "system": {"type": ["string", "array"], "items": _text_block()},
            # provider: Anthropic documents no limit on the number of stop sequences (the contract's 16 is the
            # gateway's own).
            "stop_sequences": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "stream": {"type": "boolean"},
            "temperature": props["temperature"],
            "top_p": props["top_p"],
            "top_k": props["top_k"],
            "metadata": props["metadata"],
            "tools": {"type": "array", "items": contract_component("Tool")},
            "tool_choice": tool_choice,
            # provider: the top-level fields Anthropic documents that the contract leaves out. The scripted
            # upstream takes them and ignores them.
            "service_tier": {"enum": ["auto", "standard_only"]},
            "thinking": tagged(
                "type",
                {
                    "enabled": {
                        "required": ["budget_tokens"],
                        "additionalProperties": False,
                        "properties": {"type": {}, "budget_tokens": {"type": "integer", "minimum": 1024}},
                    },
                    "disabled": {"additionalProperties": False, "properties": {"type": {}}},
                },
            ),
            "container": {"type": ["string", "null"]},
            "mcp_servers": {"type": "array", "items": {"type": "object"}},
            "context_management": {"type": ["object", "null"]},
        },
    }


@functools.cache
def _rules() -> Rules:
    return compile_rules(anthropic_schema())


def _anthropic_path(segments: list[str | int]) -> str:
    return ".".join(str(s) for s in segments)


_ANTHROPIC_TYPES = {
    "integer": "a valid integer",
    "number": "a valid number",
    "string": "a valid string",
    "boolean": "a valid boolean",
    "array": "a valid list",
    "object": "a valid dictionary",
    "null": "None",
}


def _anthropic_refusal(rules: Rules, err: ValidationError) -> ProviderRefusal:
    """A schema error in Anthropic's words (it reports pydantic's: ``max_tokens: Input should be a valid
    integer``), naming no value."""
    v: Any = err.validator
    arg: Any = err.validator_value
    path = segments(rules, err.absolute_path)
    if v == "required":
        path = [*path, *segments(rules, missing(err)[:1])]
        rule = "Field required"
    elif v == "type":
        kinds = arg if isinstance(arg, list) else [arg]
        rule = "Input should be " + " or ".join(_ANTHROPIC_TYPES.get(k, str(k)) for k in kinds)
    elif v in ("enum", "const"):
        allowed = arg if v == "enum" else [arg]
        rule = "Input should be " + " or ".join(repr(a) for a in allowed)
    elif v in ("minimum", "maximum"):
        rule = f"Input should be {'greater' if v == 'minimum' else 'less'} than or equal to {arg}"
    elif v in ("minItems", "maxItems"):
        rule = f"List should have at {'least' if v == 'minItems' else 'most'} {arg} item(s)"
    elif v in ("minLength", "maxLength"):
        rule = f"String should have at {'least' if v == 'minLength' else 'most'} {arg} character(s)"
    elif v == "additionalProperties":
        rule = "Extra inputs are not permitted (a field this API does not know; its name is not repeated)"
    elif v == "pattern":
        rule = f"String should match pattern '{arg}'"
    else:
        rule = "Input does not match any allowed shape"
    where = _anthropic_path(path) or "body"
    return _invalid(f"{where}: {rule}")


def _invalid(message: str) -> ProviderRefusal:
    """Anthropic's 400 for a body it cannot take."""
    return ProviderRefusal(400, "invalid_request_error", message)


def _anthropic_semantics(body: Json) -> None:
    messages: list[Json] = body["messages"]
    for i, message in enumerate(messages):
        content = message["content"]
        final_assistant = i == len(messages) - 1 and message["role"] == "assistant"
        if content == "" and not final_assistant:
            raise _invalid(
                f"messages.{i}: all messages must have non-empty content except for the optional final "
                "assistant message",
            )
        if isinstance(content, list):
            for j, block in enumerate(content):
                if block.get("type") == "text" and block.get("text") == "":
                    raise _invalid(
                        f"messages.{i}.content.{j}: text content blocks must be non-empty",
                    )
    # Every tool_use is answered by a tool_result in the very next message, and every tool_result answers a
    # tool_use of the message just before it.
    for i, message in enumerate(messages):
        results = _block_ids(message, "tool_result", "tool_use_id") if message["role"] == "user" else []
        previous = messages[i - 1] if i > 0 else None
        asked = _block_ids(previous, "tool_use", "id") if previous and previous["role"] == "assistant" else []
        if any(r not in asked for r in results):
            raise _invalid(
                f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks. Each "
                "`tool_result` block must have a corresponding `tool_use` block in the previous message.",
            )
        calls = _block_ids(message, "tool_use", "id") if message["role"] == "assistant" else []
        if calls and i + 1 < len(messages):
            following = messages[i + 1]
            answered = (
                _block_ids(following, "tool_result", "tool_use_id") if following["role"] == "user" else []
            )
            if any(c not in answered for c in calls):
                raise _invalid(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after. "
                    "Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                )


def _block_ids(message: Json, kind: str, key: str) -> list[Any]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [block.get(key) for block in content if block.get("type") == kind]


def check_anthropic(body: Json, served: ServedModels) -> None:
    """Raise ``ProviderRefusal`` for an Anthropic Messages body Anthropic would refuse."""
    check_schema(_rules(), body, _anthropic_refusal)
    _anthropic_semantics(body)
    model_rules(body["model"], body["max_tokens"], "max_tokens", served, openai=False)
