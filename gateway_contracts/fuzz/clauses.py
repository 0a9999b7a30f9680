"""Which clause a fuzz finding breaks: each check, on each operation, is one clause's promise.

The contract's own checks name theirs (``sse_grammar`` titles carry the SSE clause whose rule broke);
schemathesis' built-in checks are mapped by what they hold an answer to. A finding with no clause here (a check
about the document itself) is still reported, under ``null``.
"""

from __future__ import annotations

import re

_CLAUSE_ID = re.compile(r"\b[A-Z]+(?:-[A-Z]+)*-[0-9]{3}\b")
MESSAGES, CHAT, METRICS = "createMessage", "createChatCompletion", "getMetrics"

# check -> {operation id -> clause}; "*" is any other operation.
BY_CHECK: dict[str, dict[str, str]] = {
    "anthropic_error_envelope": {CHAT: "OAI-005", "*": "WIRE-004"},
    "no_secret_echo": {"*": "WIRE-009"},
    "capture_invariant": {"*": "CAP-001"},
    "valid_data_accepted": {CHAT: "OAI-001", MESSAGES: "WIRE-001", "listModels": "DISC-004"},
    "ignored_auth": {METRICS: "MET-001", "*": "AUTH-002"},
    "not_a_server_error": {CHAT: "OAI-005", "*": "WIRE-004"},
    "negative_data_rejection": {CHAT: "OAI-005", "*": "WIRE-007"},
    "status_code_conformance": {CHAT: "OAI-005", "*": "WIRE-004"},
    "content_type_conformance": {CHAT: "OAI-001", MESSAGES: "WIRE-001", METRICS: "MET-002"},
    "response_schema_conformance": {CHAT: "OAI-001", MESSAGES: "WIRE-001", "getAgentCard": "DISC-001"},
    "response_headers_conformance": {MESSAGES: "WIRE-013", CHAT: "WIRE-013"},
    "unsupported_method": {"*": "WIRE-004"},
}


def clause_of(check: str, operation_id: str, title: str) -> str | None:
    if check == "sse_grammar":
        found = _CLAUSE_ID.search(title)
        if found:
            return found.group()
        return "OAI-SSE-017" if operation_id == CHAT else "WIRE-002"
    by_operation = BY_CHECK.get(check, {})
    return by_operation.get(operation_id, by_operation.get("*"))
