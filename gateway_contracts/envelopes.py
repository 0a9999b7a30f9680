"""The error envelopes a gateway answers with, and the one map from status to Anthropic error type.

Anthropic's, on ``/v1/messages`` (and on every route of the seed's gateway):
``{"type": "error", "error": {"type": ..., "message": ...}}`` with the type its status calls for. Statuses the
contract names have one type each; any other 4xx is an ``invalid_request_error`` and any other 5xx an
``api_error``, which is what Anthropic's API does with the statuses it does not name.

OpenAI's, on ``/v1/chat/completions``: ``{"error": {"message": ..., "type": ..., "param"?, "code"?}}``. An
OpenAI client reads ``error.message`` and ``error.type``; the Anthropic envelope has both, so a gateway that
answers Anthropic's everywhere also satisfies an OpenAI client.
"""

from __future__ import annotations

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
