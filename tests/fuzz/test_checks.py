"""The logic behind the fuzz checks, without schemathesis: envelope, secret echo, semantic refusals, streams."""

from __future__ import annotations

import json

import pytest

from gateway_contracts.fuzz import canaries, envelope, refusals, streams
from gateway_contracts.fuzz.refusals import Answer
from gateway_contracts.fuzz.settings import ENV_TARGET, TargetFacts

JSON = {"content-type": ["application/json"]}


def error_body(kind: str, message: str = "m", **extra: str) -> bytes:
    return json.dumps({"type": "error", "error": {"type": kind, "message": message, **extra}}).encode()


# -- envelope ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (404, "not_found_error"),
        (405, "invalid_request_error"),
        (529, "overloaded_error"),
    ],
)
def test_envelope_accepts_the_contract_pairs(status: int, kind: str) -> None:
    assert envelope.envelope_problems(status, JSON, error_body(kind)) == []


def test_envelope_ignores_successes() -> None:
    assert envelope.envelope_problems(200, {"content-type": ["text/plain"]}, b"ok") == []


@pytest.mark.parametrize(
    ("status", "headers", "body", "needle"),
    [
        (405, {"content-type": ["text/plain"]}, b"405: Method Not Allowed", "text/plain"),
        (400, JSON, b"not json", "not JSON"),
        (400, JSON, b'{"error": {"type": "invalid_request_error", "message": "m"}}', '"type": "error"'),
        (404, JSON, error_body("invalid_request_error"), "not_found_error"),
        (500, JSON, error_body("api_error", ""), "no message"),
    ],
)
def test_envelope_problems(status: int, headers: dict[str, list[str]], body: bytes, needle: str) -> None:
    problems = envelope.envelope_problems(status, headers, body)
    assert problems and needle in " ".join(problems)


# -- secrets -------------------------------------------------------------------------------------------------------
def test_credentials_and_canaries_are_request_secrets() -> None:
    canary = canaries.CANARIES[0]
    body = json.dumps({"messages": [{"role": canary}]}).encode()
    found = canaries.request_secrets(
        {"x-api-key": "sk-live-0123456789", "Authorization": "Bearer tok-abcdefgh"}, body
    )
    assert found["sk-live-0123456789"] == "the x-api-key header"
    assert found["tok-abcdefgh"] == "the Authorization header"
    assert found[canary] == "the body"


def test_short_credentials_prove_nothing() -> None:
    assert canaries.request_secrets({"x-api-key": "0"}, None) == {}


def test_canary_hidden_behind_json_escapes_is_found() -> None:
    canary = canaries.CANARIES[1]
    escaped = json.dumps({"user": canary.replace("-", "\\u002d")}).replace("\\\\", "\\").encode()
    assert canary in canaries.request_secrets({}, escaped)


def test_echo_in_body_or_header_is_reported_masked() -> None:
    secret = canaries.CANARIES[2]
    secrets = {secret: "the body"}
    in_body = canaries.echoes(secrets, {}, json.dumps({"error": {"message": f"got {secret}"}}).encode())
    in_header = canaries.echoes(secrets, {"x-debug": [secret]}, b"")
    assert len(in_body) == 1 and "response body" in in_body[0] and secret not in in_body[0]
    assert len(in_header) == 1 and "x-debug" in in_header[0]
    assert canaries.echoes(secrets, {"x-debug": ["clean"]}, b'{"ok": true}') == []


def test_shapes_ignore_ids_and_token_counts() -> None:
    text = '{"id": "msg_0123456789abcdef01234567", "usage": {"max_tokens": 100}, "word": "task-manager"}'
    assert canaries.request_secrets({}, text.encode()) == {}


# -- semantic refusals ---------------------------------------------------------------------------------------------
def test_unknown_model_404_is_a_refusal_but_not_for_a_served_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # The served models are the target's, handed to the hooks' process in the environment.
    facts = TargetFacts(models=("ainfera-inference", "ainfera-mithril"))
    monkeypatch.setenv(ENV_TARGET, facts.to_json())
    answer = Answer(404, "not_found_error", None)
    assert refusals.excusing_refusal("createMessage", {"model": "gpt-x"}, answer) is not None
    assert refusals.excusing_refusal("createMessage", {"model": "ainfera-mithril"}, answer) is None


def test_tool_choice_naming_an_undefined_tool() -> None:
    answer = Answer(400, "invalid_request_error", None)
    body = {
        "tools": [{"name": "a", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": "b"},
    }
    assert refusals.excusing_refusal("createMessage", body, answer) is not None
    body["tool_choice"] = {"type": "tool", "name": "a"}
    assert refusals.excusing_refusal("createMessage", body, answer) is None


def test_tool_arguments_that_are_not_a_json_object() -> None:
    answer = Answer(400, "invalid_request_error", None)
    function = {"name": "f", "arguments": "[1]"}
    call = {"id": "c", "type": "function", "function": function}
    body = {"messages": [{"role": "assistant", "tool_calls": [call]}]}
    assert refusals.excusing_refusal("createChatCompletion", body, answer) is not None
    function["arguments"] = '{"a": 1}'
    assert refusals.excusing_refusal("createChatCompletion", body, answer) is None


def test_an_unexplained_400_is_no_refusal() -> None:
    assert (
        refusals.excusing_refusal("createMessage", {"model": "ainfera-inference"}, Answer(400, None, None))
        is None
    )


def test_answer_of_reads_type_and_code() -> None:
    body = error_body("invalid_request_error", code="tools_not_supported_by_backend")
    assert refusals.answer_of(422, body) == Answer(
        422, "invalid_request_error", "tools_not_supported_by_backend"
    )
    assert refusals.answer_of(502, b"<html>") == Answer(502, None, None)


# -- streams -------------------------------------------------------------------------------------------------------
def _frame(event: dict[str, object]) -> str:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"


EVENTS: list[dict[str, object]] = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "ainfera-inference",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 0},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 1},
    },
    {"type": "message_stop"},
]
GOOD = "".join(_frame(e) for e in EVENTS).encode()


def test_a_whole_valid_stream_passes() -> None:
    assert streams.stream_verdict("createMessage", GOOD, cut_short=False) is None


def test_a_stream_without_message_stop_names_its_clause() -> None:
    truncated = GOOD[: GOOD.rindex(b"event: message_stop")]
    verdict = streams.stream_verdict("createMessage", truncated, cut_short=False)
    assert verdict is not None and "SSE-019" in verdict.title


def test_a_stream_cut_short_is_reported_as_unfinished() -> None:
    verdict = streams.stream_verdict("createMessage", GOOD[:100], cut_short=True)
    assert verdict is not None and verdict.title == "SSE stream not finished"
