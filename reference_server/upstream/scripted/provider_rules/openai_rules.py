"""OpenAI's rules for ``POST /v1/chat/completions``: its request schema (the contract's components where they
agree, every argument OpenAI documents, a ``# provider:`` comment wherever OpenAI differs), its refusals with
its own ``param`` and ``code``, and the rules no schema can say (``stream_options`` only with ``stream``, tool
messages answering the calls before them)."""

from __future__ import annotations

import functools
from typing import Any

from jsonschema.exceptions import ValidationError

from reference_server.upstream.scripted.provider_rules.common import (
    Json,
    ProviderRefusal,
    Rules,
    bad_request,
    check_schema,
    compile_rules,
    contract_component,
    missing,
    segments,
    tagged,
)
from reference_server.upstream.scripted.provider_rules.served_models import ServedModels, model_rules


def _openai_text_parts() -> Json:
    return {
        "type": "array",
        "minItems": 1,
        "items": tagged(
            "type",
            {"text": {"required": ["text"], "properties": {"text": {"type": "string"}}}},
        ),
    }


def _openai_user_parts() -> Json:
    # provider: OpenAI's user content parts are text, image_url, input_audio and file; the contract, text only
    # (and the reference gateway sends image_url parts for Anthropic image blocks).
    return {
        "type": "array",
        "minItems": 1,
        "items": tagged(
            "type",
            {
                "text": {"required": ["text"], "properties": {"text": {"type": "string"}}},
                "image_url": {
                    "required": ["image_url"],
                    "properties": {
                        "image_url": {
                            "type": "object",
                            "required": ["url"],
                            "properties": {
                                "url": {"type": "string"},
                                "detail": {"enum": ["auto", "low", "high"]},
                            },
                        }
                    },
                },
                "input_audio": {
                    "required": ["input_audio"],
                    "properties": {"input_audio": {"type": "object"}},
                },
                "file": {"required": ["file"], "properties": {"file": {"type": "object"}}},
            },
        ),
    }


def _openai_tool_call() -> Json:
    return {
        "type": "object",
        "required": ["id", "type", "function"],
        "properties": {
            "id": {"type": "string"},
            "type": {"const": "function"},
            "function": {
                "type": "object",
                "required": ["name", "arguments"],
                "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
            },
        },
    }


def _openai_message() -> Json:
    text = {"type": ["string", "array"], **{k: v for k, v in _openai_text_parts().items() if k != "type"}}
    # provider: OpenAI wants content on every message but the assistant's; the contract lets a system or tool
    # message leave it out or null. The deprecated "function" role and an assistant's function_call are still
    # accepted (the contract refuses them). Unknown fields inside a message are not judged here.
    return tagged(
        "role",
        {
            "system": {"required": ["content"], "properties": {"content": text, "name": {"type": "string"}}},
            "developer": {
                "required": ["content"],
                "properties": {"content": text, "name": {"type": "string"}},
            },
            "user": {
                "required": ["content"],
                "properties": {
                    "content": {
                        "type": ["string", "array"],
                        **{k: v for k, v in _openai_user_parts().items() if k != "type"},
                    },
                    "name": {"type": "string"},
                },
            },
            "assistant": {
                "properties": {
                    "content": {
                        "type": ["string", "array", "null"],
                        "items": tagged(
                            "type",
                            {
                                "text": {"required": ["text"], "properties": {"text": {"type": "string"}}},
                                "refusal": {
                                    "required": ["refusal"],
                                    "properties": {"refusal": {"type": "string"}},
                                },
                            },
                        ),
                    },
                    "name": {"type": "string"},
                    "refusal": {"type": ["string", "null"]},
                    "tool_calls": {"type": "array", "minItems": 1, "items": _openai_tool_call()},
                    "function_call": {
                        "type": ["object", "null"],
                        "required": ["name", "arguments"],
                        "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
                    },
                    "audio": {"type": ["object", "null"]},
                }
            },
            "tool": {
                "required": ["content", "tool_call_id"],
                "properties": {"content": text, "tool_call_id": {"type": "string"}},
            },
            "function": {
                "required": ["content", "name"],
                "properties": {"content": {"type": ["string", "null"]}, "name": {"type": "string"}},
            },
        },
    )


