"""The HTTP edge shared by the real upstream adapters: one pooled ``aiohttp.ClientSession``, an incremental
Server-Sent Events decoder, and the mapping of transport and HTTP failures onto ``UpstreamError``.

Every adapter of one adapter set shares one ``SessionHolder``, so connections to a provider are pooled across
calls instead of paying a TLS handshake per request.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from contracts.envelopes import STATUS_BY_ERROR_TYPE

from .base import ERROR_TYPE_BY_STATUS, StreamEvent, StreamItem, UpstreamError, error_type_for_status

USER_AGENT = "gateway-contracts-reference/0.1"


@dataclass(frozen=True)
class HttpTimeouts:
    """Timeouts in seconds. There is deliberately no total timeout by default: a long stream is healthy as
    long as bytes keep arriving, which ``sock_read`` bounds."""

    connect: float = 10.0
    """Establishing the TCP/TLS connection (waiting for a free pooled connection is not counted)."""
    sock_read: float = 300.0
    """Longest silence between two reads. Long because a big model may think for minutes before its first byte
    of a non-streaming answer."""
    total: float | None = None

    def client_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.total, sock_connect=self.connect, sock_read=self.sock_read)


class SessionHolder:
    """Owns the one ``ClientSession`` of an adapter set, created on first use inside the running loop (aiohttp
    sessions are bound to the loop that created them) and closed by ``close()``. Using it again after
    ``close()`` opens a fresh session, so closing one adapter never breaks its siblings."""

    def __init__(
        self, timeouts: HttpTimeouts | None = None, *, limit: int = 100, limit_per_host: int = 32
    ) -> None:
        self.timeouts = timeouts or HttpTimeouts()
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()  # raises outside a loop, which is the point
        if self._session is None or self._session.closed or self._loop is not loop:
            # A session left over from another (finished) loop cannot be closed from this one; drop it.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit_per_host),
                timeout=self.timeouts.client_timeout(),
                headers={"User-Agent": USER_AGENT},
                # Never pick up HTTP(S)_PROXY from the environment: where traffic goes is configuration.
                trust_env=False,
                # One session serves every client: a cookie an upstream set for one call must never ride along
                # on another client's call. (Not keeping a jar also spares a filter per request.)
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._loop = loop
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()
        self._loop = None


# --- Server-Sent Events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SSEMessage:
    event: str
    data: str
    id: str | None = None


class SSEError(Exception):
    pass


_EOL = re.compile(rb"\r\n|\r|\n")


@dataclass
class SSEDecoder:
    """Incremental decoder following the WHATWG event-stream rules: LF, CRLF and CR line ends, ``:`` comments,
    multi-line ``data``, an optional space after the colon, a leading BOM. Feed it bytes as they arrive; it
    returns the messages completed so far. An event cut off by the end of the stream is discarded, as the
    spec says: a stream that stops mid-event was cut, and the adapters report that as a drop."""

    max_line_bytes: int = 16 * 1024 * 1024
    _buffer: bytearray = field(default_factory=bytearray)
    _data: list[str] = field(default_factory=list)
    _event: str = ""
    _last_id: str | None = None
    _first_line: bool = True

    def feed(self, chunk: bytes) -> list[SSEMessage]:
        buffer = self._buffer
        buffer += chunk
        if b"\r" not in buffer:
            # The usual stream, LF line ends only: decode every complete line in one go. (UTF-8 never has a
            # 0x0A byte inside a character, so decoding before splitting gives what decoding each line gives.)
            end = buffer.rfind(b"\n")
            if end < 0:
                self._check_length()
                return []
            text = buffer[:end].decode("utf-8", errors="replace")
            del buffer[: end + 1]
            self._check_length()
            return self._lines(text.split("\n"))
        lines: list[str] = []
        start = 0
        while (match := _EOL.search(buffer, start)) is not None:
            if match.group() == b"\r" and match.end() == len(buffer):
                break  # a CR at the very end may be the first half of a CRLF split across chunks
            lines.append(buffer[start : match.start()].decode("utf-8", errors="replace"))
            start = match.end()
        del buffer[:start]
        messages = self._lines(lines)
        self._check_length()
        return messages

    def feed_eof(self) -> list[SSEMessage]:
        messages: list[SSEMessage] = []
        if self._buffer.endswith(b"\r"):
            messages = self._lines([self._buffer[:-1].decode("utf-8", errors="replace")])
        self._buffer.clear()
        return messages

    def _check_length(self) -> None:
        if len(self._buffer) > self.max_line_bytes:
            raise SSEError(f"event-stream line longer than {self.max_line_bytes} bytes")

    def _lines(self, lines: list[str]) -> list[SSEMessage]:
        messages: list[SSEMessage] = []
        for line in lines:
            if self._first_line:
                line = line.removeprefix("\ufeff")
                self._first_line = False
            if not line:
                data, event = self._data, self._event
                self._data, self._event = [], ""
                if data:
                    messages.append(
                        SSEMessage(event=event or "message", data="\n".join(data), id=self._last_id)
                    )
                continue
            if line[0] == ":":
                continue
            name, colon, value = line.partition(":")
            if colon and value.startswith(" "):
                value = value[1:]
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id" and "\0" not in value:
                self._last_id = value
        return messages


async def iter_sse(content: aiohttp.StreamReader, max_bytes: int | None = None) -> AsyncIterator[SSEMessage]:
    """Yield messages as their bytes arrive; never buffers the whole stream. Past ``max_bytes`` in all it raises
    ``SSEError`` (a stream that never ends, or a huge one)."""
    decoder = SSEDecoder()
    received = 0
    async for chunk in content.iter_any():
        received += len(chunk)
        if max_bytes is not None and received > max_bytes:
            raise SSEError(f"the stream is longer than {max_bytes} bytes")
        for message in decoder.feed(chunk):
            yield message
    for message in decoder.feed_eof():
        yield message


class BatchedEventStream:
    """An adapter's stream as an ``AsyncIterator[StreamEvent]``, over a generator of batches: each batch holds the
    events decoded from one network read (never empty). ``next_batch()`` hands over a whole batch at once, so the
    gateway can write in one go what arrived in one go; nothing waits for more data to fill a batch."""

    def __init__(self, batches: AsyncGenerator[list[StreamItem], None]) -> None:
        self._batches = batches
        self._pending: deque[StreamEvent] = deque()

    def __aiter__(self) -> BatchedEventStream:
        return self

    async def __anext__(self) -> StreamEvent:
        while not self._pending:
            self._pending.extend(event for event, _ in await self._batches.__anext__())
        return self._pending.popleft()

    async def next_batch(self) -> list[StreamItem]:
        """The next batch (raises ``StopAsyncIteration`` at the end, as ``__anext__`` does)."""
        if self._pending:
            items: list[StreamItem] = [(event, None) for event in self._pending]
            self._pending.clear()
            return items
        return await self._batches.__anext__()

    async def aclose(self) -> None:
        await self._batches.aclose()


# --- failures --------------------------------------------------------------------------------------------

# Key-shaped tokens an upstream might echo back in an error message (OpenAI quotes a masked key on 401), and
# long opaque tokens in general.
_KEY_SHAPES = re.compile(
    r"(?i)\b(?:bearer\s+|sk-|sk_|gsk_|xai-|pk_|rk_)[A-Za-z0-9._*\-]{4,}|\b[A-Za-z0-9_\-]{40,}\b"
)
_MAX_MESSAGE = 500


def safe_url(url: str) -> str:
    """The URL without credentials or query string, fit for an error message."""
    parsed = URL(url)
    return str(parsed.with_user(None).with_query(None).with_fragment(None))


def scrub_message(text: str) -> str:
    text = _KEY_SHAPES.sub("[redacted]", text)
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "…"


def status_for_error_type(error_type: str) -> int | None:
    return STATUS_BY_ERROR_TYPE.get(error_type)


def normalize_status(status: int) -> int:
    """Fold any upstream status into Anthropic's error statuses, the only ones the gateway answers."""
    if status in ERROR_TYPE_BY_STATUS:
        return status
    if status == 503:
        return 529  # "service unavailable" is what OpenAI-compatible providers say when overloaded
    return 400 if 400 <= status < 500 else 500


