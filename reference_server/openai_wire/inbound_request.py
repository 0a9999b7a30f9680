"""Inbound, the request: a client's Chat Completions body, as the Anthropic Messages request the gateway's own
``POST /v1/chat/completions`` route (``routes/chat_completions.py``) routes like any ``/v1/messages`` call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reference_server.openai_wire.common import Json, WireError, openai_text, tool_call_to_block


def openai_request_to_anthropic(body: Mapping[str, Any], *, default_max_tokens: int = 4096) -> Json:
    """An Anthropic Messages request body (the same keys a ``/v1/messages`` body has: ``model``,
    ``max_tokens``, ``messages`` and, when given, ``system``, ``stop_sequences``, ``temperature``, ``top_p``,
    ``tools``, ``tool_choice``, ``stream``) for an already validated Chat Completions body. ``model`` is
    passed through as asked; resolving aliases is the router's job. ``default_max_tokens`` fills in for
    OpenAI's optional limit, which Anthropic requires."""
    if body.get("n", 1) not in (1, None):
        raise WireError("only n=1 can be translated: Anthropic returns one choice")
    system, messages = openai_messages_to_anthropic(body.get("messages", []))
    max_tokens = body.get("max_completion_tokens")
    if max_tokens is None:
        max_tokens = body.get("max_tokens")
    out: Json = {
        "model": body.get("model"),
        "max_tokens": default_max_tokens if max_tokens is None else max_tokens,
        "messages": messages,
    }
    if system is not None:
        out["system"] = system
    stop = body.get("stop")
    if stop is not None:
        # An empty stop string can never match; Anthropic refuses it outright, so it is not passed on.
        out["stop_sequences"] = [x for x in ([stop] if isinstance(stop, str) else list(stop)) if x]
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = body[name]
    tools = body.get("tools")
    if tools:
        out["tools"] = [_tool_to_anthropic(tool) for tool in tools]
        choice = _tool_choice_to_anthropic(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice is not None:
            out["tool_choice"] = choice
    if body.get("stream"):
        out["stream"] = True
    return out


def include_usage_requested(body: Mapping[str, Any]) -> bool:
    """Whether a Chat Completions stream must end with the usage chunk."""
    options = body.get("stream_options")
    return isinstance(options, Mapping) and options.get("include_usage") is True


def openai_messages_to_anthropic(messages: Sequence[Mapping[str, Any]]) -> tuple[str | None, list[Json]]:
    """``(system, messages)``. System and developer messages, wherever they are, become the one ``system``
    string; consecutive ``tool`` messages and the user message after them become one user turn, since
    Anthropic wants all results of a turn's tool calls in the next user message."""
    system_texts: list[str] = []
    out: list[Json] = []
    collecting_results = False  # the last Anthropic message is a user turn built from tool messages
    for message in messages:
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system_texts.append(openai_text(content))
            continue
        if role == "tool":
            result: Json = {
                "type": "tool_result",
                "tool_use_id": message.get("tool_call_id"),
                "content": openai_text(content, separator="\n"),
            }
            if collecting_results:
                out[-1]["content"].append(result)
            else:
                out.append({"role": "user", "content": [result]})
                collecting_results = True
            continue
        if role == "user":
            if collecting_results:
                out[-1]["content"].extend(_user_blocks(content))
            else:
                out.append({"role": "user", "content": _user_content_to_anthropic(content)})
        elif role == "assistant":
            out.append({"role": "assistant", "content": _assistant_to_anthropic(message)})
        else:
            raise WireError(f"cannot translate a message with role {role!r}")
        collecting_results = False
    return ("\n\n".join(system_texts) if system_texts else None), out


def _user_content_to_anthropic(content: Any) -> str | list[Json]:
    return content if isinstance(content, str) else _user_blocks(content)


def _user_blocks(content: Any) -> list[Json]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise WireError("user content must be a string or a list of content parts")
    blocks: list[Json] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            blocks.append({"type": "image", "source": _image_source(url)})
        else:
            raise WireError(f"cannot translate a user content part of type {kind!r}")
    return blocks


def _image_source(url: Any) -> Json:
    if not isinstance(url, str):
        raise WireError("image_url needs a url string")
    if url.startswith("data:"):
        header, comma, data = url[len("data:") :].partition(",")
        media_type, _, encoding = header.partition(";")
        if not comma or encoding != "base64":
            raise WireError("only base64 data: URLs can be translated")
        return {"type": "base64", "media_type": media_type, "data": data}
    return {"type": "url", "url": url}


def _assistant_to_anthropic(message: Mapping[str, Any]) -> str | list[Json]:
    if message.get("function_call") is not None:
        raise WireError("the deprecated function_call cannot be translated; use tool_calls")
    text = openai_text(message.get("content"), separator="")
    tool_calls = message.get("tool_calls") or []
    if not tool_calls:
        return text
    blocks: list[Json] = [{"type": "text", "text": text}] if text else []
    blocks.extend(tool_call_to_block(call) for call in tool_calls)
    return blocks


def _tool_to_anthropic(tool: Mapping[str, Any]) -> Json:
    function = tool.get("function")
    if tool.get("type") != "function" or not isinstance(function, Mapping):
        raise WireError(f"cannot translate a tool of type {tool.get('type')!r}")
    out: Json = {"name": function.get("name")}
    if "description" in function:
        out["description"] = function["description"]
    # Anthropic requires a schema; OpenAI lets a parameterless function omit it.
    out["input_schema"] = function.get("parameters") or {"type": "object", "properties": {}}
    return out


def _tool_choice_to_anthropic(choice: Any, parallel_tool_calls: Any) -> Json | None:
    if choice is None:
        out: Json | None = {"type": "auto"} if parallel_tool_calls is False else None
    elif choice == "auto":
        out = {"type": "auto"}
    elif choice == "required":
        out = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        out = {"type": "tool", "name": choice["function"].get("name")}
    else:
        raise WireError(f"cannot translate tool_choice {choice!r}")
    if out is not None and parallel_tool_calls is False:
        out["disable_parallel_tool_use"] = True
    return out
