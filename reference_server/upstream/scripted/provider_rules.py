"""What the real providers refuse, so that the scripted upstream refuses it too.

The scripted upstream stands in for Anthropic on ``POST /v1/messages`` and for OpenAI on
``POST /v1/chat/completions``. A gateway in front of it is judged on what it does with the upstream's answers,
errors included; an upstream that accepts what the provider would refuse hides a gateway's bugs (a request that
names a model nobody serves got a 200) and blames it for others. So each request body is held to the rules the
provider documents, and a refusal comes back with the provider's own status and error envelope:

- Anthropic: ``400 invalid_request_error`` for a body it cannot take, ``404 not_found_error`` for a model it does
  not serve, in ``{"type": "error", "error": {"type": ..., "message": ...}}``; messages in Anthropic's style
  (``messages.0.role: Input should be 'user' or 'assistant'``).
- OpenAI: ``400`` ``{"error": {"message", "type": "invalid_request_error", "param", "code"}}`` with OpenAI's codes
  (``missing_required_parameter``, ``invalid_type``, ``invalid_value``, ``integer_above_max_value``, ...), and
  ``404`` with ``code: model_not_found`` for a model it does not serve.

The rules are data: one JSON Schema per provider, built from the contract's own components
(``contracts/openapi.yaml``) where the contract says what the provider says, and written out here where it does
not. Each such place carries a ``# provider:`` comment saying how the provider differs from the contract. A few
rules no schema can say (tool calls paired with their results, an empty text block) are code, below the schemas.

No message ever repeats a value from the request: not the model, not an unknown field's name, not a tool id.
A path names only the contract's own field names and array indexes.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from contracts import inlined_component_schema

Json = dict[str, Any]

SCRIPTED_MODEL = "scripted-model"
"""The model name third-party target files use for a gateway in front of the scripted upstream."""

NOT_SERVED = "the requested model is not served by this upstream"


class ProviderRefusal(Exception):
    """A request the provider would refuse: its status, Anthropic's error type, a message that quotes nothing
    from the request, and OpenAI's ``param`` and ``code``."""

    def __init__(
        self, status: int, error_type: str, message: str, *, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.param = param
        self.code = code


# --- Served models ----------------------------------------------------------------------------------------


def default_served_models() -> frozenset[str]:
    """The upstream model of every registered backend (what the reference gateway sends), plus
    ``scripted-model``."""
    from reference_server.upstream.registry import BACKENDS

    return frozenset({spec.upstream_model for spec in BACKENDS.values()} | {SCRIPTED_MODEL})


MAX_OUTPUT_TOKENS: Mapping[str, int] = {
    # provider: each model's own ceiling on max_tokens, from the providers' model pages. A model not listed
    # here has none but the schema's (at least 1).
    "claude-sonnet-4-5": 64_000,
    "gpt-4.1-mini": 32_768,
    "llama-3.3-70b-versatile": 32_768,
}


@dataclass(frozen=True)
class ServedModels:
    """The models this upstream answers for; ``names=None`` answers for any model (``--any-model``)."""

    names: frozenset[str] | None

    def serves(self, model: str) -> bool:
        return self.names is None or model in self.names


# --- The schemas ------------------------------------------------------------------------------------------


def _contract(name: str) -> Json:
    schema = copy.deepcopy(inlined_component_schema(name))
    schema.pop("$schema", None)
    return schema


def _tagged(tag: str, variants: Mapping[str, Json], *, required: bool = True) -> Json:
    """An object whose ``tag`` field picks its shape: ``if``/``then`` per value rather than ``oneOf``, so that
    an error is reported inside the one shape the object claims to have, not as "matches none of them"."""
    return {
        "type": "object",
        "required": [tag] if required else [],
        "properties": {tag: {"enum": list(variants)}},
        "allOf": [
            {"if": {"required": [tag], "properties": {tag: {"const": value}}}, "then": shape}
            for value, shape in variants.items()
        ],
    }


def _nullable(schema: Json) -> Json:
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*kinds, "null"]}