def http_error(
    slug: str,
    status: int,
    upstream_message: str | None,
    error_type: str | None = None,
    *,
    in_stream: bool = False,
) -> UpstreamError:
    """An error answer from upstream: an HTTP error status, or (``in_stream``) an error event inside a stream
    that began fine. ``error_type`` is trusted only if it is one of Anthropic's types; the status then follows
    from it."""
    mapped_status = status_for_error_type(error_type) if error_type else None
    if mapped_status is None:
        mapped_status = normalize_status(status)
        error_type = error_type_for_status(mapped_status)
    assert error_type is not None
    if status in (401, 403):
        # The gateway's own provider credentials were refused: the gateway's fault, not the client's, so the
        # client gets 500 api_error rather than a 401 that would make it doubt its own key. The upstream text
        # is about that key (OpenAI even quotes part of it), so it is not passed on.
        mapped_status, error_type = 500, "api_error"
        detail = "rejected the gateway's credentials for it"
    else:
        detail = scrub_message(upstream_message) if upstream_message else "gave no error message"
    how = "reported an error mid-stream" if in_stream else f"answered HTTP {status}"
    return UpstreamError(mapped_status, error_type, f"backend '{slug}' {how}: {detail}")


def parse_error_body(raw: bytes) -> tuple[str | None, str | None]:
    """``(error type, message)`` from an Anthropic (``{"type":"error","error":{...}}``),
    OpenAI/Groq/Together (``{"error":{...}}``) or Mistral (``{"object":"error","message":...}``) error body;
    Nones if unreadable."""
    try:
        body = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", errors="replace").strip()
        return None, text or None
    if not isinstance(body, Mapping):
        return None, None
    inner: Any = body.get("error")
    if isinstance(inner, Mapping):
        body = inner
    elif isinstance(inner, str):
        return None, inner
    error_type = body.get("type")
    message = body.get("message")
    if message is None:
        message = body.get("detail")
    if message is not None and not isinstance(message, str):
        message = json.dumps(message)  # Mistral's validation errors put a pydantic report here
    return (error_type if isinstance(error_type, str) else None), message


