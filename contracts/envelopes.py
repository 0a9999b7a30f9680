"""The error envelopes a gateway answers with, and the one map from status to Anthropic error type: the harness
judges a gateway's errors by it, and the reference gateway folds its upstreams' errors into it.

Anthropic's, on ``/v1/messages`` (and on every route of the seed's gateway):
``{"type": "error", "error": {"type": ..., "message": ...}}`` with the type its status calls for. Statuses the
contract names have one type each; any other 4xx is an ``invalid_request_error`` and any other 5xx an
``api_error``, which is what Anthropic's API does with the statuses it does not name.

OpenAI's, on ``/v1/chat/completions``: ``{"error": {"message": ..., "type": ..., "param"?, "code"?}}``. An
OpenAI client reads ``error.message`` and ``error.type``; the Anthropic envelope has both, so a gateway that
answers Anthropic's everywhere also satisfies an OpenAI client.
"""

from __future__ import annotations

ERROR_TYPE_BY_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
"""Anthropic's statuses, one type each. The gateway's 422 (the tools refusal, code
``tools_not_supported_by_backend``) is one of the "other 4xx": ``invalid_request_error``."""
STATUS_BY_ERROR_TYPE: dict[str, int] = {
    error_type: status for status, error_type in ERROR_TYPE_BY_STATUS.items()
}


def error_type_for_status(status: int) -> str:
    """The Anthropic error type a status calls for (any other 4xx: ``invalid_request_error``; any other 5xx,
    or a status that is no error at all: ``api_error``)."""
    return ERROR_TYPE_BY_STATUS.get(status, "invalid_request_error" if 400 <= status < 500 else "api_error")
