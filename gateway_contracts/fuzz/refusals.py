"""Semantic refusals: the 4xx answers a gateway owes to schema-valid requests.

The contract's schemas encode every rule JSON Schema can say (required fields, ranges, enums,
``additionalProperties``), so a schema-valid request must be accepted. A few rules are not about the shape of one
request but about the world or about one field against another: which models exist, which request ids were
issued, whether ``tool_choice`` names one of ``tools``, whether a string holds JSON. A 4xx for one of those is the
right answer and no finding. Each rule names the request condition *and* the answer it excuses, so a gateway that
refuses a valid request for some other reason is still caught.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway_contracts.fuzz.settings import HookSettings

CALL_OPERATIONS = frozenset({"createMessage", "createChatCompletion"})


@dataclass(frozen=True)
class Answer:
    """What the gateway answered: status, and the envelope's error type and code (None if absent)."""

    status: int
    error_type: str | None
    code: str | None


@dataclass(frozen=True)
class Refusal:
    id: str
    reason: str
    applies: Callable[[str, dict[str, Any], Answer], bool]


def known_models() -> frozenset[str]:
    """The target's models and aliases (the fuzz command hands them over in the environment)."""
    return frozenset(HookSettings.from_env().target.models)


def _unknown_model(op: str, body: dict[str, Any], a: Answer) -> bool:
    return (
        op in CALL_OPERATIONS
        and body.get("model") not in known_models()
        and (a.status, a.error_type) == (404, "not_found_error")
    )


def _unknown_request_id(op: str, body: dict[str, Any], a: Answer) -> bool:
    return op == "getAuditEvents" and (a.status, a.error_type) == (404, "not_found_error")


def _tool_names(body: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for tool in body.get("tools") or []:
        if isinstance(tool, dict):
            function = tool.get("function")
            name = function.get("name") if isinstance(function, dict) else tool.get("name")
            if isinstance(name, str):
                names.add(name)
    return names


def _tool_choice_unsatisfiable(op: str, body: dict[str, Any], a: Answer) -> bool:
    if op not in CALL_OPERATIONS or (a.status, a.error_type) != (400, "invalid_request_error"):
        return False
    choice = body.get("tool_choice")
    tools = _tool_names(body)
    if op == "createChatCompletion" and not body.get("tools"):
        return False  # without tools, OpenAI's tool_choice is moot and the gateway drops it
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else choice.get("name")
        if choice.get("type") in ("tool", "function") and name not in tools:
            return True
        if choice.get("type") == "any" and not tools:
            return True
    return choice == "required" and not tools


def _arguments_not_json_object(op: str, body: dict[str, Any], a: Answer) -> bool:
    if op != "createChatCompletion" or (a.status, a.error_type) != (400, "invalid_request_error"):
        return False
    for message in body.get("messages") or []:
        for call in (message.get("tool_calls") or []) if isinstance(message, dict) else []:
            function = call.get("function") if isinstance(call, dict) else None
            arguments = function.get("arguments") if isinstance(function, dict) else None
            if isinstance(arguments, str) and arguments != "" and not _is_json_object(arguments):
                return True
    return False


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _tool_result_without_tool_use(op: str, body: dict[str, Any], a: Answer) -> bool:
    """A Messages ``tool_result`` must answer a ``tool_use`` of the assistant turn just before it (Anthropic
    refuses the request otherwise); which ids pair up is beyond a JSON Schema."""
    if op != "createMessage" or (a.status, a.error_type) != (400, "invalid_request_error"):
        return False
    offered: set[str] = set()
    for message in body.get("messages") or []:
        blocks = message.get("content") if isinstance(message, dict) else None
        blocks = blocks if isinstance(blocks, list) else []
        for block in blocks:
            if (
                isinstance(block, dict)
                and block.get("type") == "tool_result"
                and block.get("tool_use_id") not in offered
            ):
                return True
        offered = (
            {str(b.get("id")) for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"}
            if isinstance(message, dict) and message.get("role") == "assistant"
            else set()
        )
    return False


def _tools_unsupported(op: str, body: dict[str, Any], a: Answer) -> bool:
    return op in CALL_OPERATIONS and bool(body.get("tools")) and a.code == "tools_not_supported_by_backend"


def _upstream_refused(op: str, body: dict[str, Any], a: Answer) -> bool:
    """A provider refuses some requests no JSON Schema can single out (a model's own output ceiling, message
    pairing rules, an empty turn); a gateway that passes the backend's 400 through, marked as the backend's,
    answered correctly. The scripted upstream refuses only what the real providers document."""
    return op in CALL_OPERATIONS and a.status == 400 and a.code == "upstream_refused"


def _kill_switch(op: str, body: dict[str, Any], a: Answer) -> bool:
    return op in CALL_OPERATIONS and a.code == "kill_switch_engaged" and a.status == 403


def _load_shedding(op: str, body: dict[str, Any], a: Answer) -> bool:
    return (a.status, a.error_type) in ((429, "rate_limit_error"), (529, "overloaded_error"))


REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        "unknown-model", "the model is not one this gateway serves (404 not_found_error)", _unknown_model
    ),
    Refusal(
        "unknown-request-id", "no call was issued this request id (404 not_found_error)", _unknown_request_id
    ),
    Refusal(
        "tool-choice-unsatisfiable",
        "tool_choice names a tool that tools does not define, or requires one when there are none",
        _tool_choice_unsatisfiable,
    ),
    Refusal(
        "tool-arguments-not-json",
        "a tool call's arguments string is not a JSON object, which the Messages form needs",
        _arguments_not_json_object,
    ),
    Refusal(
        "tool-result-unpaired",
        "a tool_result answers no tool_use of the assistant turn before it",
        _tool_result_without_tool_use,
    ),
    Refusal(
        "tools-unsupported",
        "the backend cannot do tools (422 tools_not_supported_by_backend)",
        _tools_unsupported,
    ),
    Refusal(
        "upstream-refused",
        "the backend refused it under a provider rule, passed through (400, code upstream_refused)",
        _upstream_refused,
    ),
    Refusal("kill-switch", "the cost kill-switch is engaged (403 kill_switch_engaged)", _kill_switch),
    Refusal("load-shedding", "rate limited or overloaded (429 / 529)", _load_shedding),
)


def excusing_refusal(operation_id: str, body: Any, answer: Answer) -> Refusal | None:
    """The semantic refusal that explains this 4xx to a schema-valid request, or None (then it is a finding)."""
    request = body if isinstance(body, dict) else {}
    return next((r for r in REFUSALS if r.applies(operation_id, request, answer)), None)


def answer_of(status: int, content: bytes) -> Answer:
    try:
        error = json.loads(content).get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return Answer(status, None, None)
    kind, code = error.get("type"), error.get("code")
    return Answer(status, kind if isinstance(kind, str) else None, code if isinstance(code, str) else None)
