"""Wire profile: requests whose HTTP framing the gateway's HTTP layer refuses (BRIEF §2 errors).

Sent as raw bytes over a socket, since no HTTP client will send them: a bare CR, a NUL or a folded line in a
header, a header field past 8 KiB, a control byte in the query. Each carries a fresh planted secret in the
offending header or query. WIRE-017 (MUST): the answer is a 4xx that carries back none of the request's header or
query values. WIRE-018 (SHOULD): that answer is the Anthropic error envelope, as JSON, with the target's request id
header.
One assertion kind per test, so that a fault lands on one clause.
"""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.target import Target

READ_LIMIT = 1024 * 1024


def planted() -> str:
    """A fresh, visibly fake secret in the shape of an Anthropic key."""
    return "sk-ant-api03-framing" + secrets.token_hex(24)


def _key_header(gw: Exchanges) -> bytes:
    return b"".join(f"{name}: {value}\r\n".encode() for name, value in gw.auth_headers().items())


# Each builder gets the secret and the harness's own auth header lines, and returns the raw request.
FRAMINGS: dict[str, Callable[[str, bytes], bytes]] = {
    "bare CR in a header value": lambda s, auth: (
        b"POST /v1/messages HTTP/1.1\r\nHost: gateway\r\n"
        + auth
        + b"x-secret: "
        + s.encode()
        + b"\rX\r\n\r\n"
    ),
    "NUL in a header value": lambda s, auth: (
        b"GET /v1/models HTTP/1.1\r\nHost: gateway\r\n" + auth + b"x-secret: " + s.encode() + b"\x00X\r\n\r\n"
    ),
    "folded header line": lambda s, auth: (
        b"GET /v1/models HTTP/1.1\r\nHost: gateway\r\n"
        + auth
        + b"x-secret: a\r\n "
        + s.encode()
        + b"\r\n\r\n"
    ),
    "header field over 8 KiB": lambda s, auth: (
        b"GET /v1/models HTTP/1.1\r\nHost: gateway\r\n"
        + auth
        + b"x-secret: "
        + s.encode()
        + b"x" * 9000
        + b"\r\n\r\n"
    ),
    "control byte in the query": lambda s, auth: (
        b"GET /v1/models?key=" + s.encode() + b"\x01 HTTP/1.1\r\nHost: gateway\r\n" + auth + b"\r\n"
    ),
    "credential with a bare CR": lambda s, auth: (
        b"POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nx-api-key: " + s.encode() + b"\rX\r\n\r\n"
    ),
}


@dataclass
class RawAnswer:
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw: bytes = b""


def exchange(target: Target, data: bytes, evidence: dict[str, Any]) -> RawAnswer:
    """Send ``data`` on a fresh connection; read the answer (to its Content-Length, the close, or the timeout)."""
    url = urlsplit(target.base_url)
    host = url.hostname or "127.0.0.1"
    port = url.port or (443 if url.scheme == "https" else 80)
    raw = b""
    with socket.create_connection((host, port), timeout=target.timeout) as sock:
        sock.sendall(data)
        try:
            while len(raw) < READ_LIMIT:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                raw += chunk
                answer = _parse(raw)
                length = answer.headers.get("content-length")
                if answer.status is not None and length is not None and len(answer.body) >= int(length):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    answer = _parse(raw)
    evidence.setdefault("exchanges", []).append(
        {
            "request": {"raw": data[:2000].decode("latin-1")},
            "response": {"status": answer.status, "raw": raw[:4000].decode("latin-1")},
        }
    )
    return answer


def _parse(raw: bytes) -> RawAnswer:
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ")[1]) if sep else None
    except (IndexError, ValueError):
        status = None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers and headers["content-length"].isdigit():
        body = body[: int(headers["content-length"])]
    return RawAnswer(status, headers, body, raw)


CASES = pytest.mark.parametrize("framing", list(FRAMINGS), ids=list(FRAMINGS))


@pytest.mark.clause("WIRE-017")
@CASES
def test_refused_framing_is_a_4xx(
    target: Target, gw: Exchanges, evidence: dict[str, Any], framing: str
) -> None:
    answer = exchange(target, FRAMINGS[framing](planted(), _key_header(gw)), evidence)
    assert answer.status is not None, f"no HTTP answer: {answer.raw[:200]!r}"
    assert 400 <= answer.status < 500, f"status {answer.status}: {answer.raw[:300]!r}"


@pytest.mark.clause("WIRE-017")
@CASES
def test_refused_framing_echoes_nothing(
    target: Target, gw: Exchanges, evidence: dict[str, Any], framing: str
) -> None:
    secret = planted()
    answer = exchange(target, FRAMINGS[framing](secret, _key_header(gw)), evidence)
    echoed = [
        what
        for what in (secret, secret[-24:], *gw.auth_headers().values())
        if what and what.encode() in answer.raw
    ]
    assert not echoed, (
        f"the answer carries back {len(echoed)} value(s) the request sent: {answer.raw[:300]!r}"
    )


@pytest.mark.clause("WIRE-018")
@CASES
def test_refused_framing_gets_the_envelope(
    target: Target, gw: Exchanges, evidence: dict[str, Any], framing: str
) -> None:
    answer = exchange(target, FRAMINGS[framing](planted(), _key_header(gw)), evidence)
    content_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        body = json.loads(answer.body)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    enveloped = (
        content_type == "application/json"
        and isinstance(body, dict)
        and body.get("type") == "error"
        and isinstance(error, dict)
        and isinstance(error.get("type"), str)
        and isinstance(error.get("message"), str)
        and (not target.request_id_header or bool(answer.headers.get(target.request_id_header)))
    )
    assert enveloped, f"not the error envelope with the request id header: {answer.raw[:300]!r}"
