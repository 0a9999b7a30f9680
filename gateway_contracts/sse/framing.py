"""An incremental Server-Sent Events frame parser that keeps what a strict checker needs to see.

Bytes (or text) arrive in arbitrary chunks; complete frames come out, each with its event name, its data, the
raw bytes it was read from (for excerpts) and its position in the stream. Parsing follows the WHATWG
event-stream rules (CRLF, LF and CR all end a line; a blank line ends a frame; one leading space after the
colon is dropped; data lines join with LF; comments start with a colon), so that what is reported is what a
browser or an SDK would read. Alongside, each frame carries the framing faults found in it:

* ``crlf`` / ``cr``: a line ended with CRLF or a lone CR (reported once per stream for each kind: a stream
  that uses CRLF uses it everywhere, and one line says so);
* ``bom``: the stream starts with a UTF-8 byte order mark (carried by the first frame);
* ``unterminated``: the last frame has no blank line after it (spec-conforming parsers drop such a frame; it
  is still parsed here, so that one framing fault does not read as a missing event);
* ``unknown_field``: a field line other than the known ones;
* ``no_data``: a frame without any ``data:`` line;
* ``not_utf8`` / ``not_json``: data that is not UTF-8, or (when asked to parse) not JSON.

Every decision depends on the bytes only, never on where the chunks were split: a CR at the end of the buffer
waits for the next byte (it may be half of a CRLF), and a possible BOM waits for its third byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

IssueKind = Literal["crlf", "cr", "bom", "unterminated", "unknown_field", "no_data", "not_utf8", "not_json"]

STANDARD_FIELDS = frozenset({"event", "data", "id", "retry"})
"""The fields the event-stream format defines."""

_BOM = b"\xef\xbb\xbf"
# A line terminator followed by another: the blank line that ends a frame. A lone CR only counts when no LF
# follows it, else "\r\n" would be read as two terminators.
_BLANK_LINE = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
_LONE_CR = re.compile(rb"\r(?!\n)")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# json.loads accepts NaN and Infinity, which are not JSON; a gateway that sends them breaks strict clients.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
# The decoder's C scanner: (value, end) for the JSON value at an index, with the decoder's hooks. (An instance
# attribute that typeshed does not declare, hence vars().)
_SCAN = cast(Callable[[str, int], tuple[Any, int]], vars(_DECODER)["scan_once"])


_TOO_DEEP = "nested too deeply to read"

MAX_DEPTH = 128
"""Event data nested deeper than this is reported as not readable (``not_json``) instead of being checked: the
schema checks, and the repr of a value in their messages, recurse once or more per level."""
# Each level of nesting opens and closes a bracket: JSON shorter than this cannot be nested too deeply, and the
# hot path skips the test.
_DEEP_LENGTH = 2 * (MAX_DEPTH + 1)


def _too_deep(text: str, value: Any) -> bool:
    # A value nested N deep has at least N brackets: the C-speed count spares nearly every frame the walk.
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        item, depth = level.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            level.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            level.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def parse_json_text(text: str) -> tuple[bool, Any, str]:
    """``(ok, value, error)``: strict JSON (no NaN or Infinity), the error's message when not ok."""
    try:
        return True, _DECODER.decode(text), ""
    except ValueError as exc:
        return False, None, str(exc)
    except RecursionError:
        return False, None, _TOO_DEEP


@dataclass(frozen=True, slots=True)
class Issue:
    kind: IssueKind
    detail: str


@dataclass(slots=True)
class Frame:
    """One event as read from the stream. ``index`` counts frames from 0 (comment-only blocks are not frames).

    Not frozen only because a frozen dataclass costs much more to build, on the hot path; treat it as
    read-only."""

    index: int
    event: str | None
    """The ``event:`` field, or None when the frame has none."""
    data: str | None
    """The ``data:`` lines joined with LF, or None when the frame has no data line."""
    raw: bytes
    """The frame's bytes as sent, without the blank line that ends it."""
    payload: Any = None
    """The parsed JSON data (see ``parsed``)."""
    parsed: bool = False
    """True when the parser was asked to parse JSON and the data is JSON (a sentinel such as ``[DONE]`` is not
    parsed). Distinguishes data ``null`` from data that could not be read."""
    issues: tuple[Issue, ...] = ()


