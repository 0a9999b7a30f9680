"""Assertions on error answers: Anthropic's envelope with its status's type, or OpenAI's envelope."""

from __future__ import annotations

from typing import Any

import jsonschema

from contracts import component_schema
from gateway_contracts.envelopes import expected_type


def _json(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {r.text[:200]!r}") from None


def assert_error(r: Any, status: int | tuple[int, ...], error_type: str | None = None) -> dict[str, Any]:
    """Anthropic's envelope, with a status among ``status`` and the type that status calls for."""
    statuses = (status,) if isinstance(status, int) else status
    assert r.status_code in statuses, f"status {r.status_code}, want {statuses}: {r.text[:300]}"
    body = _json(r)
    jsonschema.validate(body, component_schema("ErrorResponse"))
    kind = body["error"]["type"]
    assert kind == expected_type(r.status_code), (
        f"status {r.status_code} carries error type {kind}; the contract says {expected_type(r.status_code)}"
    )
    if error_type:
        assert kind == error_type, f"error type {kind}, want {error_type}"
    return dict(body)


def assert_openai_error(r: Any) -> dict[str, Any]:
    """An envelope an OpenAI client reads: ``{"error": {"message": str, "type": str, ...}}`` (OpenAI's; the
    Anthropic one has the same two fields)."""
    body = _json(r)
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{r.status_code} body has no error object: {r.text[:200]!r}"
    assert isinstance(error.get("message"), str) and error["message"], f"{r.status_code} error has no message"
    assert isinstance(error.get("type"), str) and error["type"], f"{r.status_code} error has no type"
    return dict(body)
