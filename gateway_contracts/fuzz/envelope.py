"""The Anthropic error envelope, checked on every 4xx and 5xx response (BRIEF §2 "Errors everywhere").

``{"type": "error", "error": {"type": ..., "message": ...}}``, JSON, with the error type the status calls for.
Statuses the contract names have one type each; any other 4xx is an ``invalid_request_error`` and any other
5xx an ``api_error``, which is what Anthropic's API does with the statuses it does not name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from contracts.envelopes import error_type_for_status as expected_type


def envelope_problems(status: int, headers: Mapping[str, list[str]], content: bytes) -> list[str]:
    """What is wrong with an error response's envelope; empty when it is right (or the response is no error)."""
    if status < 400:
        return []
    content_type = (headers.get("content-type") or [""])[0].split(";")[0].strip().lower()
    if content_type != "application/json":
        return [f"{status} answered with Content-Type {content_type or 'none'!r}, not application/json"]
    try:
        body: Any = json.loads(content)
    except ValueError:
        return [f"{status} body is not JSON: {content[:80]!r}"]
    if not isinstance(body, dict) or body.get("type") != "error":
        return [f'{status} body is not {{"type": "error", ...}}: {json.dumps(body)[:120]}']
    error = body.get("error")
    if not isinstance(error, dict):
        return [f'{status} body has no "error" object']
    problems = []
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append(f"{status} error has no message")
    want = expected_type(status)
    if error.get("type") != want:
        problems.append(f"{status} carries error type {error.get('type')!r}; the contract says {want!r}")
    return problems


def openai_envelope_problems(status: int, content: bytes) -> list[str]:
    """OpenAI's envelope: ``{"error": {"message": str, "type": str, ...}}`` (the Anthropic one also passes)."""
    if status < 400:
        return []
    try:
        body: Any = json.loads(content)
    except ValueError:
        return [f"{status} body is not JSON: {content[:80]!r}"]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return [f'{status} body has no "error" object: {json.dumps(body)[:120]}']
    return [
        f"{status} error has no {name}"
        for name in ("message", "type")
        if not isinstance(error.get(name), str) or not error[name]
    ]