def _text_block() -> Json:
    return _contract("TextBlockParam")


def _tool_result_block() -> Json:
    block = _contract("ToolResultBlockParam")
    # provider: Anthropic takes text and image blocks in a tool result; the contract, text only.
    block["properties"]["content"] = {
        "type": ["string", "array"],
        "items": _tagged("type", {"text": _text_block(), "image": _contract("ImageBlockParam")}),
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
            "cache_control": _contract("CacheControl"),
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
    return {"type": ["string", "array"], "minItems": 1, "items": _tagged("type", blocks)}


def anthropic_schema() -> Json:
    """``POST /v1/messages`` as Anthropic takes it."""
    contract = _contract("MessagesRequest")
    props = contract["properties"]
    user_blocks = {
        "text": _text_block(),
        "image": _contract("ImageBlockParam"),
        "tool_result": _tool_result_block(),
        "document": _document_block(),
    }
    assistant_blocks = {
        "text": _text_block(),
        "tool_use": _contract("ToolUseBlockParam"),
        **_thinking_blocks(),
    }
    message = {
        **_tagged(
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
    tool_choice = _tagged(
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
            "tools": {"type": "array", "items": _contract("Tool")},
            "tool_choice": tool_choice,
            # provider: the top-level fields Anthropic documents that the contract leaves out. The scripted
            # upstream takes them and ignores them.
            "service_tier": {"enum": ["auto", "standard_only"]},
            "thinking": _tagged(
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


def _openai_text_parts() -> Json:
    return {
        "type": "array",
        "minItems": 1,
        "items": _tagged(
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
        "items": _tagged(
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
    return _tagged(
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
                        "items": _tagged(
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
    contract = _contract("ChatTool")
    # provider: OpenAI also takes custom (free-form input) tools.
    return _tagged(
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
        "else": _tagged(
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
    contract = _contract("ChatCompletionRequest")
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
            "response_format": _tagged(
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


# --- Validation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    schema: Json
    fast: jsonschema_rs.Draft202012Validator
    full: Draft202012Validator
    names: frozenset[str]
    """Every field name the schema knows: the only path segments a message may name."""


def _field_names(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            yield from properties
        for value in node.values():
            yield from _field_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _field_names(value)


@functools.cache
def _rules(dialect: str) -> _Rules:
    schema = anthropic_schema() if dialect == "anthropic" else openai_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return _Rules(
        schema,
        jsonschema_rs.Draft202012Validator(schema),
        Draft202012Validator(schema),
        frozenset(_field_names(schema)),
    )


def _first_error(rules: _Rules, body: Json) -> ValidationError | None:
    try:
        if rules.fast.is_valid(body):
            return None
    except Exception:  # a value the compiled validator cannot convert: the reference validator judges
        pass
    errors: list[ValidationError] = list(rules.full.iter_errors(body))
    if not errors:
        return None
    # The most specific error: the deepest, and a plain rule before a "matches none of the shapes".
    best: ValidationError = max(
        errors, key=lambda e: (len(e.absolute_path), e.validator not in ("oneOf", "anyOf"))
    )
    return best


def _segments(rules: _Rules, path: Iterable[Any]) -> list[str | int]:
    """A path with every key that is not one of the schema's field names (a key of the client's own, in
    ``metadata`` say) replaced by ``*``."""
    return [p if isinstance(p, int) or p in rules.names else "*" for p in path]


def _anthropic_path(segments: list[str | int]) -> str:
    return ".".join(str(s) for s in segments)


def _openai_path(segments: list[str | int]) -> str:
    out = ""
    for s in segments:
        out += f"[{s}]" if isinstance(s, int) else (f".{s}" if out else s)
    return out


_ANTHROPIC_TYPES = {
    "integer": "a valid integer",
    "number": "a valid number",
    "string": "a valid string",
    "boolean": "a valid boolean",
    "array": "a valid list",
    "object": "a valid dictionary",
    "null": "None",
}


def _missing(err: ValidationError) -> list[str]:
    instance = err.instance if isinstance(err.instance, dict) else {}
    required: Any = err.validator_value
    return [k for k in required if k not in instance]


def _anthropic_refusal(rules: _Rules, err: ValidationError) -> ProviderRefusal:
    """A schema error in Anthropic's words (it reports pydantic's: ``max_tokens: Input should be a valid
    integer``), naming no value."""
    v: Any = err.validator
    arg: Any = err.validator_value
    path = _segments(rules, err.absolute_path)
    if v == "required":
        path = [*path, *_segments(rules, _missing(err)[:1])]
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
    return ProviderRefusal(400, "invalid_request_error", f"{where}: {rule}")


def _openai_refusal(rules: _Rules, err: ValidationError) -> ProviderRefusal:
    """A schema error in OpenAI's words and codes, naming no value."""
    v: Any = err.validator
    arg: Any = err.validator_value
    path = _segments(rules, err.absolute_path)
    param = _openai_path(path) or None
    instance = err.instance
    if v == "required":
        param = _openai_path([*path, *_segments(rules, _missing(err)[:1])])
        return _bad(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    if v == "additionalProperties":
        if not path:
            return _bad("Unrecognized request argument supplied (its name is not repeated).", None, None)
        return _bad(
            f"Invalid '{param}': has a property this API does not accept.", param, "unknown_parameter"
        )
    if v == "type":
        kinds = arg if isinstance(arg, list) else [arg]
        got = _json_type(instance)
        expected = " or ".join(kinds)
        return _bad(
            f"Invalid type for '{param}': expected {expected}, but got {got} instead.", param, "invalid_type"
        )
    if v in ("minimum", "maximum"):
        declared = err.schema.get("type") if isinstance(err.schema, dict) else None
        kind = "integer" if declared == "integer" or "integer" in (declared or []) else "decimal"
        side = "below_min" if v == "minimum" else "above_max"
        words = "below minimum" if v == "minimum" else "above maximum"
        sign = ">=" if v == "minimum" else "<="
        return _bad(
            f"Invalid '{param}': {kind} {words} value. Expected a value {sign} {arg}.",
            param,
            f"{kind}_{side}_value",
        )
    if v == "minItems":
        if isinstance(instance, list) and not instance:
            message = f"Invalid '{param}': empty array. Expected an array with minimum length {arg}."
            return _bad(message, param, "empty_array")
        return _bad(
            f"Invalid '{param}': array too short. Expected minimum length {arg}.",
            param,
            "array_below_min_length",
        )
    if v == "maxItems":
        message = f"Invalid '{param}': array too long. Expected an array with maximum length {arg}."
        return _bad(message, param, "array_above_max_length")
    if v in ("minLength", "maxLength"):
        side = "below_min" if v == "minLength" else "above_max"
        return _bad(
            f"Invalid '{param}': string too {'short' if v == 'minLength' else 'long'}.",
            param,
            f"string_{side}_length",
        )
    if v in ("enum", "const"):
        allowed = [a for a in (arg if v == "enum" else [arg]) if a is not None]
        supported = ", ".join(f"'{a}'" for a in allowed)
        return _bad(
            f"Invalid value for '{param}'. Supported values are: {supported}.", param, "invalid_value"
        )
    if v == "pattern":
        return _bad(
            f"Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '{arg}'.",
            param,
            "invalid_value",
        )
    return _bad(f"Invalid value for '{param}'.", param, "invalid_value")


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


def _bad(message: str, param: str | None, code: str | None) -> ProviderRefusal:
    return ProviderRefusal(400, "invalid_request_error", message, param=param, code=code)


# --- What no schema says ------------------------------------------------------------------------------------


def _anthropic_semantics(body: Json) -> None:
    messages: list[Json] = body["messages"]
    for i, message in enumerate(messages):
        content = message["content"]
        final_assistant = i == len(messages) - 1 and message["role"] == "assistant"
        if content == "" and not final_assistant:
            raise ProviderRefusal(
                400,
                "invalid_request_error",
                f"messages.{i}: all messages must have non-empty content except for the optional final "
                "assistant message",
            )
        if isinstance(content, list):
            for j, block in enumerate(content):
                if block.get("type") == "text" and block.get("text") == "":
                    raise ProviderRefusal(
                        400,
                        "invalid_request_error",
                        f"messages.{i}.content.{j}: text content blocks must be non-empty",
                    )
    # Every tool_use is answered by a tool_result in the very next message, and every tool_result answers a
    # tool_use of the message just before it.
    for i, message in enumerate(messages):
        results = _block_ids(message, "tool_result", "tool_use_id") if message["role"] == "user" else []
        previous = messages[i - 1] if i > 0 else None
        asked = _block_ids(previous, "tool_use", "id") if previous and previous["role"] == "assistant" else []
        if any(r not in asked for r in results):
            raise ProviderRefusal(
                400,
                "invalid_request_error",
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
                raise ProviderRefusal(
                    400,
                    "invalid_request_error",
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after. "
                    "Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                )


def _block_ids(message: Json, kind: str, key: str) -> list[Any]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [block.get(key) for block in content if block.get("type") == kind]


def _openai_semantics(body: Json) -> None:
    if body.get("stream_options") is not None and body.get("stream") is not True:
        raise _bad(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", None
        )
    for option in ("tool_choice", "parallel_tool_calls"):
        if option in body and not body.get("tools"):
            raise _bad(
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
                raise _bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceding message "
                    "with 'tool_calls'.",
                    f"messages[{i}].role",
                    None,
                )
            pending.remove(message.get("tool_call_id"))
            continue
        if pending:
            raise _bad(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                "'tool_call_id'.",
                f"messages[{i}].role",
                None,
            )
        calls = message.get("tool_calls") if role == "assistant" else None
        pending = [c.get("id") for c in calls] if calls else None
    if pending:
        raise _bad(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'.",
            "messages",
            None,
        )


def _model_rules(model: str, limit: Any, field: str, served: ServedModels, *, openai: bool) -> None:
    if not served.serves(model):
        if openai:
            raise ProviderRefusal(404, "not_found_error", NOT_SERVED, param="model", code="model_not_found")
        raise ProviderRefusal(404, "not_found_error", f"model: {NOT_SERVED}")
    ceiling = MAX_OUTPUT_TOKENS.get(model)
    if ceiling is not None and isinstance(limit, int) and limit > ceiling:
        if openai:
            raise _bad(
                f"{field} is too large. This model supports at most {ceiling} completion tokens.",
                field,
                "invalid_value",
            )
        raise ProviderRefusal(
            400,
            "invalid_request_error",
            f"max_tokens: greater than {ceiling}, the maximum number of output tokens of this model",
        )


def check_anthropic(body: Json, served: ServedModels) -> None:
    """Raise ``ProviderRefusal`` for an Anthropic Messages body Anthropic would refuse."""
    rules = _rules("anthropic")
    error = _first_error(rules, body)
    if error is not None:
        raise _anthropic_refusal(rules, error)
    _anthropic_semantics(body)
    _model_rules(body["model"], body["max_tokens"], "max_tokens", served, openai=False)


def check_openai(body: Json, served: ServedModels) -> None:
    """Raise ``ProviderRefusal`` for a Chat Completions body OpenAI would refuse."""
    rules = _rules("openai")
    error = _first_error(rules, body)
    if error is not None:
        raise _openai_refusal(rules, error)
    _openai_semantics(body)
    field = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    _model_rules(body["model"], body.get(field), field, served, openai=True)


CHECKS: Mapping[str, Callable[[Json, ServedModels], None]] = {
    "anthropic": check_anthropic,
    "openai": check_openai,
}
