"""Outbound, the request: an Anthropic Messages request as the Chat Completions body the OpenAI-compatible adapter
(``upstream/openai_compat.py``) sends upstream.

Where OpenAI-compatible providers disagree about what they accept, the form produced here is the most widely
accepted one: plain strings wherever the content is text only (system, assistant, tool messages), content part
arrays only for user messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reference_server.openai_wire.common import Json, WireError, compact_json
from reference_server.upstream.base import UpstreamRequest


def anthropic_request_to_openai(
    request: UpstreamRequest,
    *,
    model: str,
    stream: bool = False,
    max_tokens_field: str = "max_tokens",
    stream_usage_option: bool = True,
) -> Json:
    """The Chat Completions body for ``request``. ``max_tokens_field`` is ``max_completion_tokens`` for
    OpenAI itself (its reasoning models refuse ``max_tokens``); most compatible providers only know
    ``max_tokens``. ``stream_usage_option=False`` leaves out ``stream_options``, for providers that refuse
    it (Mistral) and send usage in their last chunk anyway."""
    body: Json = {"model": model, "messages": anthropic_messages_to_openai(request.system, request.messages)}
    body[max_tokens_field] = request.max_tokens
    if request.stop_sequences:
        body["stop"] = list(request.stop_sequences)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    # OpenAI rejects an empty ``tools`` array, and ``tool_choice``/``parallel_tool_calls`` without tools.
    if request.tools:
        body["tools"] = [_tool_to_openai(tool) for tool in request.tools]
        if request.tool_choice is not None:
            choice, parallel = _tool_choice_to_openai(request.tool_choice)
            body["tool_choice"] = choice
            if parallel is False:
                body["parallel_tool_calls"] = False
    if stream:
        body["stream"] = True
        if stream_usage_option:
            # Without this, OpenAI's streams carry no token counts at all.
            body["stream_options"] = {"include_usage": True}
    return body


def anthropic_messages_to_openai(
    system: str | Sequence[Mapping[str, Any]] | None, messages: Sequence[Mapping[str, Any]]
) -> list[Json]:
    out: list[Json] = []
    if system is not None:
        out.append({"role": "system", "content": system if isinstance(system, str) else _join_text(system)})
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role == "user":
            out.extend(_user_to_openai(content))
        elif role == "assistant":
            out.append(_assistant_to_openai(content))
        else:
            raise WireError(f"cannot translate a message with role {role!r}")
    return out


def _join_text(blocks: Sequence[Mapping[str, Any]], separator: str = "\n\n") -> str:
    texts = []
    for block in blocks:
        if block.get("type") != "text" or not isinstance(block.get("text"), str):
            raise WireError(f"expected text blocks only, got {block.get('type')!r}")
        texts.append(block["text"])
    return separator.join(texts)


def _user_to_openai(content: Any) -> list[Json]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    if not isinstance(content, list) or not content:
        raise WireError("a user message needs string content or a non-empty list of blocks")
    # OpenAI carries each tool result as its own ``tool`` message, which must directly follow the assistant's
    # tool calls; so they go first, and whatever else the user said follows as one user message.
    tool_messages: list[Json] = []
    parts: list[Json] = []
    for block in content:
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "tool_result":
            tool_messages.append(
                {
                    "role": "tool",
                    "tool_call_id": block.get("tool_use_id"),
                    "content": _tool_result_content(block.get("content")),
                }
            )
        elif kind == "text":
            parts.append({"type": "text", "text": block.get("text", "")})
        elif kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(block.get("source"))}})
        else:
            raise WireError(f"cannot translate a user content block of type {kind!r}")
    return tool_messages + ([{"role": "user", "content": parts}] if parts else [])


def _tool_result_content(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return _join_text(content, separator="\n")
    raise WireError("cannot translate tool_result content that is neither a string nor text blocks")


def _image_url(source: Any) -> str:
    if isinstance(source, Mapping):
        if source.get("type") == "base64":
            return f"data:{source.get('media_type')};base64,{source.get('data')}"
        if source.get("type") == "url" and isinstance(source.get("url"), str):
            return str(source["url"])
    raise WireError("cannot translate an image whose source is neither base64 nor a URL")


def _assistant_to_openai(content: Any) -> Json:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    if not isinstance(content, list):
        raise WireError("an assistant message needs string content or a list of blocks")
    texts: list[str] = []
    tool_calls: list[Json] = []
    for block in content:
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            texts.append(block.get("text", ""))
        elif kind == "tool_use":
            tool_calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {
                        "name": block.get("name"),
                        "arguments": compact_json(block.get("input", {})),
                    },
                }
            )
        elif kind in ("thinking", "redacted_thinking"):
            continue  # Anthropic-only reasoning history: no other provider accepts it back
        else:
            raise WireError(f"cannot translate an assistant content block of type {kind!r}")
    message: Json = {"role": "assistant", "content": "".join(texts) if texts or not tool_calls else None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def _tool_to_openai(tool: Mapping[str, Any]) -> Json:
    if "input_schema" not in tool or tool.get("type") not in (None, "custom"):
        raise WireError(f"cannot translate the server tool {tool.get('name')!r} to a function tool")
    function: Json = {"name": tool.get("name")}
    if "description" in tool:
        function["description"] = tool["description"]
    function["parameters"] = tool["input_schema"]
    return {"type": "function", "function": function}


def _tool_choice_to_openai(choice: Mapping[str, Any]) -> tuple[Any, bool | None]:
    """``(tool_choice, parallel_tool_calls)``; the second is None when not to be sent."""
    kind = choice.get("type")
    parallel = False if choice.get("disable_parallel_tool_use") is True else None
    if kind == "auto":
        return "auto", parallel
    if kind == "any":
        return "required", parallel
    if kind == "none":
        return "none", None
    if kind == "tool" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}, parallel
    raise WireError(f"cannot translate tool_choice of type {kind!r}")