async def error_from_response(
    slug: str, response: aiohttp.ClientResponse, *, anthropic: bool
) -> UpstreamError:
    """Read a non-2xx answer. Only an Anthropic backend's error type is meaningful to our clients; other
    dialects' types (``insufficient_quota``…) are replaced by the type of the status."""
    try:
        raw = await response.content.read(64 * 1024)
    except (aiohttp.ClientError, TimeoutError):
        raw = b""
    error_type, message = parse_error_body(raw)
    return http_error(slug, response.status, message, error_type if anthropic else None)


def network_error(slug: str, url: str, exc: BaseException, *, dropped: bool = False) -> UpstreamError:
    """A transport failure: timeouts read as the backend being overloaded, anything else as an API error."""
    where = f"backend '{slug}' at {safe_url(url)}"
    if isinstance(exc, TimeoutError):
        return UpstreamError(529, "overloaded_error", f"{where} timed out", dropped=dropped)
    if dropped:
        return UpstreamError(
            500, "api_error", f"{where}: connection lost mid-stream ({type(exc).__name__})", dropped=True
        )
    return UpstreamError(500, "api_error", f"{where} could not be reached ({type(exc).__name__})")


def stream_ended_early(slug: str, what: str) -> UpstreamError:
    return UpstreamError(500, "api_error", f"backend '{slug}': stream ended without {what}", dropped=True)


async def read_bounded(slug: str, url: str, response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body of a non-streamed answer, or ``InvalidAnswer`` once it passes ``limit`` bytes (a body that
    never ends included): an upstream's answer is read no further than the gateway would pass on."""
    from .answer_check import InvalidAnswer

    if response.content_length is not None and response.content_length > limit:
        raise InvalidAnswer(slug, f"the answer is larger than {limit} bytes")
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > limit:
                raise InvalidAnswer(slug, f"the answer is larger than {limit} bytes")
            parts.append(chunk)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise network_error(slug, url, exc) from exc
    return b"".join(parts)


async def post(
    holder: SessionHolder, slug: str, url: str, body: bytes, headers: Mapping[str, str]
) -> aiohttp.ClientResponse:
    """Send the request and return the response once its headers are in; the caller reads and releases it."""
    try:
        return await holder.session().post(url, data=body, headers=dict(headers))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise network_error(slug, url, exc) from exc


# Headers an adapter never forwards from ``UpstreamRequest.headers``: its own auth and framing win.
_NOT_FORWARDED = frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "anthropic-version",
        "content-type",
        "content-length",
        "accept",
        "accept-encoding",
        "host",
        "connection",
        "transfer-encoding",
        "cookie",
    }
)


def forwarded_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() not in _NOT_FORWARDED}


def endpoint(base_url: str, path: str) -> str:
    """``base_url`` + ``path``, tolerating a base URL that already ends in ``/v1`` (a common setting)."""
    base = base_url.rstrip("/")
    if base.endswith("/v1") and path.startswith("/v1/"):
        base = base[: -len("/v1")]
    return base + path