def _openai_tool() -> Json:
    contract = contract_component("ChatTool")
    # provider: OpenAI also takes custom (free-form input) tools.
    return tagged(
        "type",
        {
            "function": {
                "required": ["function"],
                "properties": {"function": contract["properties"]["function"]},
            },
            "custom": {
                "required": ["custom"],
                "properties": {
                    "custom": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}},
                    }
                },
            },
        },
    )


def _openai_tool_choice() -> Json:
    named = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    return {
        "type": ["string", "object"],
        "if": {"type": "string"},
        "then": {"enum": ["none", "auto", "required"]},
        "else": tagged(
            "type",
            {
                "function": {"required": ["function"], "properties": {"function": named}},
                "custom": {"required": ["custom"], "properties": {"custom": named}},
                "allowed_tools": {
                    "required": ["allowed_tools"],
                    "properties": {"allowed_tools": {"type": "object"}},
                },
            },
        ),
    }


def openai_schema() -> Json:
    """``POST /v1/chat/completions`` as OpenAI takes it."""
    contract = contract_component("ChatCompletionRequest")
    props = contract["properties"]
    number = {"type": ["number", "null"]}
    tool_choice = _openai_tool_choice()
    return {
        "type": "object",
        "required": ["model", "messages"],
        # provider: OpenAI refuses an argument it does not know ("Unrecognized request argument supplied");
        # the contract's ChatCompletionRequest is open. Every argument OpenAI documents is listed below.
        "additionalProperties": False,
        "properties": {
            "model": {"type": "string"},
            "messages": {"type": "array", "minItems": 1, "items": _openai_message()},
            # provider: the ceiling is the model's (MAX_OUTPUT_TOKENS), not the contract's ceiling.
            "max_tokens": {"type": ["integer", "null"], "minimum": 1},
            "max_completion_tokens": {"type": ["integer", "null"], "minimum": 1},
            "stream": props["stream"],
            "stream_options": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "properties": {
                    "include_usage": {"type": "boolean"},
                    "include_obfuscation": {"type": "boolean"},
                },
            },
            # provider: OpenAI takes at most 4 stop sequences (the contract, 16).
            "stop": {"type": ["string", "array", "null"], "maxItems": 4, "items": {"type": "string"}},
            "temperature": props["temperature"],
            "top_p": props["top_p"],
            # provider: OpenAI takes n up to 128 (the contract, only 1). The scripted upstream answers with one
            # choice whatever n says.
            "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 128},
            "presence_penalty": {**number, "minimum": -2, "maximum": 2},
            "frequency_penalty": {**number, "minimum": -2, "maximum": 2},
            "seed": {"type": ["integer", "null"]},
            "logprobs": {"type": ["boolean", "null"]},
            "top_logprobs": {"type": ["integer", "null"], "minimum": 0, "maximum": 20},
            "logit_bias": {"type": ["object", "null"], "additionalProperties": {"type": "number"}},
            "user": {"type": "string"},
            "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
            "store": {"type": ["boolean", "null"]},
            "service_tier": {"enum": ["auto", "default", "flex", "scale", "priority", None]},
            "reasoning_effort": {"enum": ["none", "minimal", "low", "medium", "high", None]},
            "verbosity": {"enum": ["low", "medium", "high", None]},
            "response_format": tagged(
                "type", {"text": {}, "json_object": {}, "json_schema": {"required": ["json_schema"]}}
            ),
            "modalities": {"type": ["array", "null"], "items": {"enum": ["text", "audio"]}},
            "audio": {"type": ["object", "null"]},
            "prediction": {"type": ["object", "null"]},
            "web_search_options": {"type": "object"},
            "prompt_cache_key": {"type": "string"},
            "safety_identifier": {"type": "string"},
            # provider: OpenAI refuses an empty tools array.
            "tools": {"type": "array", "minItems": 1, "items": _openai_tool()},
            "tool_choice": tool_choice,
            "parallel_tool_calls": {"type": "boolean"},
            "functions": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["name"]}},
            "function_call": {"type": ["string", "object"]},
        },
    }


@functools.cache
def _rules() -> Rules:
    return compile_rules(openai_schema())


def _openai_path(segments: list[str | int]) -> str:
    out = ""
    for s in segments:
        out += f"[{s}]" if isinstance(s, int) else (f".{s}" if out else s)
    return out


