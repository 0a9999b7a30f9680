"""The scripted upstream over real HTTP, for adapters and gateways that talk to an upstream over the network.

Routes:
- ``POST /v1/messages``: Anthropic Messages, JSON or SSE (``event: <type>\\ndata: <json>\\n\\n``).
- ``POST /v1/chat/completions``: OpenAI-compatible, JSON or ``data:`` chunks ending ``data: [DONE]``.
- ``GET /_received`` / ``DELETE /_received``: the last 200 requests received (method, path, lower-case
  headers, JSON body), newest last, so tests can check what a gateway sent upstream; DELETE clears them.

Each body is first held to the rules of the provider the route stands for (``provider_rules``): what Anthropic or
OpenAI would refuse (a wrong type, an unknown role or field, a missing field, a value out of range, a model this
upstream does not serve) gets that provider's status and error body, quoting nothing from the request.

Both dialects are converted to one ``UpstreamRequest`` and answered from the same ``Script`` as the in-process
adapter. A scripted drop closes the connection mid-body, with no terminating event and no final chunk.

Run it: ``python -m reference_server.upstream.scripted.server --port 8099``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import web

from reference_server.upstream.base import UpstreamError, UpstreamRequest, error_type_for_status
from reference_server.upstream.finish_reasons import anthropic_to_openai
from reference_server.upstream.scripted.engine import (
    ENDLESS_MAX_DELTAS,
    Script,
    TextBlock,
    ToolUseBlock,
    anthropic_events,
    anthropic_message,
    build_script,
    corrupt_document,
    corrupt_stream,
    endless_deltas,
    first_text_delta,
    is_anthropic_delta,
    is_anthropic_end,
    pace,
    total_delay,
    upfront_error,
)
from reference_server.upstream.scripted.provider_rules import (
    ProviderRefusal,
    ServedModels,
    check_anthropic,
    check_openai,
    default_served_models,
)

T = TypeVar("T")
RECEIVED_KEY: web.AppKey[deque[dict[str, Any]]] = web.AppKey("received")
SERVED_KEY: web.AppKey[ServedModels] = web.AppKey("served")
RECEIVED_LIMIT = 200
OPENAI_DEFAULT_MAX_TOKENS = 4096
OPENAI_CREATED = 1_700_000_000
"""A fixed ``created`` timestamp: answers stay byte-for-byte reproducible."""

ErrorRenderer = Callable[[int, str, str], web.Response]
RefusalRenderer = Callable[[ProviderRefusal], web.Response]


class BadRequest(ValueError):
    """A request body this server cannot read: answered with a 400 in the route's dialect."""


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


# --- Error bodies ---------------------------------------------------------------------------------


def anthropic_error(status: int, error_type: str, message: str) -> web.Response:
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return web.json_response(body, status=status, headers=_retry_after(status))


def openai_error(status: int, error_type: str, message: str) -> web.Response:
    """OpenAI's error shape. ``type`` is OpenAI's category; ``code`` keeps Anthropic's precise error type so
    an adapter can map it back without guessing from the status."""
    if status == 429:
        category = "rate_limit_exceeded"
    elif status >= 500:
        category = "server_error"
    else:
        category = "invalid_request_error"
    body = {"error": {"message": message, "type": category, "param": None, "code": error_type}}
    return web.json_response(body, status=status, headers=_retry_after(status))


def anthropic_refusal(refusal: ProviderRefusal) -> web.Response:
    """What Anthropic answers for a request it will not take (``provider_rules``)."""
    return anthropic_error(refusal.status, refusal.error_type, refusal.message)


def openai_refusal(refusal: ProviderRefusal) -> web.Response:
    """What OpenAI answers for a request it will not take: its own ``param`` and ``code``
    (``model_not_found``, ``invalid_type``, ...)."""
    error = {
        "message": refusal.message,
        "type": "invalid_request_error",
        "param": refusal.param,
        "code": refusal.code,
    }
    return web.json_response({"error": error}, status=refusal.status)


