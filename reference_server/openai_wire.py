"""Translation between Anthropic Messages form and OpenAI Chat Completions form, both directions, both modes.

Pure functions and small state machines, no IO. Two users:

* the OpenAI-compatible adapter (``upstream/openai_compat.py``): ``anthropic_request_to_openai`` for the
  request, ``openai_completion_to_message`` for a JSON answer, ``OpenAIChunkTranslator`` for a chunk stream;
* the gateway's own ``POST /v1/chat/completions``: ``openai_request_to_anthropic`` for the request body,
  ``message_to_openai_completion`` for a JSON answer, ``anthropic_events_to_openai_chunks`` (or
  ``AnthropicEventTranslator``) for a stream.

Where OpenAI-compatible providers disagree about what they accept, the OpenAI form produced here is the most
widely accepted one: plain strings wherever the content is text only (system, assistant, tool messages),
content part arrays only for user messages.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reference_server.mutants import mutated

from .upstream.base import StreamEvent, UpstreamMessage, UpstreamRequest, Usage
from .upstream.finish_reasons import anthropic_to_openai, openai_to_anthropic

Json = dict[str, Any]


class WireError(ValueError):
    """A shape that cannot be translated into the other dialect."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ============================================================================================================
# Anthropic request → OpenAI request (the OpenAI-compatible adapter)
# ============================================================================================================


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
                    "function": {"name": block.get("name"), "arguments": _dumps(block.get("input", {}))},
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


# ============================================================================================================
# OpenAI request → Anthropic request (the gateway's /v1/chat/completions route)
# ============================================================================================================


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
            system_texts.append(_openai_text(content))
            continue
        if role == "tool":
            result: Json = {
                "type": "tool_result",
                "tool_use_id": message.get("tool_call_id"),
                "content": _openai_text(content, separator="\n"),
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


def _openai_text(content: Any, separator: str = "\n\n") -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, Mapping) or part.get("type") != "text":
                raise WireError("expected text content parts only")
            texts.append(str(part.get("text", "")))
        return separator.join(texts)
    raise WireError("content must be a string or a list of content parts")


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
    text = _openai_text(message.get("content"), separator="")
    tool_calls = message.get("tool_calls") or []
    if not tool_calls:
        return text
    blocks: list[Json] = [{"type": "text", "text": text}] if text else []
    blocks.extend(_tool_call_to_block(call) for call in tool_calls)
    return blocks


def _tool_call_to_block(call: Any) -> Json:
    if not isinstance(call, Mapping) or not isinstance(call.get("function"), Mapping):
        raise WireError("a tool call needs a function")
    function = call["function"]
    return {
        "type": "tool_use",
        "id": call.get("id") or _new_tool_id(),
        "name": function.get("name"),
        "input": _parse_arguments(function.get("arguments")),
    }