def _openai_refusal(rules: Rules, err: ValidationError) -> ProviderRefusal:
    """A schema error in OpenAI's words and codes, naming no value."""
    v: Any = err.validator
    arg: Any = err.validator_value
    path = segments(rules, err.absolute_path)
    param = _openai_path(path) or None
    instance = err.instance
    if v == "required":
        param = _openai_path([*path, *segments(rules, missing(err)[:1])])
        return bad_request(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    if v == "additionalProperties":
        if not path:
            return bad_request(
                "Unrecognized request argument supplied (its name is not repeated).", None, None
            )
        return bad_request(
            f"Invalid '{param}': has a property this API does not accept.", param, "unknown_parameter"
        )
    if v == "type":
        kinds = arg if isinstance(arg, list) else [arg]
        got = _json_type(instance)
        expected = " or ".join(kinds)
        return bad_request(
            f"Invalid type for '{param}': expected {expected}, but got {got} instead.", param, "invalid_type"
        )
    if v in ("minimum", "maximum"):
        declared = err.schema.get("type") if isinstance(err.schema, dict) else None
        kind = "integer" if declared == "integer" or "integer" in (declared or []) else "decimal"
        side = "below_min" if v == "minimum" else "above_max"
        words = "below minimum" if v == "minimum" else "above maximum"
        sign = ">=" if v == "minimum" else "<="
        return bad_request(
            f"Invalid '{param}': {kind} {words} value. Expected a value {sign} {arg}.",
            param,
            f"{kind}_{side}_value",
        )
    if v == "minItems":
        if isinstance(instance, list) and not instance:
            message = f"Invalid '{param}': empty array. Expected an array with minimum length {arg}."
            return bad_request(message, param, "empty_array")
        return bad_request(
            f"Invalid '{param}': array too short. Expected minimum length {arg}.",
            param,
            "array_below_min_length",
        )
    if v == "maxItems":
        message = f"Invalid '{param}': array too long. Expected an array with maximum length {arg}."
        return bad_request(message, param, "array_above_max_length")
    if v in ("minLength", "maxLength"):
        side = "below_min" if v == "minLength" else "above_max"
        return bad_request(
            f"Invalid '{param}': string too {'short' if v == 'minLength' else 'long'}.",
            param,
            f"string_{side}_length",
        )
    if v in ("enum", "const"):
        allowed = [a for a in (arg if v == "enum" else [arg]) if a is not None]
        supported = ", ".join(f"'{a}'" for a in allowed)
        return bad_request(
            f"Invalid value for '{param}'. Supported values are: {supported}.", param, "invalid_value"
        )
    if v == "pattern":
        return bad_request(
            f"Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '{arg}'.",
            param,
            "invalid_value",
        )
    return bad_request(f"Invalid value for '{param}'.", param, "invalid_value")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _openai_semantics(body: Json) -> None:
    if body.get("stream_options") is not None and body.get("stream") is not True:
        raise bad_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", None
        )
    for option in ("tool_choice", "parallel_tool_calls"):
        if option in body and not body.get("tools"):
            raise bad_request(
                f"Invalid value for '{option}': '{option}' is only allowed when 'tools' are specified.",
                option,
                None,
            )
    # A tool message answers a call of the assistant message before it (other tool messages between), and
    # every call is answered before the conversation goes on.
    pending: list[Any] | None = None
    for i, message in enumerate(body["messages"]):
        role = message["role"]
        if role == "tool":
            if pending is None or message.get("tool_call_id") not in pending:
                raise bad_request(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceding message "
                    "with 'tool_calls'.",
                    f"messages[{i}].role",
                    None,
                )
            pending.remove(message.get("tool_call_id"))
            continue
        if pending:
            raise bad_request(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                "'tool_call_id'.",
                f"messages[{i}].role",
                None,
            )
        calls = message.get("tool_calls") if role == "assistant" else None
        pending = [c.get("id") for c in calls] if calls else None
    if pending:
        raise bad_request(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'.",
            "messages",
            None,
        )


def check_openai(body: Json, served: ServedModels) -> None:
    """Raise ``ProviderRefusal`` for a Chat Completions body OpenAI would refuse."""
    check_schema(_rules(), body, _openai_refusal)
    _openai_semantics(body)
    field = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    model_rules(body["model"], body.get(field), field, served, openai=True)