def _retry_after(status: int) -> dict[str, str]:
    return {"retry-after": "1"} if status in (429, 529) else {}


# --- Reading requests -----------------------------------------------------------------------------


async def _read_body(request: web.Request) -> dict[str, Any]:
    """Record the request for ``/_received``, then return its JSON object body."""
    raw = await request.read()
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = None
    request.app[RECEIVED_KEY].append(
        {
            "method": request.method,
            "path": request.path,
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "json": body,
        }
    )
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


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


def _forwarded_headers(request: web.Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


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


# --- OpenAI renderings (straight from the Script, independent of the Anthropic ones) --------------


def _openai_text(script: Script) -> str | None:
    """The message content: null only beside tool calls, as OpenAI does; an empty answer is ``""``."""
    texts = [b.text for b in script.blocks if isinstance(b, TextBlock)]
    if texts:
        return "".join(texts)
    return None if any(isinstance(b, ToolUseBlock) for b in script.blocks) else ""


def _openai_call_id(block: ToolUseBlock) -> str:
    return "call_" + block.id.removeprefix("toolu_")


def _finish(script: Script) -> dict[str, Any]:
    """finish_reason, plus vLLM's ``stop_reason`` naming the matched stop sequence, so that an adapter can
    tell Anthropic's ``stop_sequence`` from ``end_turn`` (both are OpenAI's ``stop``)."""
    finish: dict[str, Any] = {"finish_reason": anthropic_to_openai(script.stop_reason)}
    if script.stop_sequence is not None:
        finish["stop_reason"] = script.stop_sequence
    return finish


def _openai_usage(script: Script) -> dict[str, int]:
    total = script.input_tokens + script.output_tokens
    return {
        "prompt_tokens": script.input_tokens,
        "completion_tokens": script.output_tokens,
        "total_tokens": total,
    }


def openai_completion(script: Script) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": _openai_text(script)}
    calls = [
        {
            "id": _openai_call_id(b),
            "type": "function",
            "function": {"name": b.name, "arguments": "".join(b.fragments)},
        }
        for b in script.blocks
        if isinstance(b, ToolUseBlock)
    ]
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-" + script.hex,
        "object": "chat.completion",
        "created": OPENAI_CREATED,
        "model": script.model,
        "choices": [{"index": 0, "message": message, **_finish(script)}],
        "usage": _openai_usage(script),
    }


