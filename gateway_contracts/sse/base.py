"""What both dialect validators share: framing, the state table walk, and how a violation is recorded."""

from __future__ import annotations

from typing import ClassVar

from gateway_contracts.sse.framing import Frame, FrameParser
from gateway_contracts.sse.grammar import END_OF_STREAM, Cell, Dialect, Grammar, grammar
from gateway_contracts.sse.schemas import SchemaChecker
from gateway_contracts.sse.violations import Violation, excerpt


class StreamValidator:
    """One stream, validated incrementally.

    ``feed(chunk)`` takes bytes or text split anywhere and returns the violations that chunk revealed (for
    live reporting); ``close()`` ends the stream and returns *every* violation of the stream, in stream order.
    The result never depends on how the stream was chunked. ``strict=False`` reports MUST-level clauses only
    (no line-ending, BOM, final-blank-line or unknown-field findings).
    """

    dialect: ClassVar[Dialect]

    def __init__(self, *, strict: bool = True) -> None:
        self.grammar: Grammar = grammar(self.dialect)
        self.strict = strict
        self._table = self.grammar.table
        self._state = self.grammar.initial
        self._schemas = SchemaChecker(self.dialect)
        self._parser = self._make_parser()
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

    # -- for the dialects ------------------------------------------------------------------------------------

    def _make_parser(self) -> FrameParser:
        raise NotImplementedError

    def _on_frame(self, frame: Frame) -> None:
        raise NotImplementedError

    def _end_detail(self) -> str:
        """More to say when the stream ends where it may not (which block was left open, …)."""
        return ""

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

    def _step(self, event: str, label: str, frame: Frame) -> Cell:
        """Fire ``event`` through the table; a rejection is flagged under its cell's clause."""
        cell = self._table[self._state][event]
        if cell.clause is not None:
            where = self.grammar.states[self._state]
            self._flag(cell.clause, frame, f"unexpected {label} {where}")
        self._state = cell.target
        return cell

    def _end(self) -> None:
        cell = self._table[self._state][END_OF_STREAM]
        if cell.clause is not None:
            where = self.grammar.states[self._state]
            self._flag(cell.clause, None, f"stream ended {where} (truncated){self._end_detail()}")
        self._state = cell.target
