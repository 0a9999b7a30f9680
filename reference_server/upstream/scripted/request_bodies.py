"""Request bodies of the scripted upstream's HTTP routes, read into the one ``UpstreamRequest`` the engine
answers: an Anthropic Messages body, or an OpenAI Chat Completions body (whose messages, tools and tool choice
are brought into Anthropic's form). A body this server cannot read raises ``BadRequest``; what the provider would
refuse was already refused by ``provider_rules`` before this runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reference_server.upstream.base import UpstreamRequest

OPENAI_DEFAULT_MAX_TOKENS = 4096


class BadRequest(ValueError):
    """A request body this server cannot read: answered with a 400 in the route's dialect."""


def _get(body: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], default: Any = None) -> Any:
    value = body.get(key, default)
    if value is default:
        return value
    if not isinstance(value, kinds) or (isinstance(value, bool) and kinds is int):
        raise BadRequest(f"{key}: wrong type")
    return value


def _max_tokens(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest(f"{key}: must be a positive integer")
    return value


def anthropic_request(body: Mapping[str, Any], headers: dict[str, str]) -> tuple[UpstreamRequest, bool]:
    """An Anthropic Messages body → ``(UpstreamRequest, stream)``."""
    messages = _get(body, "messages", list)
    if messages is None or not all(isinstance(m, dict) for m in messages):
        raise BadRequest("messages: must be a list of message objects")
    stops = _get(body, "stop_sequences", list, [])
    if not all(isinstance(s, str) for s in stops):
        raise BadRequest("stop_sequences: must be a list of strings")
    tools = _get(body, "tools", list)
    if tools is not None and not all(isinstance(t, dict) for t in tools):
        raise BadRequest("tools: must be a list of tool objects")
    upstream = UpstreamRequest(
        model=_get(body, "model", str) or "",
        max_tokens=_max_tokens(body.get("max_tokens"), "max_tokens"),
        messages=messages,
        system=_get(body, "system", (str, list)),
        stop_sequences=stops,
        tools=tools,
        tool_choice=_get(body, "tool_choice", dict),
        headers=headers,
    )
    return upstream, bool(_get(body, "stream", bool, False))


def openai_request(body: Mapping[str, Any], headers: dict[str, str]) -> tuple[UpstreamRequest, bool, bool]:
    """An OpenAI chat-completions body → ``(UpstreamRequest, stream, include_usage)``."""
    raw_messages = _get(body, "messages", list)
    if raw_messages is None or not all(isinstance(m, dict) for m in raw_messages):
        raise BadRequest("messages: must be a list of message objects")
    system: list[str] = []
    messages: list[dict[str, Any]] = []
    for message in raw_messages:
        role = message.get("role")
        content = _openai_content(message.get("content"))
        if role in ("system", "developer"):
            system.append(
                content if isinstance(content, str) else " ".join(b.get("text", "") for b in content)
            )
        elif role == "tool":
            result = {"type": "tool_result", "tool_use_id": message.get("tool_call_id"), "content": content}
            messages.append({"role": "user", "content": [result]})
        elif role in ("user", "assistant"):
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            blocks += [_tool_use_from_call(c) for c in message.get("tool_calls") or [] if isinstance(c, dict)]
            messages.append({"role": role, "content": blocks})
        else:
            raise BadRequest("messages: a message has an unknown role")
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop or []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise BadRequest("stop: must be a string or a list of strings")
    key = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    limit = body.get(key) if body.get(key) is not None else OPENAI_DEFAULT_MAX_TOKENS
    options = _get(body, "stream_options", dict, {})
    upstream = UpstreamRequest(
        model=_get(body, "model", str) or "",
        max_tokens=_max_tokens(limit, key),
        messages=messages,
        system="\n".join(system) or None,
        stop_sequences=stops,
        tools=_openai_tools(_get(body, "tools", list)),
        tool_choice=_openai_tool_choice(body.get("tool_choice")),
        headers=headers,
    )
    return upstream, bool(_get(body, "stream", bool, False)), bool(options.get("include_usage"))


def _openai_content(content: Any) -> str | list[dict[str, Any]]:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        return [
            {"type": "text", "text": part.get("text", "")}
            if part.get("type") == "text"
            else {"type": "other"}
            for part in content
            if isinstance(part, dict)
        ]
    raise BadRequest("messages: content must be a string or a list of parts")


def _tool_use_from_call(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    try:
        arguments = json.loads(function.get("arguments") or "{}")
    except ValueError:
        arguments = {}
    return {"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": arguments}


def _openai_tools(tools: list[Any] | None) -> list[dict[str, Any]] | None:
    if tools is None:
        return None
    converted = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise BadRequest("tools: each tool must be {type: function, function: {name, parameters}}")
        schema = function.get("parameters") or {"type": "object", "properties": {}}
        converted.append(
            {"name": function["name"], "description": function.get("description", ""), "input_schema": schema}
        )
    return converted


def _openai_tool_choice(choice: Any) -> dict[str, Any] | None:
    if choice is None:
        return None
    if choice in ("auto", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    if isinstance(choice, dict) and isinstance((choice.get("function") or {}).get("name"), str):
        return {"type": "tool", "name": choice["function"]["name"]}
    raise BadRequest("tool_choice: must be auto, none, required or {type: function, function: {name}}")
