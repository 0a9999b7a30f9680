"""The Anthropic ``/v1/messages`` event stream validator (clauses ``SSE-NNN``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway_contracts.sse.framing import Frame, FrameParser, parse_json_text
from gateway_contracts.sse.grammar import UNKNOWN_EVENT, GrammarError
from gateway_contracts.sse.machine import Handler, StreamValidator
from gateway_contracts.sse.rules import RULES

RULE = RULES["anthropic"]


class AnthropicValidator(StreamValidator):
    """Validates ``P message_start P (content_block_start[k] (P content_block_delta[k])* P
    content_block_stop[k] P)* message_delta P message_stop``, or a proper prefix of it and one ``error``,
    against ``contracts/sse-grammar.yaml``: the order through the state table, each event through its schema,
    and the content rules (block indices, delta kinds, tool input JSON, stop reason and sequence, cumulative
    usage) through the checks below."""

    dialect = "anthropic"
    # The checks, each reported under the clause the grammar file's `checks:` gives its name.
    c_not_object = RULE.check("not_object")
    c_schema = RULE.check("schema")
    c_event_name = RULE.check("event_name")
    c_unknown = RULE.check("unknown_event")
    c_index = RULE.check("block_index")
    c_interleave = RULE.check("block_interleave")
    c_block_kind = RULE.check("block_kind")
    c_delta_kind = RULE.check("delta_kind")
    c_tool_input = RULE.check("tool_input")
    c_stop_reason = RULE.check("stop_reason")
    c_stop_sequence = RULE.check("stop_sequence")
    c_usage = RULE.check("usage_cumulative")

    def __init__(self, *, strict: bool = True) -> None:
        super().__init__(strict=strict)
        g = self.grammar
        self._stop_reasons = frozenset(g.strings("stop_reasons"))
        raw_kinds = g.spec.get("block_deltas")
        if not isinstance(raw_kinds, dict):
            raise GrammarError("anthropic: block_deltas must map block kinds to delta kinds")
        self._block_deltas: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in raw_kinds.items()}
        self._counters = g.strings("usage_counters")
        self._known = frozenset(g.schemas)  # the event types the dialect defines: each has its schema
        self._usage_start: dict[str, Any] | None = None
        self._next_index: Any = 0
        self._open_index: Any = None
        self._open_kind: str | None = None
        self._partial: list[str] | None = None  # the tool_use block's partial_json fragments

    def _make_parser(self) -> FrameParser:
        return FrameParser()

    def _content_checks(self) -> Mapping[str, Handler]:
        return {
            "message_start": self._message_start,
            "content_block_start": self._block_start,
            "content_block_delta": self._block_delta,
            "content_block_stop": self._block_stop,
            "message_delta": self._message_delta,
        }

    def _classify(self, frame: Frame) -> str | None:
        """The event is the JSON object's ``type``; a type the dialect does not define is ``unknown``."""
        if not frame.parsed:
            return None
        obj = frame.payload
        if type(obj) is not dict:
            self._flag(self.c_not_object, frame, f"data is a JSON {type(obj).__name__}, not an object")
            return None
        kind = obj.get("type")
        if type(kind) is not str:
            self._flag(self.c_not_object, frame, "the JSON object has no string `type`")
            return None
        if frame.event != kind:
            self._event_name(frame, kind)
        if kind not in self._known:
            self._flag(self.c_unknown, frame, f"unknown event type {kind!r}")
            return UNKNOWN_EVENT
        return kind

    def _label(self, event: str, frame: Frame) -> str:
        return str(frame.payload["type"])  # an unknown event is named by its own type

    def _schema_failed(self, event: str, obj: Any) -> None:
        # Keep track of the blocks anyway: the deltas that follow are judged against them.
        if event == "content_block_start":
            self._open_block(obj.get("index"), None)
        elif event == "content_block_stop":
            self._close_block()

    def _event_name(self, frame: Frame, kind: str) -> None:
        if frame.event is None:
            self._flag(self.c_event_name, frame, f"no event: line for a {kind!r} event")
        else:
            self._flag(self.c_event_name, frame, f"event: {frame.event!r} but the JSON type is {kind!r}")

    def _end_detail(self) -> str:
        if self._state == "BLOCK" and self._open_index is not None:
            kind = f" ({self._open_kind})" if self._open_kind else ""
            return f": content block {self._open_index}{kind} was never stopped"
        return ""

    # -- content checks, one per event type ------------------------------------------------------------------

    def _message_start(self, obj: dict[str, Any], frame: Frame) -> None:
        self._usage_start = obj["message"]["usage"]

    def _block_start(self, obj: dict[str, Any], frame: Frame) -> None:
        index = obj["index"]
        expected = self._next_index
        if index != expected:
            what = "a gap" if index > expected else "a repeat"
            self._flag(self.c_index, frame, f"content block index {index}, expected {expected} ({what})")
        kind: str | None = obj["content_block"]["type"]
        if kind not in self._block_deltas:
            known = ", ".join(self._block_deltas)
            self._flag(self.c_block_kind, frame, f"content block of unknown kind {kind!r} (known: {known})")
            kind = None  # its deltas cannot be judged
        self._open_block(index, kind)

    def _open_block(self, index: Any, kind: str | None) -> None:
        if isinstance(index, int | float) and index >= self._next_index:
            self._next_index = int(index) + 1
        self._open_index = index
        self._open_kind = kind
        self._partial = [] if kind == "tool_use" else None

    def _block_delta(self, obj: dict[str, Any], frame: Frame) -> None:
        index = obj["index"]
        if index != self._open_index:
            self._flag(
                self.c_interleave, frame, f"delta for block {index} while block {self._open_index} is open"
            )
            return
        kind = self._open_kind
        if kind is None:
            return
        delta = obj["delta"]
        if delta["type"] not in self._block_deltas[kind]:
            allowed = " or ".join(sorted(self._block_deltas[kind])) or "no delta"
            self._flag(self.c_delta_kind, frame, f"{delta['type']} in a {kind} block (allowed: {allowed})")
        elif self._partial is not None:
            self._partial.append(delta["partial_json"])

    def _block_stop(self, obj: dict[str, Any], frame: Frame) -> None:
        index = obj["index"]
        if index != self._open_index:
            self._flag(
                self.c_interleave,
                frame,
                f"content_block_stop for block {index} while block {self._open_index} is open",
            )
        elif self._partial:
            self._check_tool_input("".join(self._partial), frame)
        self._close_block()

    def _close_block(self) -> None:
        self._open_index = None
        self._open_kind = None
        self._partial = None

    def _check_tool_input(self, text: str, frame: Frame) -> None:
        # An empty concatenation leaves the input of content_block_start (a schema-checked object) in place.
        if not text:
            return
        ok, value, error = parse_json_text(text)
        if not ok:
            self._flag(
                self.c_tool_input, frame, f"tool_use input is not complete JSON ({error}): {text[-40:]!r}"
            )
        elif type(value) is not dict:
            self._flag(
                self.c_tool_input, frame, f"tool_use input is a JSON {type(value).__name__}, not an object"
            )

    def _message_delta(self, obj: dict[str, Any], frame: Frame) -> None:
        delta = obj["delta"]
        reason, sequence = delta["stop_reason"], delta["stop_sequence"]
        if reason not in self._stop_reasons:
            said = "no stop_reason (null)" if reason is None else f"stop_reason {reason!r}"
            self._flag(
                self.c_stop_reason, frame, f"{said}: not one of {', '.join(sorted(self._stop_reasons))}"
            )
        if reason == "stop_sequence" and sequence is None:
            self._flag(self.c_stop_sequence, frame, "stop_reason is stop_sequence but stop_sequence is null")
        elif reason != "stop_sequence" and sequence is not None:
            self._flag(
                self.c_stop_sequence, frame, f"stop_sequence {sequence!r} set with stop_reason {reason!r}"
            )
        start = self._usage_start
        if start is None:
            return
        usage = obj["usage"]
        for counter in self._counters:
            before, after = start.get(counter), usage.get(counter)
            if before is not None and after is not None and after < before:
                self._flag(
                    self.c_usage,
                    frame,
                    f"usage.{counter} went down: {before} at message_start, {after} here",
                )