def _parse_arguments(arguments: Any) -> Json:
    if arguments is None or arguments == "":
        return {}  # several providers send "" for a function without parameters
    if isinstance(arguments, Mapping):
        return dict(arguments)
    try:
        parsed = json.loads(arguments)
    except (TypeError, ValueError) as exc:
        raise WireError("tool call arguments are not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise WireError("tool call arguments are not a JSON object")
    return parsed


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


# ============================================================================================================
# OpenAI answer → Anthropic answer (the OpenAI-compatible adapter)
# ============================================================================================================


def matched_stop_sequence(choice: Mapping[str, Any], stop_sequences: Sequence[str]) -> str | None:
    """vLLM (and the scripted upstream) report the matched stop string as the choice's ``stop_reason``; it
    counts only if it is one of the request's sequences (vLLM also puts token ids there)."""
    value = choice.get("stop_reason")
    return value if isinstance(value, str) and value in stop_sequences else None


def openai_completion_to_message(
    body: Mapping[str, Any], *, stop_sequences: Sequence[str] = ()
) -> UpstreamMessage:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise WireError("the completion has no choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise WireError("the completion's choice has no message")
    content: list[Json] = []
    text = _openai_text(message.get("content"), separator="")
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal and not text:
        text = refusal
    if text:
        content.append({"type": "text", "text": text})
    content.extend(_tool_call_to_block(call) for call in message.get("tool_calls") or [])
    stop_reason, stop_sequence = openai_to_anthropic(
        choice.get("finish_reason"), matched_stop_sequence(choice, stop_sequences)
    )
    if isinstance(refusal, str) and refusal:
        stop_reason, stop_sequence = "refusal", None
    return UpstreamMessage(
        id=_message_id(body.get("id")),
        content=content,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        usage=openai_usage(body.get("usage")),
    )


def openai_usage(usage: Any) -> Usage:
    if not isinstance(usage, Mapping):
        return Usage(input_tokens=0, output_tokens=0)
    return Usage(
        input_tokens=_count(usage.get("prompt_tokens")), output_tokens=_count(usage.get("completion_tokens"))
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _message_id(upstream_id: Any) -> str:
    if isinstance(upstream_id, str) and upstream_id:
        return upstream_id if upstream_id.startswith("msg_") else f"msg_{upstream_id}"
    return f"msg_{uuid.uuid4().hex}"


def _new_tool_id() -> str:
    return f"toolu_{uuid.uuid4().hex[:24]}"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class _ToolCall:
    id: str | None
    name: str | None
    pending: list[str] = field(default_factory=list)
    """Argument fragments that arrived before the name, replayed when the block opens."""
    block: int | None = None
    closed: bool = False


class OpenAIChunkTranslator:
    """Turns Chat Completions chunks into Anthropic stream events as they arrive.

    ``feed`` each parsed ``data:`` chunk, and call ``finish`` on ``data: [DONE]`` (and only then: a stream
    without it was cut, which the caller reports as a drop). ``message_start`` cannot know the input tokens,
    which OpenAI sends only in its last chunk, so it says 0 and the ``message_delta`` usage carries both
    cumulative counts. Raises ``WireError`` when the stream cannot be rendered in Anthropic's grammar: a tool
    call whose arguments do not join to a JSON object, or fragments of a tool call after another block began.
    """

    def __init__(self, *, model: str, stop_sequences: Sequence[str] = ()) -> None:
        self.model = model
        self.stop_sequences = list(stop_sequences)
        self.finish_reason: str | None = None
        self._started = False
        self._next_block = 0
        self._open: tuple[str, int] | None = None  # ("text", block) or ("tool", openai tool index)
        self._tools: dict[int, _ToolCall] = {}
        self._args: list[str] = []  # fragments of the open tool block
        self._matched_stop: str | None = None
        self._refused = False
        self._usage = Usage(input_tokens=0, output_tokens=0)

    def feed(self, chunk: Mapping[str, Any]) -> list[StreamEvent]:
        events = self._start(chunk.get("id"))
        usage = chunk.get("usage")
        if not isinstance(usage, Mapping):  # Groq puts it under x_groq
            extra = chunk.get("x_groq")
            usage = extra.get("usage") if isinstance(extra, Mapping) else None
        if isinstance(usage, Mapping):
            self._usage = openai_usage(usage)
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if isinstance(delta, Mapping):
                events.extend(self._delta(delta))
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
                self._matched_stop = matched_stop_sequence(choice, self.stop_sequences)
                events.extend(self._close())
        return events

    def finish(self) -> list[StreamEvent]:
        events = self._start(None)
        events.extend(self._close())
        unopened = [call for call in self._tools.values() if call.block is None]
        if unopened:
            raise WireError("a streamed tool call never got a name")
        stop_reason, stop_sequence = openai_to_anthropic(self.finish_reason, self._matched_stop)
        if self._refused:
            stop_reason, stop_sequence = "refusal", None
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": {
                    "input_tokens": self._usage.input_tokens,
                    "output_tokens": self._usage.output_tokens,
                },
            }
        )
        events.append({"type": "message_stop"})
        return events

    def _start(self, upstream_id: Any) -> list[StreamEvent]:
        if self._started:
            return []
        self._started = True
        message: Json = {
            "id": _message_id(upstream_id),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return [{"type": "message_start", "message": message}]

    def _delta(self, delta: Mapping[str, Any]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for key in ("content", "refusal"):
            text = delta.get(key)
            if text is not None and not isinstance(text, str):
                raise WireError(f"a streamed delta's {key} is not a string")
            if isinstance(text, str) and text:
                self._refused = self._refused or key == "refusal"
                events.extend(self._text(text))
        for position, call in enumerate(delta.get("tool_calls") or []):
            if isinstance(call, Mapping):
                events.extend(self._tool_fragment(call, position))
        return events

    def _text(self, text: str) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if self._open is None or self._open[0] != "text":
            events.extend(self._close())
            events.append(self._block_start({"type": "text", "text": ""}))
            self._open = ("text", self._next_block - 1)
        events.append(self._block_delta({"type": "text_delta", "text": text}))
        return events

    def _tool_fragment(self, fragment: Mapping[str, Any], position: int) -> list[StreamEvent]:
        index = fragment.get("index")
        if not isinstance(index, int):
            # Some providers leave out the index: a new id starts a new call, else it continues the last one.
            if fragment.get("id") and all(call.id != fragment.get("id") for call in self._tools.values()):
                index = len(self._tools)
            else:
                index = max(self._tools, default=position)
        function = fragment.get("function")
        function = function if isinstance(function, Mapping) else {}
        call = self._tools.get(index)
        if call is None:
            call = self._tools[index] = _ToolCall(id=None, name=None)
        if call.closed:
            raise WireError(f"tool call {index} continued after another content block had started")
        if call.block is None:
            call.id = call.id or _str_or_none(fragment.get("id"))
            call.name = call.name or _str_or_none(function.get("name"))
        events: list[StreamEvent] = []
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            raise WireError("a streamed tool call's arguments are not a string")
        if isinstance(arguments, str) and arguments:
            call.pending.append(arguments)
        if call.block is None and call.name:
            events.extend(self._close())
            events.append(
                self._block_start(
                    {"type": "tool_use", "id": call.id or _new_tool_id(), "name": call.name, "input": {}}
                )
            )
            call.block = self._next_block - 1
            self._open = ("tool", index)
        if call.block is not None:
            for piece in call.pending:
                self._args.append(piece)
                events.append(self._block_delta({"type": "input_json_delta", "partial_json": piece}))
            call.pending.clear()
        return events

    def _block_start(self, block: Json) -> StreamEvent:
        event = {"type": "content_block_start", "index": self._next_block, "content_block": block}
        self._next_block += 1
        return event

    def _block_delta(self, delta: Json) -> StreamEvent:
        return {"type": "content_block_delta", "index": self._next_block - 1, "delta": delta}

    def _close(self) -> list[StreamEvent]:
        if self._open is None:
            return []
        kind, key = self._open
        self._open = None
        events: list[StreamEvent] = []
        if kind == "tool":
            call = self._tools[key]
            call.closed = True
            if not self._args:
                # Anthropic's grammar wants the fragments to join to an object, even for no arguments.
                events.append(self._block_delta({"type": "input_json_delta", "partial_json": "{}"}))
                self._args.append("{}")
            joined, self._args = "".join(self._args), []
            try:
                parsed = json.loads(joined)
            except ValueError as exc:
                raise WireError(
                    f"the arguments of streamed tool call {call.name!r} are not valid JSON"
                ) from exc
            if not isinstance(parsed, dict):
                raise WireError(f"the arguments of streamed tool call {call.name!r} are not a JSON object")
        events.append({"type": "content_block_stop", "index": self._next_block - 1})
        return events


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# ============================================================================================================
# Anthropic answer → OpenAI answer (the gateway's /v1/chat/completions route)
# ============================================================================================================


def message_to_openai_completion(
    message: UpstreamMessage, *, model: str, completion_id: str | None = None, created: int | None = None
) -> Json:
    """A ``chat.completion`` object. ``model`` is the name to report (the canonical one)."""
    texts = [block.get("text", "") for block in message.content if block.get("type") == "text"]
    tool_calls = [_tool_call(block) for block in message.content if block.get("type") == "tool_use"]
    reply: Json = {"role": "assistant", "content": "".join(texts) if texts or not tool_calls else None}
    if tool_calls:
        reply["tool_calls"] = tool_calls
    reply["refusal"] = None
    usage = message.usage
    return {
        "id": completion_id or _completion_id(message.id),
        "object": "chat.completion.chunk" if mutated("completion-object-chunk") else "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": anthropic_to_openai(message.stop_reason),
            }
        ],
        "usage": _openai_usage(usage.input_tokens, usage.output_tokens),
    }


