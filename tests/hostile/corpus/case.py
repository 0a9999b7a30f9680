"""A case of the hostile-input corpus (a raw HTTP/1.1 request and what kind of answer it may get), and the
builders of the requests every area makes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reference_server.models_catalog import CANONICAL_MODEL

KEY = "sk-hostile-corpus-client-key-000111"
"""The client key the corpus gateway accepts."""


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    """framing, slow, bodies, fields, tools, directives, ids, upstream."""
    raw: bytes
    upstream_fault: bool = False
    """A hostile upstream answer: its documented upstream error (a 5xx envelope, an error event) is expected."""
    slow: bool = False
    """A slow sender: the gateway must close the connection within its timeouts (an answer is optional)."""


def request(
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    auth: bool = True,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: gateway", "Connection: close"]
    if auth:
        lines.append(f"x-api-key: {KEY}")
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + (body or b"")


def messages_body(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": CANONICAL_MODEL,
        "max_tokens": 32,
        "messages": [{"role": "user", "content": "hello"}],
    }
    out.update(changes)
    return out


def chat_body(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": CANONICAL_MODEL,
        "max_tokens": 32,
        "messages": [{"role": "user", "content": "hi"}],
    }
    out.update(changes)
    return out


def post_json(path: str, body: Any, headers: dict[str, str] | None = None) -> bytes:
    return request("POST", path, json.dumps(body).encode(), headers)
