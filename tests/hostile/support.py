"""Helpers for hostile-input tests: raw HTTP over a socket, and what every answer to hostile input must be."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any

from contracts.envelopes import error_type_for_status

SECRET = "sk-ant-api03-HOSTILEcanary0000000000000000000000000000000000000000000000000000000000000000AA"
"""A planted secret: an answer that contains it (or its distinctive middle) echoes what the client sent."""
SECRET_MARK = "HOSTILEcanary"


@dataclass
class RawAnswer:
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw: bytes = b""
    closed: bool = False
    """The server closed the connection (EOF seen) before the read timed out."""

    def json(self) -> Any:
        return json.loads(self.body)


def parse_answer(raw: bytes, closed: bool) -> RawAnswer:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return RawAnswer(None, raw=raw, closed=closed)
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ")[1])
    except (IndexError, ValueError):
        return RawAnswer(None, raw=raw, closed=closed)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return RawAnswer(status, headers, body, raw, closed)


def raw_exchange(
    port: int,
    data: bytes,
    *,
    timeout: float = 10.0,
    close_write: bool = False,
    until_close: bool = False,
    host: str = "127.0.0.1",
) -> RawAnswer:
    """Send ``data`` on a fresh connection and read until the server closes it, a full answer with a
    Content-Length is in (unless ``until_close``), or ``timeout`` passes."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        return read_answer(sock, until_close=until_close)


def read_answer(sock: socket.socket, *, until_close: bool = False) -> RawAnswer:
    raw = b""
    closed = False
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            raw += chunk
            answer = parse_answer(raw, False)
            length = answer.headers.get("content-length")
            if until_close or answer.status is None or length is None:
                continue
            if len(answer.body) >= int(length):
                break
    except TimeoutError:
        pass
    except ConnectionResetError:
        closed = True
    return parse_answer(raw, closed)


def envelope_problems(status: int | None, headers: dict[str, str], body: bytes) -> list[str]:
    """What is wrong with an error answer (empty when it is the envelope the contract asks for)."""
    if status is None:
        return ["no HTTP answer"]
    if status < 400:
        return []
    problems = []
    if not headers.get("content-type", "").startswith("application/json"):
        problems.append(f"{status} with Content-Type {headers.get('content-type')!r}")
    try:
        parsed = json.loads(body)
    except ValueError:
        return [*problems, f"{status} body is not JSON: {body[:120]!r}"]
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(parsed, dict) or parsed.get("type") != "error" or not isinstance(error, dict):
        return [*problems, f"{status} body is not the envelope: {body[:120]!r}"]
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append(f"{status} error without a message")
    want = error_type_for_status(status)
    if error.get("type") != want:
        problems.append(f"{status} carries error type {error.get('type')!r}, want {want!r}")
    if not headers.get("request-id", "").startswith("req_"):
        problems.append(f"{status} without a request-id header")
    return problems


def echoes(answer: bytes | str, *secrets: str) -> list[str]:
    text = answer if isinstance(answer, str) else answer.decode("utf-8", "replace")
    return [secret for secret in (*secrets, SECRET_MARK) if secret and secret in text]
