"""The Anthropic error envelope, checked on every 4xx and 5xx response (BRIEF §2 "Errors everywhere").

``{"type": "error", "error": {"type": ..., "message": ...}}``, JSON, with the error type the status calls for.
Statuses the contract names have one type each; any other 4xx is an ``invalid_request_error`` and any other
5xx an ``api_error``, which is what Anthropic's API does with the statuses it does not name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

TYPE_BY_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    # 422 is the tools refusal (code tools_not_supported_by_backend); its type is still invalid_request_error.
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def expected_type(status: int) -> str:
    return TYPE_BY_STATUS.get(status, "invalid_request_error" if status < 500 else "api_error")


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