class FrameParser:
    """Incremental: ``feed(chunk)`` returns the frames the chunk completed, ``close()`` the rest.
    ``known_fields``: field names that are not reported as unknown (a dialect without event names leaves
    ``event`` out). ``parse_json``: parse each frame's data as JSON into ``Frame.payload``. ``sentinels``:
    data values that are not JSON by design (OpenAI's ``[DONE]``). ``stream_issues`` holds faults no frame
    could
    carry (a BOM in a stream without frames), after ``close()``.
    """

    def __init__(
        self,
        *,
        known_fields: frozenset[str] = STANDARD_FIELDS,
        parse_json: bool = True,
        sentinels: frozenset[str] = frozenset(),
    ) -> None:
        self._known = frozenset(f.encode() for f in known_fields)
        self._event_known = b"event" in self._known
        self._parse_json = parse_json
        self._sentinels = sentinels
        self._buf = b""  # the bytes after the last complete frame…
        self._parts: list[bytes] = []  # …then chunks that completed nothing, joined only once one does
        self._bom_decided = False
        self._cr_seen = False  # once a CR appears, frames are found by the general (slower) splitter
        self._cr_reported: set[IssueKind] = set()
        self._pending: list[Issue] = []  # issues waiting for the next frame to carry them
        self._names: dict[bytes, str] = {}  # event names decoded once
        self._heads: dict[bytes, str] = {}  # b"event: X" lines → "X", for the fast path
        self._index = 0
        self._closed = False
        self.stream_issues: list[Issue] = []

    @property
    def frames_seen(self) -> int:
        return self._index

    def feed(self, chunk: bytes | str) -> list[Frame]:
        if self._closed:
            raise RuntimeError("FrameParser.feed() after close()")
        if isinstance(chunk, str):
            # surrogateescape: text that was decoded with it (undecodable bytes) goes back to the same bytes.
            chunk = chunk.encode("utf-8", "surrogateescape")
        if not chunk:
            return []
        if not self._cr_seen and b"\r" in chunk:
            self._cr_seen = True
        if self._bom_decided and not self._cr_seen:
            last = self._parts[-1] if self._parts else self._buf
            if b"\n\n" not in chunk and not (chunk[:1] == b"\n" and last[-1:] == b"\n"):
                # Nothing completed: set the chunk aside, so that a long event arriving in many small chunks
                # costs linear time (no re-joining or re-splitting of what is already buffered).
                self._parts.append(chunk)
                return []
        buf = b"".join([self._buf, *self._parts, chunk])
        self._parts.clear()
        if not self._bom_decided:
            if len(buf) < len(_BOM) and _BOM.startswith(buf):
                self._buf = buf
                return []
            buf = self._take_bom(buf)
        return self._split(buf, final=False)

    def close(self) -> list[Frame]:
        """The frames left in the buffer, the last one flagged ``unterminated`` if no blank line ended it."""
        if self._closed:
            return []
        self._closed = True
        buf = b"".join([self._buf, *self._parts])
        self._parts.clear()
        if not self._bom_decided:
            buf = self._take_bom(buf)
        frames = self._split(buf, final=True)
        tail, self._buf = self._buf, b""
        if tail.strip(b"\r\n"):
            frame = self._frame(
                tail, cr=self._cr_seen, extra=Issue("unterminated", "no blank line after the last event")
            )
            if frame is not None:
                frames.append(frame)
        self.stream_issues.extend(self._pending)
        self._pending.clear()
        return frames

    # -- internals -------------------------------------------------------------------------------------------

    def _take_bom(self, buf: bytes) -> bytes:
        self._bom_decided = True
        if buf.startswith(_BOM):
            self._pending.append(Issue("bom", "the stream starts with a UTF-8 byte order mark"))
            return buf[len(_BOM) :]
        return buf

    def _split(self, buf: bytes, *, final: bool) -> list[Frame]:
        frames: list[Frame] = []
        append = frames.append
        if not self._cr_seen:
            # LF-only stream, the common case: C-speed split on the blank line. A frame may start with extra
            # LFs (three or more in a row); _frame skips those empty lines, as the spec does.
            blocks = buf.split(b"\n\n")
            self._buf = blocks.pop()
            fast = self._fast
            for block in blocks:
                frame = fast(block)
                if frame is None:
                    frame = self._frame(block, cr=False)
                    if frame is None:
                        continue
                append(frame)
            return frames
        pos = 0
        end = len(buf)
        for m in _BLANK_LINE.finditer(buf):
            if not final and m.end() == end and buf[end - 1 : end] == b"\r":
                break  # that CR may be the first half of a CRLF still in flight
            block = buf[pos : m.start()]
            frame = self._frame(block, cr=True, terminator=m.group())
            pos = m.end()
            if frame is not None:
                append(frame)
        self._buf = buf[pos:]
        return frames

    def _fast(self, block: bytes) -> Frame | None:
        """The hot path, for the two shapes gateways send (``event: X`` + ``data: Y``, or ``data: Y``) when
        nothing is wrong with them; None sends the frame down the general path, which also explains faults.
        One call per frame, and json's C scanner called directly (``json.loads`` adds two Python calls and two
        regex matches around it)."""
        if block[:7] == b"event: ":
            # Split at the first LF (memchr-fast; searching for "\ndata: " is twice as slow).
            head, _, rest = block.partition(b"\n")
            if rest[:6] != b"data: " or b"\n" in rest or not self._event_known:
                return None
            name: str | None = self._heads.get(head)
            if name is None:
                return None
            data = rest[6:]
        elif block[:6] == b"data: " and b"\n" not in block:
            name, data = None, block[6:]
        else:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        # A sentinel ([DONE]) is never an object: the set lookup (which hashes the whole text) waits until then.
        if not self._parse_json or (text[:1] != "{" and text in self._sentinels):
            return None
        try:
            payload, end = _SCAN(text, 0)
        except (StopIteration, ValueError, RecursionError):
            return None  # leading whitespace, or not JSON: the general path says which
        if end != len(text) or self._pending or (end >= _DEEP_LENGTH and _too_deep(text, payload)):
            return None
        index = self._index
        self._index = index + 1
        return Frame(index, name, text, block, payload, True, ())

    def _frame(
        self, block: bytes, *, cr: bool, terminator: bytes = b"", extra: Issue | None = None
    ) -> Frame | None:
        """The general path: any field order, comments, several data lines, any line ending."""
        issues: list[Issue] = []
        if cr:
            self._note_line_endings(block + terminator, issues)
        event: bytes | None = None
        data_lines: list[bytes] = []
        fields = 0
        for line in block.splitlines() if cr else block.split(b"\n"):
            if not line or line[:1] == b":":
                continue  # leading empty lines (extra blank lines) and comments
            fields += 1
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name not in self._known:
                shown = name.decode("utf-8", "replace")[:40]
                issues.append(Issue("unknown_field", f"unknown field {shown!r}"))
            if name == b"data":
                data_lines.append(value)
            elif name == b"event":
                event = value
        if not fields:
            return None  # comments only: not an event
        if extra is not None:
            issues.append(extra)
        name_text: str | None = None
        if event is not None:
            name_text = self._names.get(event)
            if name_text is None:
                try:
                    name_text = event.decode("utf-8")
                    self._names[event] = name_text
                    self._heads[b"event: " + event] = name_text
                except UnicodeDecodeError:
                    name_text = event.decode("utf-8", "replace")
                    issues.append(Issue("not_utf8", "the event name is not UTF-8"))
        if not data_lines:
            issues.append(Issue("no_data", "a frame without a data line"))
            return self._emit(block, name_text, None, None, issues)
        return self._make(block, name_text, b"\n".join(data_lines), issues)

    def _make(self, block: bytes, name: str | None, data: bytes, issues: list[Issue]) -> Frame:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(Issue("not_utf8", f"data is not UTF-8 ({exc.reason} at byte {exc.start})"))
            return self._emit(block, name, data.decode("utf-8", "replace"), None, issues)
        if not self._parse_json or text in self._sentinels:
            return self._emit(block, name, text, None, issues)
        try:
            payload = _DECODER.decode(text)
        except ValueError as exc:
            issues.append(Issue("not_json", f"data is not JSON ({exc})"))
            return self._emit(block, name, text, None, issues)
        except RecursionError:
            deep = True
        else:
            deep = _too_deep(text, payload)
        if deep:
            issues.append(Issue("not_json", f"data is not JSON ({_TOO_DEEP}: over {MAX_DEPTH} levels)"))
            return self._emit(block, name, text, None, issues)
        return self._emit(block, name, text, payload, issues, parsed=True)

    def _emit(
        self,
        block: bytes,
        name: str | None,
        data: str | None,
        payload: Any,
        issues: list[Issue],
        parsed: bool = False,
    ) -> Frame:
        if self._pending:
            issues[:0] = self._pending
            self._pending.clear()
        index = self._index
        self._index = index + 1
        return Frame(index, name, data, block, payload, parsed, tuple(issues) if issues else ())

    def _note_line_endings(self, segment: bytes, issues: list[Issue]) -> None:
        if b"\r" not in segment:
            return
        if "crlf" not in self._cr_reported and b"\r\n" in segment:
            self._cr_reported.add("crlf")
            issues.append(Issue("crlf", "lines end with CRLF, not LF (reported once per stream)"))
        if "cr" not in self._cr_reported and _LONE_CR.search(segment):
            self._cr_reported.add("cr")
            issues.append(Issue("cr", "a line ends with a lone CR, not LF (reported once per stream)"))
