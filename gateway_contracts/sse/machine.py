"""The one stream machine both dialects run on: frames in, every event through the grammar's table, violations out.

For each frame, in this order (so that a stream's violations come out in the same order however it is chunked):
the framing faults the parser found; what the dialect's ``_classify`` says the frame is (its own checks on the
way: not an object, an unknown event, …); the event's schema (the grammar's compiled check); the event's
transition (``Grammar.step``: a rejection is reported under its cell's clause); the dialect's content checks
for the event, when the table took it; then the state-triggered transitions (h11's
``_fire_state_triggered_transitions``), whose conditions are the dialect's named rules. At the end of the
stream, the ``end_of_stream`` pseudo-event goes through the table like any other.

A dialect (``anthropic_stream``, ``openai_stream``) supplies only what the table cannot say: how a frame
becomes an event, the content checks, and the named conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from gateway_contracts.sse.framing import Frame, FrameParser
from gateway_contracts.sse.grammar import END_OF_STREAM, Grammar, grammar
from gateway_contracts.sse.rules import Check, Dialect
from gateway_contracts.sse.schema_compile import Predicate
from gateway_contracts.sse.violations import Violation, excerpt

Handler = Callable[[Any, Frame], None]
"""A content check of one event type: ``(the event's JSON, its frame)``; it reports through ``_flag``."""


class StreamValidator:
    """One stream, validated incrementally.

    ``feed(chunk)`` takes bytes or text split anywhere and returns the violations that chunk revealed (for
    live reporting); ``close()`` ends the stream and returns *every* violation of the stream, in stream order.
    The result never depends on how the stream was chunked. ``strict=False`` reports MUST-level clauses only
    (no line-ending, BOM, final-blank-line or unknown-field findings).
    """

    dialect: ClassVar[Dialect]
    c_not_object: ClassVar[Check]
    c_schema: ClassVar[Check]

    def __init__(self, *, strict: bool = True) -> None:
        self.grammar: Grammar = grammar(self.dialect)
        self.strict = strict
        self._step = self.grammar.step
        self._state = self.grammar.initial
        self._triggers = self.grammar.triggers()
        self._recheck = False
        self._parser = self._make_parser()
        # Event → its compiled schema check and its content check (None where it has none), in one lookup.
        passes, handlers = self.grammar.schemas.passes, self._content_checks()
        self._plans: dict[str, tuple[Predicate | None, Handler | None]] = {
            event: (passes.get(event), handlers.get(event)) for event in self.grammar.events
        }
        self._violations: list[Violation] = []
        self._last: Frame | None = None
        self._closed = False

    # -- public ----------------------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def events(self) -> int:
        """How many frames (events) have been read so far."""
        return self._parser.frames_seen

    @property
    def violations(self) -> list[Violation]:
        return list(self._violations)

    def feed(self, chunk: bytes | str) -> list[Violation]:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__}.feed() after close()")
        start = len(self._violations)
        on_frame = self._on_frame
        for frame in self._parser.feed(chunk):
            on_frame(frame)
        return self._violations[start:]

    def close(self) -> list[Violation]:
        if not self._closed:
            self._closed = True
            for frame in self._parser.close():
                self._on_frame(frame)
            for issue in self._parser.stream_issues:
                self._flag(self.grammar.framing[issue.kind], None, issue.detail)
            self._end()
        return list(self._violations)

    # -- what a dialect supplies -----------------------------------------------------------------------------

    def _make_parser(self) -> FrameParser:
        raise NotImplementedError

    def _content_checks(self) -> Mapping[str, Handler]:
        """Event → its content check, run when the table takes the event and its schema holds."""
        raise NotImplementedError

    def _classify(self, frame: Frame) -> str | None:
        """The table's event for a frame (its JSON in ``frame.payload``), or None when nothing more can be said
        about it (a fault already reported)."""
        raise NotImplementedError

    def _label(self, event: str, frame: Frame) -> str:
        """How the event reads in "unexpected …" messages."""
        return event

    def _schema_failed(self, event: str, obj: Any) -> None:
        """An event the table took, whose schema does not hold: its content is not checked, but what later
        events depend on may still need to be kept."""

    def _end_detail(self) -> str:
        """More to say when the stream ends where it may not (which block was left open, …)."""
        return ""

    # -- the machine -----------------------------------------------------------------------------------------

    # The hot path: every event passes here. When all is well, the only calls are the dialect's classification,
    # the compiled schema check, the table lookup and the content check.
    def _on_frame(self, frame: Frame) -> None:
        self._last = frame
        if frame.issues:
            self._framing_issues(frame)
        event = self._classify(frame)
        if event is None:
            return
        obj = frame.payload
        valid = True
        passes, handler = self._plans[event]  # no schema for an unknown type or [DONE]
        if passes is not None and not passes(obj):
            problem = self.grammar.schemas.problem(event, obj)
            if problem is not None:
                self._flag(self.c_schema, frame, problem)
                valid = False
        state = self._state
        cell = self._step(state, event)
        self._state = cell.target
        if cell.clause is not None:
            self._flag(
                cell.clause, frame, f"unexpected {self._label(event, frame)} {self.grammar.states[state]}"
            )
            if not cell.take:
                return
        if valid:
            if handler is not None:
                handler(obj, frame)
        else:
            self._schema_failed(event, obj)
        if self._recheck:
            self._settle()

    def _settle(self) -> None:
        """The state-triggered transitions, fired until none applies (the loader refuses a cycle of them).
        The dialect sets ``_recheck`` when what a condition reads has changed: most events change nothing a
        condition reads, and skip this."""
        self._recheck = False
        moved = True
        while moved:
            moved = False
            for target, holds in self._triggers.get(self._state, ()):
                if holds(self):
                    self._state = target
                    moved = True
                    break

    def _end(self) -> None:
        cell = self._step(self._state, END_OF_STREAM)
        if cell.clause is not None:
            where = self.grammar.states[self._state]
            self._flag(cell.clause, None, f"stream ended {where} (truncated){self._end_detail()}")
        self._state = cell.target

    # -- reporting -------------------------------------------------------------------------------------------

    def _flag(self, clause: str, frame: Frame | None, message: str) -> None:
        level = self.grammar.clauses[clause].level
        if not self.strict and level != "MUST":
            return
        if frame is None:
            frame = self._last
        index, raw = (frame.index, frame.raw) if frame is not None else (0, b"")
        self._violations.append(Violation(clause, level, index, excerpt(raw), message))

    def _framing_issues(self, frame: Frame) -> None:
        framing = self.grammar.framing
        for issue in frame.issues:
            self._flag(framing[issue.kind], frame, issue.detail)
