"""Assertions on error answers: Anthropic's envelope with its status's type, or OpenAI's envelope."""

from __future__ import annotations

from typing import Any

import jsonschema

from contracts.envelopes import error_type_for_status
from gateway_contracts.conformance.schemas import validate
from gateway_contracts.failures import ClauseFailure

ANTHROPIC_ENVELOPE = "WIRE-004"
OPENAI_ENVELOPE = "OAI-005"


def _json(r: Any, clause: str) -> Any:
    try:
        return r.json()
    except ValueError:
        raise ClauseFailure(clause, f"{r.status_code} error body is not JSON", repr(r.text[:200])) from None


def assert_error(r: Any, status: int | tuple[int, ...], error_type: str | None = None) -> dict[str, Any]:
    """A status among ``status`` (the calling test's own clause), then Anthropic's envelope with the type that
    status calls for (WIRE-004's, whichever test saw it)."""
    statuses = (status,) if isinstance(status, int) else status
    assert r.status_code in statuses, f"status {r.status_code}, want {statuses}: {r.text[:300]}"
    body = _json(r, ANTHROPIC_ENVELOPE)
    try:
        validate(body, "ErrorResponse")
    except jsonschema.ValidationError as exc:
        raise ClauseFailure(
            ANTHROPIC_ENVELOPE, f"{r.status_code} is not the error envelope", f"{exc.message}: {r.text[:200]}"
        ) from None
    kind = body["error"]["type"]
    if kind != error_type_for_status(r.status_code):
        raise ClauseFailure(
            ANTHROPIC_ENVELOPE,
            f"status {r.status_code} carries error type {kind}",
            f"the contract says {error_type_for_status(r.status_code)}",
        )
    if error_type:
        assert kind == error_type, f"error type {kind}, want {error_type}"
    return dict(body)


def assert_openai_error(r: Any) -> dict[str, Any]:
    """An envelope an OpenAI client reads: ``{"error": {"message": str, "type": str, ...}}`` (OpenAI's; the
    Anthropic one has the same two fields)."""
    body = _json(r, OPENAI_ENVELOPE)
    error = body.get("error") if isinstance(body, dict) else None
    for name in ("message", "type"):
        if not isinstance(error, dict) or not isinstance(error.get(name), str) or not error[name]:
            raise ClauseFailure(
                OPENAI_ENVELOPE, f"{r.status_code} error envelope has no {name}", repr(r.text[:200])
            )
    return dict(body)