def _tool_call(block: Mapping[str, Any]) -> Json:
    return {
        "id": block.get("id"),
        "type": "function",
        "function": {"name": block.get("name"), "arguments": _dumps(block.get("input", {}))},
    }


def _openai_usage(input_tokens: int, output_tokens: int) -> Json:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def _completion_id(message_id: str) -> str:
    return f"chatcmpl-{message_id.removeprefix('msg_')}" if message_id else f"chatcmpl-{uuid.uuid4().hex}"


class AnthropicEventTranslator:
    """Turns Anthropic stream events into ``chat.completion.chunk`` dicts.

    The first chunk carries the role; text deltas become ``content``; each ``tool_use`` block becomes a tool
    call numbered by its position among the tool calls (OpenAI's ``index``), opened with its id and name and
    continued with argument fragments; ``message_stop`` gives the chunk with ``finish_reason`` and, when
    ``include_usage``, the usage chunk with ``choices: []``. An ``error`` event gives one
    ``{"error": {...}}`` dict, the way OpenAI reports an error mid-stream. The route writes each dict as
    ``data: <json>`` and, after a normal end, ``data: [DONE]``. Other block kinds (thinking) and ``ping``
    produce nothing.
    """

    def __init__(
        self, *, model: str, include_usage: bool, completion_id: str | None = None, created: int | None = None
    ) -> None:
        self.model = model
        self.include_usage = include_usage
        self.completion_id = completion_id
        self.created = int(time.time()) if created is None else created
        self._tool_index: dict[int, int] = {}  # Anthropic block index → OpenAI tool call index
        self._stop_reason: str | None = None
        self._input_tokens = 0
        self._output_tokens = 0

    def feed(self, event: Mapping[str, Any]) -> list[Json]:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message")
            message = message if isinstance(message, Mapping) else {}
            if self.completion_id is None:
                self.completion_id = _completion_id(str(message.get("id") or ""))
            self._take_usage(message.get("usage"))
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "content_block_delta":
            return self._block_delta(event)
        if kind == "message_delta":
            delta = event.get("delta")
            if isinstance(delta, Mapping) and delta.get("stop_reason"):
                self._stop_reason = str(delta["stop_reason"])
            self._take_usage(event.get("usage"))
            return []
        if kind == "message_stop":
            chunks = [self._chunk({}, finish_reason=anthropic_to_openai(self._stop_reason))]
            if self.include_usage:
                usage_chunk = self._envelope([])
                usage_chunk["usage"] = _openai_usage(self._input_tokens, self._output_tokens)
                chunks.append(usage_chunk)
            return chunks
        if kind == "error":
            error = event.get("error")
            error = error if isinstance(error, Mapping) else {}
            return [
                {
                    "error": {
                        "message": error.get("message", "upstream error"),
                        "type": error.get("type", "api_error"),
                        "param": None,
                        "code": None,
                    }
                }
            ]
        return []

    def _block_start(self, event: Mapping[str, Any]) -> list[Json]:
        block = event.get("content_block")
        block = block if isinstance(block, Mapping) else {}
        if block.get("type") == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        if block.get("type") != "tool_use":
            return []
        tool_index = self._tool_index[int(event.get("index", 0))] = len(self._tool_index)
        call = {
            "index": tool_index,
            "id": block.get("id"),
            "type": "function",
            "function": {"name": block.get("name"), "arguments": ""},
        }
        return [self._chunk({"tool_calls": [call]})]

    def _block_delta(self, event: Mapping[str, Any]) -> list[Json]:
        delta = event.get("delta")
        delta = delta if isinstance(delta, Mapping) else {}
        if delta.get("type") == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        tool_index = self._tool_index.get(int(event.get("index", -1)))
        if delta.get("type") == "input_json_delta" and delta.get("partial_json") and tool_index is not None:
            call = {"index": tool_index, "function": {"arguments": delta["partial_json"]}}
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _take_usage(self, usage: Any) -> None:
        if isinstance(usage, Mapping):
            if "input_tokens" in usage:
                self._input_tokens = _count(usage.get("input_tokens"))
            if "output_tokens" in usage:
                self._output_tokens = _count(usage.get("output_tokens"))

    def _envelope(self, choices: list[Json]) -> Json:
        return {
            "id": self.completion_id or _completion_id(""),
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }

    def _chunk(self, delta: Json, finish_reason: str | None = None) -> Json:
        chunk = self._envelope(
            [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        )
        if self.include_usage:
            chunk["usage"] = None  # as OpenAI does: every chunk but the last says usage: null
        return chunk


async def anthropic_events_to_openai_chunks(
    events: AsyncIterator[StreamEvent],
    *,
    model: str,
    include_usage: bool,
    completion_id: str | None = None,
    created: int | None = None,
) -> AsyncIterator[Json]:
    """``AnthropicEventTranslator`` over an async iterator. An ``UpstreamError`` raised by ``events`` is not
    caught: the route decides how to report it (and records the outcome)."""
    translator = AnthropicEventTranslator(
        model=model, include_usage=include_usage, completion_id=completion_id, created=created
    )
    async for event in events:
        for chunk in translator.feed(event):
            yield chunk
        if event.get("type") in ("message_stop", "error"):
            return