def openai_chunks(script: Script, *, include_usage: bool) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` sequence (without the ``[DONE]`` sentinel)."""
    base: dict[str, Any] = {
        "id": "chatcmpl-" + script.hex,
        "object": "chat.completion.chunk",
        "created": OPENAI_CREATED,
        "model": script.model,
    }
    if include_usage:
        base["usage"] = None  # as OpenAI does: every chunk but the last carries "usage": null

    def chunk(delta: dict[str, Any], finish: dict[str, Any] | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, **(finish or {"finish_reason": None})}
        return {**base, "choices": [choice]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    call_index = 0
    for block in script.blocks:
        if isinstance(block, TextBlock):
            chunks.extend(chunk({"content": text}) for text in block.deltas)
            continue
        opening = {"name": block.name, "arguments": ""}
        call = {"index": call_index, "id": _openai_call_id(block), "type": "function", "function": opening}
        chunks.append(chunk({"tool_calls": [call]}))
        chunks.extend(
            chunk({"tool_calls": [{"index": call_index, "function": {"arguments": f}}]})
            for f in block.fragments
        )
        call_index += 1
    chunks.append(chunk({}, _finish(script)))
    if include_usage:
        chunks.append({**base, "choices": [], "usage": _openai_usage(script)})
    return chunks


def _is_openai_delta(chunk: dict[str, Any]) -> bool:
    """A chunk carrying content: text, or tool-call argument text (not the opening chunk of a call)."""
    for choice in chunk.get("choices", []):
        delta = choice.get("delta", {})
        if delta.get("content") or any(
            c.get("function", {}).get("arguments") for c in delta.get("tool_calls", [])
        ):
            return True
    return False


def _is_openai_end(chunk: dict[str, Any]) -> bool:
    return any(choice.get("finish_reason") is not None for choice in chunk.get("choices", []))


# --- Handlers -------------------------------------------------------------------------------------


YIELD_EVERY = 64
"""An unpaced stream hands the event loop back every this many items."""


async def _stream(
    request: web.Request,
    paced: Iterable[tuple[float, T]],
    dropped: bool,
    frame: Callable[[T], str],
    trailer: str = "",
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    try:
        for count, (delay, item) in enumerate(paced, 1):
            await _sleep(delay)
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            await response.write(frame(item).encode())
    except ConnectionError:  # the gateway gave up on the stream (an endless one, say): nothing left to do
        return response
    if dropped:
        # Die like a broken upstream: flush what was sent, then close the socket without the chunked-encoding
        # terminator. aiohttp's final write_eof then meets a closed transport, which it treats as a reset.
        if request.transport is not None:
            request.transport.close()
        return response
    if trailer:
        await response.write(trailer.encode())
    await response.write_eof()
    return response


def _sse(event: dict[str, Any] | str) -> str:
    if isinstance(event, str):  # corrupt=bad_json: the raw data of an event that is not JSON
        return f"event: content_block_delta\ndata: {event}\n\n"
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"


def _data(chunk: dict[str, Any] | str) -> str:
    return f"data: {chunk if isinstance(chunk, str) else json.dumps(chunk)}\n\n"


def _hostile_items(
    paced: list[tuple[float, Any]], kind: str | None, *, openai: bool
) -> Iterable[tuple[float, Any]]:
    """The paced stream as the ``corrupt`` directive wants it (unchanged without one)."""
    if kind is None:
        return paced
    if kind == "endless":
        at = first_text_delta(paced, openai=openai)
        delay = paced[at][0]
        return itertools.chain(
            paced[:at], ((delay, item) for item in endless_deltas(paced[at][1], openai=openai))
        )
    return corrupt_stream(paced, kind, openai=openai)


async def _hostile_document(
    request: web.Request, document: dict[str, Any], kind: str, *, openai: bool
) -> web.StreamResponse:
    """A non-streamed answer as the ``corrupt`` directive wants it; ``endless`` is a JSON body that never ends
    (until ``ENDLESS_MAX_DELTAS`` pieces of it, the upstream's own budget)."""
    if kind != "endless":
        hostile = corrupt_document(document, kind, openai=openai)
        body = hostile if isinstance(hostile, bytes) else json.dumps(hostile).encode()
        return web.Response(body=body, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    try:
        await response.write(b'{"id": "msg_endless", "content": [{"type": "text", "text": "')
        piece = b" amber" * 1024
        for count in range(ENDLESS_MAX_DELTAS // 64):  # 192 MB: past any gateway's read limit
            await response.write(piece)
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
    except ConnectionError:
        return response
    if request.transport is not None:  # the budget is spent: end the way an endless body would, cut off
        request.transport.close()
    return response


async def _answer(
    request: web.Request,
    error: ErrorRenderer,
    refuse: RefusalRenderer,
    check: Callable[[dict[str, Any], ServedModels], None],
    respond: Callable[[dict[str, Any], dict[str, str]], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """What both routes share: read, hold the body to the provider's rules, turn every way of failing before
    the first byte into an error body."""
    try:
        body = await _read_body(request)
        check(body, request.app[SERVED_KEY])
        return await respond(body, _forwarded_headers(request))
    except ProviderRefusal as refusal:
        return refuse(refusal)
    except UpstreamError as exc:
        return error(exc.status, exc.error_type, exc.message)
    except ValueError as exc:  # BadRequest and DirectiveError (which quotes no value, only an unknown key)
        return error(400, error_type_for_status(400), str(exc))


async def _raise_upfront_failure(script: Script, *, streaming: bool) -> None:
    failure = upfront_error(script.directives, streaming=streaming)
    if failure is not None:
        await _sleep(script.directives.first_byte_ms / 1000)
        raise failure


async def messages(request: web.Request) -> web.StreamResponse:
    async def respond(body: dict[str, Any], headers: dict[str, str]) -> web.StreamResponse:
        upstream, stream = anthropic_request(body, headers)
        script = build_script(upstream)
        await _raise_upfront_failure(script, streaming=stream)
        kind = script.directives.corrupt
        if not stream:
            await _sleep(total_delay(script))
            if kind is not None:
                return await _hostile_document(request, anthropic_message(script), kind, openai=False)
            return web.json_response(anthropic_message(script))
        await _sleep(script.directives.first_byte_ms / 1000)
        events = anthropic_events(script)
        paced, dropped = pace(events, script.directives, is_delta=is_anthropic_delta, is_end=is_anthropic_end)
        return await _stream(request, _hostile_items(paced, kind, openai=False), dropped, _sse)

    return await _answer(request, anthropic_error, anthropic_refusal, check_anthropic, respond)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    async def respond(body: dict[str, Any], headers: dict[str, str]) -> web.StreamResponse:
        upstream, stream, include_usage = openai_request(body, headers)
        script = build_script(upstream)
        await _raise_upfront_failure(script, streaming=stream)
        kind = script.directives.corrupt
        if not stream:
            await _sleep(total_delay(script))
            if kind is not None:
                return await _hostile_document(request, openai_completion(script), kind, openai=True)
            return web.json_response(openai_completion(script))
        await _sleep(script.directives.first_byte_ms / 1000)
        chunks = openai_chunks(script, include_usage=include_usage)
        paced, dropped = pace(chunks, script.directives, is_delta=_is_openai_delta, is_end=_is_openai_end)
        trailer = "" if kind == "truncate" else "data: [DONE]\n\n"
        return await _stream(
            request, _hostile_items(paced, kind, openai=True), dropped, _data, trailer=trailer
        )

    return await _answer(request, openai_error, openai_refusal, check_openai, respond)


async def received(request: web.Request) -> web.Response:
    log = request.app[RECEIVED_KEY]
    return web.json_response(list(log))


async def clear_received(request: web.Request) -> web.Response:
    request.app[RECEIVED_KEY].clear()
    return web.Response(status=204)


def served_models(models: Iterable[str] = (), *, any_model: bool = False) -> ServedModels:
    """The default served set (``provider_rules.default_served_models``) extended by ``models``; every model
    with ``any_model``."""
    return ServedModels(None if any_model else default_served_models() | frozenset(models))


def build_app(served: ServedModels | None = None) -> web.Application:
    """The app; ``served`` defaults to ``served_models()``."""
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app[RECEIVED_KEY] = deque(maxlen=RECEIVED_LIMIT)
    app[SERVED_KEY] = served if served is not None else served_models()
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/_received", received)
    app.router.add_delete("/_received", clear_received)
    return app


async def start_server(
    host: str = "127.0.0.1", port: int = 0, served: ServedModels | None = None
) -> tuple[web.AppRunner, int]:
    """Start on ``host:port`` (0 picks a free port); returns the runner (``await runner.cleanup()`` stops it)
    and the bound port. ``served``: the models it answers for (``served_models()`` by default)."""
    runner = web.AppRunner(build_app(served), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, int(runner.addresses[0][1])


def run(host: str = "127.0.0.1", port: int = 8099, served: ServedModels | None = None) -> None:
    """Serve until interrupted."""
    web.run_app(build_app(served), host=host, port=port, access_log=None)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="The scripted upstream over HTTP (Anthropic and OpenAI routes)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--model", action="append", default=[], help="also serve this model (repeatable)")
    parser.add_argument("--any-model", action="store_true", help="answer for any model name")
    args = parser.parse_args(argv)
    run(args.host, args.port, served_models(args.model, any_model=args.any_model))


if __name__ == "__main__":
    main()
