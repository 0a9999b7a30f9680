"""The error bodies of the scripted upstream's HTTP routes, each in its provider's shape: an upstream failure
(the ``error`` directive, a bad body) and a refusal under the provider's rules (``provider_rules``)."""

from __future__ import annotations

from aiohttp import web

from reference_server.upstream.scripted.provider_rules import ProviderRefusal


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
