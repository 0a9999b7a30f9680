"""The adapter for OpenAI-compatible backends (OpenAI, Mistral, Groq, Together, vLLM, the scripted upstream
over HTTP): it speaks Chat Completions on the wire and Anthropic form to the gateway, translating with
the outbound half of ``openai_wire`` at this edge."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from ..openai_wire.common import WireError
from ..openai_wire.outbound_answer import OpenAIChunkTranslator, openai_completion_to_message
from ..openai_wire.outbound_request import anthropic_request_to_openai
from .answer_check import MAX_ANSWER_BYTES, MAX_STREAM_BYTES, InvalidAnswer
from .base import Capabilities, StreamEvent, UpstreamError, UpstreamMessage, UpstreamRequest
from .http_session import (
    SessionHolder,
    SSEError,
    endpoint,
    error_from_response,
    forwarded_headers,
    http_error,
    iter_sse,
    network_error,
    normalize_status,
    post,
    read_bounded,
    stream_ended_early,
)

# Error types OpenAI-compatible providers put in an error sent mid-stream, by the status they stand for.
_STATUS_BY_OPENAI_ERROR_TYPE = {
    "invalid_request_error": 400,
    "rate_limit_exceeded": 429,
    "rate_limit_error": 429,
    "tokens": 429,
    "requests": 429,
    "server_error": 500,
    "api_error": 500,
    "overloaded_error": 529,
    "service_unavailable": 529,
}


class OpenAICompatAdapter:
    def __init__(
        self,
        slug: str,
        base_url: str,
        api_key: str,
        capabilities: Capabilities,
        session_holder: SessionHolder,
        upstream_model: str | None = None,
        *,
        max_tokens_field: str = "max_tokens",
        stream_usage_option: bool = True,
        short_tool_ids: bool = False,
    ) -> None:
        """``max_tokens_field``, ``stream_usage_option`` and ``short_tool_ids`` absorb provider quirks; see
        ``registry.BackendSpec``."""
        self.slug = slug
        self.capabilities = capabilities
        self.upstream_model = upstream_model
        self.max_tokens_field = max_tokens_field
        self.stream_usage_option = stream_usage_option
        self.short_tool_ids = short_tool_ids
        self._url = endpoint(base_url, "/v1/chat/completions")
        self._api_key = api_key
        self._holder = session_holder

    def __repr__(self) -> str:  # no key in reprs, logs or tracebacks
        return f"OpenAICompatAdapter(slug={self.slug!r}, url={self._url!r})"

    async def chat(self, request: UpstreamRequest) -> UpstreamMessage:
        response = await self._send(request, stream=False)
        async with response:
            if response.status != 200:
                raise await error_from_response(self.slug, response, anthropic=False)
            raw = await read_bounded(self.slug, self._url, response, MAX_ANSWER_BYTES)
        try:
            payload = json.loads(raw)
            if not isinstance(payload, dict):
                raise WireError("the completion is not a JSON object")
            return openai_completion_to_message(payload, stop_sequences=request.stop_sequences)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            # WireError is a ValueError, as is bad JSON; the others are a completion of the wrong shape.
            raise self._untranslatable(exc) from exc

    async def stream_chat(self, request: UpstreamRequest) -> AsyncIterator[StreamEvent]:
        response = await self._send(request, stream=True)
        translator = OpenAIChunkTranslator(model=request.model, stop_sequences=request.stop_sequences)
        async with response:
            if response.status != 200:
                raise await error_from_response(self.slug, response, anthropic=False)
            if "text/event-stream" not in response.headers.get("Content-Type", ""):
                raise InvalidAnswer(self.slug, "a stream was asked for and the answer is not an event stream")
            try:
                async for message in iter_sse(response.content, MAX_STREAM_BYTES):
                    if message.data.strip() == "[DONE]":
                        for event in translator.finish():
                            yield event
                        return
                    for event in translator.feed(self._chunk(message.data)):
                        yield event
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise network_error(self.slug, self._url, exc, dropped=True) from exc
            except SSEError as exc:
                raise InvalidAnswer(self.slug, str(exc)) from exc
            except (WireError, TypeError, KeyError, AttributeError) as exc:
                raise self._untranslatable(exc) from exc
        # Every OpenAI-compatible stream ends with ``data: [DONE]``; without it the call may be unfinished.
        raise stream_ended_early(self.slug, "data: [DONE]")

    async def close(self) -> None:
        await self._holder.close()

    # --- helpers -------------------------------------------------------------------------------------------

    async def _send(self, request: UpstreamRequest, *, stream: bool) -> aiohttp.ClientResponse:
        if request.tools and not self.capabilities.tools:
            # The gateway answers 422 before dispatch; this only guards against sending tools regardless.
            raise UpstreamError(400, "invalid_request_error", f"backend '{self.slug}' does not support tools")
        try:
            body = anthropic_request_to_openai(
                request,
                model=self.upstream_model or request.model,
                stream=stream,
                max_tokens_field=self.max_tokens_field,
                stream_usage_option=self.stream_usage_option,
            )
        except WireError as exc:
            raise UpstreamError(
                400, "invalid_request_error", f"backend '{self.slug}' cannot take this request: {exc.message}"
            ) from exc
        if self.short_tool_ids:
            shorten_tool_ids(body)
        headers = forwarded_headers(request.headers)
        headers.update(
            {
                "content-type": "application/json",
                "accept": "text/event-stream" if stream else "application/json",
            }
        )
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        encoded = json.dumps(body, ensure_ascii=False).encode()
        return await post(self._holder, self.slug, self._url, encoded, headers)

    def _chunk(self, data: str) -> Mapping[str, Any]:
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):
            chunk = None
        if not isinstance(chunk, dict):
            raise InvalidAnswer(self.slug, "a stream chunk is not a JSON object")
        error = chunk.get("error")
        if isinstance(error, Mapping):
            raise self._stream_error(error)
        return chunk

    def _stream_error(self, error: Mapping[str, Any]) -> UpstreamError:
        code, kind = error.get("code"), error.get("type")
        if isinstance(code, int) and not isinstance(code, bool):
            status = normalize_status(code)
        else:
            status = _STATUS_BY_OPENAI_ERROR_TYPE.get(
                str(kind), _STATUS_BY_OPENAI_ERROR_TYPE.get(str(code), 500)
            )
        message = error.get("message")
        return http_error(self.slug, status, message if isinstance(message, str) else None, in_stream=True)

    def _untranslatable(self, exc: Exception) -> UpstreamError:
        if isinstance(exc, WireError):
            detail = exc.message
        elif isinstance(exc, json.JSONDecodeError):
            detail = "the completion is not JSON"
        else:
            detail = "the completion is not well-formed"
        return InvalidAnswer(self.slug, detail)


_SHORT_ID = re.compile(r"[A-Za-z0-9]{9}")


def short_tool_id(tool_id: str) -> str:
    """Mistral accepts only 9-character alphanumeric tool call ids in a conversation's history, while
    Anthropic clients send ``toolu_…`` ids back. A stable hash keeps each call paired with its result."""
    if _SHORT_ID.fullmatch(tool_id):
        return tool_id
    return hashlib.sha256(tool_id.encode()).hexdigest()[:9]


def shorten_tool_ids(body: dict[str, Any]) -> None:
    for message in body.get("messages", []):
        for call in message.get("tool_calls") or []:
            if isinstance(call.get("id"), str):
                call["id"] = short_tool_id(call["id"])
        if isinstance(message.get("tool_call_id"), str):
            message["tool_call_id"] = short_tool_id(message["tool_call_id"])
