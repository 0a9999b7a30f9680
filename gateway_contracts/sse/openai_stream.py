"""The OpenAI ``/v1/chat/completions`` chunk stream validator (clauses ``OAI-SSE-NNN``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway_contracts.sse.framing import Frame, FrameParser, parse_json_text
from gateway_contracts.sse.machine import Handler, StreamValidator
from gateway_contracts.sse.rules import RULES

RULE = RULES["openai"]

# How the table's event names read in a message.
_LABELS = {
    "chunk": "chunk",
    "usage_chunk": "usage chunk (choices: [])",
    "error": "error payload",
    "done": "[DONE]",
}


class _ToolCall:
    __slots__ = ("arguments", "id", "name")

    def __init__(self, ident: Any, name: Any) -> None:
        self.id = ident
        self.name = name
        self.arguments: list[str] = []


class _Choice:
    __slots__ = ("finished", "tools")

    def __init__(self) -> None:
        self.finished = False
        self.tools: dict[Any, _ToolCall] = {}


class OpenAIValidator(StreamValidator):
    """Validates ``data:`` frames of ``chat.completion.chunk`` objects ending in ``data: [DONE]``: the
    optional usage chunk (``choices: []``) once and only after every finish_reason, tool-call deltas by index
    (the first of an index with its id and name, arguments that parse at the finish), one id and model
    throughout, nothing after ``[DONE]``."""

    dialect = "openai"
    # The checks, each reported under the clause the grammar file's `checks:` gives its name.
    c_not_object = RULE.check("not_object")
    c_schema = RULE.check("schema")
    c_same_id = RULE.check("same_id")
    c_after_finish = RULE.check("after_finish")
    c_finish_reason = RULE.check("finish_reason")
    c_usage_total = RULE.check("usage_total")
    c_tool_index = RULE.check("tool_index")
    c_tool_first = RULE.check("tool_first_delta")
    c_tool_arguments = RULE.check("tool_arguments")

    def __init__(self, *, strict: bool = True) -> None:
        super().__init__(strict=strict)
        self._finish_reasons = frozenset(self.grammar.strings("finish_reasons"))
        self._id: Any = None
        self._model: Any = None
        self._choices: dict[Any, _Choice] = {}
        self._unfinished = 0

    def _make_parser(self) -> FrameParser:
        # The literal data that is an event ([DONE] → done): not JSON, so the parser leaves it unparsed.
        self._sentinels = {literal: event for event, literal in self.grammar.sentinels.items()}
        # No `event` among the known fields: an event name in this dialect is flagged (OAI-SSE-004).
        return FrameParser(
            known_fields=frozenset({"data", "id", "retry"}), sentinels=frozenset(self._sentinels)
        )

    def _content_checks(self) -> Mapping[str, Handler]:
        return {"chunk": self._chunk, "usage_chunk": self._usage_chunk}

    def _classify(self, frame: Frame) -> str | None:
        """``done`` for the sentinel (the grammar's ``sentinels``); else by the JSON: ``error`` for ``{"error": …}`` without choices,
        ``usage_chunk`` for ``choices: []``, ``chunk`` for the rest."""
        if not frame.parsed:
            # A sentinel, or data that could not be read (its framing issue is reported).
            return self._sentinels.get(frame.data) if frame.data is not None else None
        obj = frame.payload
        if type(obj) is not dict:
            self._flag(self.c_not_object, frame, f"data is a JSON {type(obj).__name__}, not an object")
            return None
        if "error" in obj and "choices" not in obj:
            return "error"
        return "usage_chunk" if obj.get("choices") == [] else "chunk"

    def _label(self, event: str, frame: Frame) -> str:
        return _LABELS[event]

    # -- content checks --------------------------------------------------------------------------------------

    def _same_stream(self, obj: dict[str, Any], frame: Frame) -> None:
        if self._id is None:
            self._id, self._model = obj["id"], obj["model"]
        elif obj["id"] != self._id or obj["model"] != self._model:
            self._flag(
                self.c_same_id,
                frame,
                f"id/model {obj['id']!r}/{obj['model']!r}; the stream began {self._id!r}/{self._model!r}",
            )

    def _usage_chunk(self, obj: dict[str, Any], frame: Frame) -> None:
        self._same_stream(obj, frame)
        self._usage(obj["usage"], frame)

    def _chunk(self, obj: dict[str, Any], frame: Frame) -> None:
        if obj["id"] != self._id or obj["model"] != self._model:
            self._same_stream(obj, frame)  # the first chunk, or a change
        for choice in obj["choices"]:
            index = choice["index"]
            state = self._choices.get(index)
            if state is None:
                state = self._choices[index] = _Choice()
                self._unfinished += 1
            elif state.finished:
                self._flag(self.c_after_finish, frame, f"choice {index} continues after its finish_reason")
                continue
            calls = choice["delta"].get("tool_calls")
            if calls:
                self._tool_deltas(state, calls, frame)
            reason = choice.get("finish_reason")
            if reason is not None:
                if reason not in self._finish_reasons:
                    known = ", ".join(sorted(self._finish_reasons))
                    self._flag(self.c_finish_reason, frame, f"finish_reason {reason!r}: not one of {known}")
                state.finished = True
                self._unfinished -= 1
                self._recheck = True
                for number, tool in state.tools.items():
                    self._check_arguments(number, tool, frame)
        usage = obj.get("usage")
        if usage is not None:
            self._usage(usage, frame)

    def _tool_deltas(self, choice: _Choice, calls: list[dict[str, Any]], frame: Frame) -> None:
        for call in calls:
            number = call["index"]
            function = call.get("function") or {}
            tool = choice.tools.get(number)
            if tool is None:
                expected = len(choice.tools)
                if number != expected:
                    self._flag(self.c_tool_index, frame, f"tool call index {number}, expected {expected}")
                missing = [
                    k for k, v in (("id", call.get("id")), ("function.name", function.get("name"))) if not v
                ]
                if missing:
                    self._flag(
                        self.c_tool_first,
                        frame,
                        f"first delta of tool call {number} has no {' or '.join(missing)}",
                    )
                tool = choice.tools[number] = _ToolCall(call.get("id"), function.get("name"))
            else:
                for key, value, known in (
                    ("id", call.get("id"), tool.id),
                    ("name", function.get("name"), tool.name),
                ):
                    if value is not None and known is not None and value != known:
                        self._flag(
                            self.c_tool_first, frame, f"tool call {number} changes its {key} to {value!r}"
                        )
            arguments = function.get("arguments")
            if arguments:
                tool.arguments.append(arguments)

    def _check_arguments(self, number: Any, tool: _ToolCall, frame: Frame) -> None:
        text = "".join(tool.arguments)
        ok, value, error = parse_json_text(text)
        if not ok:
            shown = f"{text[-40:]!r}" if text else "empty"
            self._flag(
                self.c_tool_arguments,
                frame,
                f"tool call {number} arguments are not complete JSON ({error}): {shown}",
            )
        elif type(value) is not dict:
            self._flag(
                self.c_tool_arguments,
                frame,
                f"tool call {number} arguments are a JSON {type(value).__name__}",
            )

    def _usage(self, usage: dict[str, Any], frame: Frame) -> None:
        prompt, completion, total = usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]
        if prompt + completion != total:
            self._flag(
                self.c_usage_total,
                frame,
                f"usage total_tokens {total} ≠ prompt {prompt} + completion {completion}",
            )

    def _end_detail(self) -> str:
        return ": no data [DONE]" if self._state not in ("DONE", "ERRORED") else ""


@RULE.condition("all_choices_finished")
def _all_choices_finished(validator: OpenAIValidator) -> bool:
    """Every choice seen so far has its finish_reason (``_chunk`` sets ``_recheck`` when one finishes)."""
    return bool(validator._choices) and validator._unfinished == 0
