"""The OpenAI ``/v1/chat/completions`` chunk stream validator (clauses ``OAI-SSE-NNN``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway_contracts.sse.base import StreamValidator
from gateway_contracts.sse.framing import Frame, FrameParser, parse_json_text
from gateway_contracts.sse.grammar import GrammarError
from gateway_contracts.sse.schemas import HAND_CHECKS

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

    def __init__(self, *, strict: bool = True) -> None:
        super().__init__(strict=strict)
        g = self.grammar
        self._finish_reasons = frozenset(g.strings("finish_reasons"))
        checks = g.checks
        self._c_not_object = checks["not_object"]
        self._c_schema = checks["schema"]
        self._c_same_id = checks["same_id"]
        self._c_after_finish = checks["after_finish"]
        self._c_finish_reason = checks["finish_reason"]
        self._c_usage_total = checks["usage_total"]
        self._c_tool_index = checks["tool_index"]
        self._c_tool_first = checks["tool_first_delta"]
        self._c_tool_arguments = checks["tool_arguments"]
        conditions: dict[str, Callable[[], bool]] = {"all_choices_finished": self._all_finished}
        for trigger in g.state_triggered:
            if trigger.when not in conditions:
                raise GrammarError(f"openai: state_triggered condition {trigger.when!r} is not known")
        self._triggers = [(t.source, t.target, conditions[t.when]) for t in g.state_triggered]
        self._hand = HAND_CHECKS["openai"]
        self._id: Any = None
        self._model: Any = None
        self._choices: dict[Any, _Choice] = {}
        self._unfinished = 0
        self._settled = True  # no choice has finished since the state triggers last ran

    def _make_parser(self) -> FrameParser:
        value = self.grammar.spec.get("done_sentinel")
        self._done = value if isinstance(value, str) else "[DONE]"
        # No `event` among the known fields: an event name in this dialect is flagged (OAI-SSE-004).
        return FrameParser(known_fields=frozenset({"data", "id", "retry"}), sentinels=frozenset({self._done}))

    def _on_frame(self, frame: Frame) -> None:
        self._last = frame
        if frame.issues:
            self._framing_issues(frame)
        obj: dict[str, Any] | None = None
        problem: str | None = None
        if not frame.parsed:
            if frame.data != self._done:
                return  # unreadable: its framing issue is reported
            event = "done"
        else:
            payload = frame.payload
            if type(payload) is not dict:
                self._flag(
                    self._c_not_object, frame, f"data is a JSON {type(payload).__name__}, not an object"
                )
                return
            obj = payload
            if "error" in obj and "choices" not in obj:
                event = "error"
            elif obj.get("choices") == []:
                event = "usage_chunk"
            else:
                event = "chunk"
            if not self._hand[event](obj):
                problem = self._schemas.problem(event, obj)
                if problem is not None:
                    self._flag(self._c_schema, frame, problem)
        cell = self._table[self._state][event]
        if cell.clause is not None:
            cell = self._step(event, _LABELS[event], frame)
        else:
            self._state = cell.target
        if obj is not None and problem is None and (cell.clause is None or cell.take):
            if event == "chunk":
                self._chunk(obj, frame)
            elif event == "usage_chunk":
                self._same_stream(obj, frame)
                self._usage(obj["usage"], frame)
        if not self._settled:
            # State-triggered transitions; their conditions can only turn true when a choice finishes.
            self._settled = True
            for source, target, condition in self._triggers:
                if self._state == source and condition():
                    self._state = target

    def _all_finished(self) -> bool:
        return bool(self._choices) and self._unfinished == 0

    # -- content checks --------------------------------------------------------------------------------------

    def _same_stream(self, obj: dict[str, Any], frame: Frame) -> None:
        if self._id is None:
            self._id, self._model = obj["id"], obj["model"]
        elif obj["id"] != self._id or obj["model"] != self._model:
            self._flag(
                self._c_same_id,
                frame,
                f"id/model {obj['id']!r}/{obj['model']!r}; the stream began {self._id!r}/{self._model!r}",
            )

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
                self._flag(self._c_after_finish, frame, f"choice {index} continues after its finish_reason")
                continue
            calls = choice["delta"].get("tool_calls")
            if calls:
                self._tool_deltas(state, calls, frame)
            reason = choice.get("finish_reason")
            if reason is not None:
                if reason not in self._finish_reasons:
                    known = ", ".join(sorted(self._finish_reasons))
                    self._flag(self._c_finish_reason, frame, f"finish_reason {reason!r}: not one of {known}")
                state.finished = True
                self._unfinished -= 1
                self._settled = False
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
                    self._flag(self._c_tool_index, frame, f"tool call index {number}, expected {expected}")
                missing = [
                    k for k, v in (("id", call.get("id")), ("function.name", function.get("name"))) if not v
                ]
                if missing:
                    self._flag(
                        self._c_tool_first,
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
                            self._c_tool_first, frame, f"tool call {number} changes its {key} to {value!r}"
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
                self._c_tool_arguments,
                frame,
                f"tool call {number} arguments are not complete JSON ({error}): {shown}",
            )
        elif type(value) is not dict:
            self._flag(
                self._c_tool_arguments,
                frame,
                f"tool call {number} arguments are a JSON {type(value).__name__}",
            )

    def _usage(self, usage: dict[str, Any], frame: Frame) -> None:
        prompt, completion, total = usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]
        if prompt + completion != total:
            self._flag(
                self._c_usage_total,
                frame,
                f"usage total_tokens {total} ≠ prompt {prompt} + completion {completion}",
            )

    def _end_detail(self) -> str:
        return ": no data [DONE]" if self._state not in ("DONE", "ERRORED") else ""
