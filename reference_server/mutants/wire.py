"""Mutants of the Anthropic Messages wire (contracts/clauses/wire.yaml): status codes, envelopes, tools, headers."""

from __future__ import annotations

from reference_server.mutants.base import Mutant

MUTANTS = (
    Mutant(
        "message-drops-null-stop-sequence",
        "WIRE-001",
        "the non-streaming message omits stop_sequence when it is null (a serializer that drops None)",
    ),
    Mutant("stream-served-as-text-plain", "WIRE-002", "streams go out as Content-Type text/plain"),
    Mutant(
        "nonstream-output-tokens-total",
        "WIRE-003",
        "non-streaming answers report input + output tokens as output_tokens; the stream reports them right",
    ),
    Mutant("content-type-ignored", "WIRE-006", "a body sent as text/plain is parsed as JSON anyway"),
    Mutant(
        "max-tokens-defaulted", "WIRE-007", "a request without max_tokens gets a default instead of a 400"
    ),
    Mutant("too-large-is-400", "WIRE-008", "a body over the size limit is a 400, not a 413"),
    Mutant("tools-dropped", "WIRE-010", "tools and tool_choice are silently dropped on the way upstream"),
    Mutant(
        "tools-refusal-is-400",
        "WIRE-011",
        "tools on a backend without tool support get a bare 400, not the 422 with its code, backend and hint",
    ),
    Mutant("length-maps-to-end-turn", "WIRE-012", "an upstream finish_reason length maps to end_turn"),
    Mutant("stream-no-audit-header", "WIRE-013", "streamed answers lack the x-ainfera-audit-url header"),
    Mutant(
        "bearer-auth-ignored",
        "WIRE-015",
        "Authorization: Bearer is ignored (SDK 2.x clients get 401); only x-api-key works",
    ),
    Mutant(
        "upstream-errors-as-500",
        "WIRE-016",
        "every upstream failure is reported as 500 api_error (a 429 or 529 loses its status)",
    ),
    Mutant("malformed-json-500", "WIRE-005", "malformed JSON escapes as an unhandled error (500)"),
    Mutant(
        "flat-error-envelope",
        "WIRE-004",
        'error bodies lose their top-level "type": "error"',
        fuzz_check="anthropic_error_envelope",
    ),
    Mutant(
        "error-echoes-value",
        "WIRE-009",
        "validation errors quote the offending value back",
        fuzz_check="no_secret_echo",
    ),
    Mutant(
        "parser-refusal-echoes",
        "WIRE-017",
        "a request aiohttp's HTTP parser refuses gets aiohttp's plain-text 400, which quotes the raw header line "
        "or URL (credentials included)",
    ),
    Mutant(
        "missing-key-accepted",
        "AUTH-001",
        "with client keys configured, a call with no key at all is let through (only wrong keys are refused)",
    ),
    Mutant(
        "unknown-key-accepted",
        "AUTH-002",
        "with client keys configured, any non-empty key is accepted (the allow-list is never consulted)",
    ),
    Mutant(
        "metadata-echoed",
        "LEAK-001",
        "Messages answers carry the request's metadata.user_id back in an x-ainfera-end-user header",
    ),
    Mutant(
        "upstream-url-disclosed",
        "LEAK-002",
        "Messages answers carry the upstream endpoint in an x-upstream-endpoint header",
    ),
)
