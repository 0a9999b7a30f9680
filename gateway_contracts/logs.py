"""Reading a gateway's JSON-lines log file for the logs and trace clauses.

The file is the user's and may be anything: it is read incrementally, only when it is a regular file (a device
such as ``/dev/zero``, a named pipe or a directory is refused: the suite reads the file many times over), at
most ``max_total`` bytes in all and ``max_line`` bytes of each line. A line that cannot be read as one JSON object
(not JSON, NaN or Infinity, nested too deeply, a number too long to convert, over the line limit) is simply not
a record: ``LogLine.record`` is None and ``LogLine.reason`` says why. Nothing here raises anything but
``LogFileError``, whose message is one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway_contracts.bounded_io import (
    InputTooLarge,
    Line,
    MiB,
    bounded_lines,
    format_size,
    open_regular,
)
from gateway_contracts.errors import first_line, printable

MAX_LINE = 1 * MiB
"""The longest log line read whole; a longer line is kept cut to this and is not a record."""
MAX_TOTAL = 128 * MiB
"""The largest log file read. The suite reads the file from its start for each check: point ``--log-file`` at
a log the gateway starts for the run, not at a production log of gigabytes."""
PREFLIGHT_LINES = 20
"""How many non-blank lines the preflight looks at."""


class LogFileError(Exception):
    pass


@dataclass(frozen=True)
class LogLine:
    number: int
    raw: str
    record: dict[str, Any] | None
    """The parsed object, or None when the line is not one JSON object."""
    reason: str = ""
    """Why ``record`` is None (empty when it is not)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Strict JSON: json.loads accepts NaN and Infinity, which JSON does not have.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_record(raw: str) -> tuple[dict[str, Any] | None, str]:
    """``(record, "")`` for a line that is one JSON object, else ``(None, reason)``; never raises."""
    try:
        value = _DECODER.decode(raw)
    except RecursionError:
        return None, "not JSON (nested too deeply to read)"
    except ValueError as exc:
        message = first_line(exc)
        if "integer string conversion" in message:
            return None, "not JSON (a number too long to read)"
        return None, f"not JSON ({printable(message, 120)})"
    if not isinstance(value, dict):
        return None, f"not a JSON object (a JSON {_json_type(value)})"
    return value, ""


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool) or value is None:
        return "literal"
    return "number"


def _strip_ending(data: bytes) -> bytes:
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data


def _raw_lines(path: Path, *, max_line: int, max_total: int) -> Iterator[Line]:
    name = f"the log file {printable(path)}"
    try:
        fh, size = open_regular(path)
    except OSError as exc:
        raise LogFileError(f"cannot read {name}: {printable(exc.strerror or exc)}") from None
    except ValueError as exc:
        raise LogFileError(f"cannot read {name}: it is {exc}, not a regular file") from None
    with fh:
        if max_total > 0 and size > max_total:
            raise LogFileError(
                f"{name} holds {size} bytes, more than the {format_size(max_total)} the harness reads; "
                "give the gateway a fresh log file for the run"
            )
        try:
            yield from bounded_lines(
                fh, name=name, max_line=max_line, max_total=max_total, oversized="truncate"
            )
        except InputTooLarge as exc:
            raise LogFileError(f"{exc}; give the gateway a fresh log file for the run") from None
        except OSError as exc:
            raise LogFileError(f"cannot read {name}: {printable(exc.strerror or exc)}") from None


def iter_lines(
    path: Path,
    start: int = 0,
    *,
    max_line: int = MAX_LINE,
    max_total: int = MAX_TOTAL,
    written_only: bool = False,
) -> Iterator[LogLine]:
    """The lines after the first ``start``, one at a time; see the module's docstring for the limits.
    ``written_only``: not a last line without its newline. A gateway may be writing it: a write that crosses a
    page boundary is visible to a reader in two parts, and the first is not yet a line, let alone bad JSON."""
    for line in _raw_lines(path, max_line=max_line, max_total=max_total):
        if line.number <= start:
            continue
        if written_only and not line.ended:
            return
        raw = _strip_ending(line.data).decode("utf-8", errors="replace")
        if line.oversized:
            reason = f"not read: longer than {format_size(max_line)} ({line.size} bytes)"
            yield LogLine(line.number, raw, None, reason)
            continue
        record, reason = parse_record(raw)
        yield LogLine(line.number, raw, record, reason)


def read_lines(
    path: Path, start: int = 0, *, max_line: int = MAX_LINE, max_total: int = MAX_TOTAL
) -> list[LogLine]:
    """Every line after the first ``start`` (numbered from 1 in the file) that its writer has finished: the
    suite reads the log of a running gateway (``iter_lines``'s ``written_only``)."""
    return list(iter_lines(path, start, max_line=max_line, max_total=max_total, written_only=True))


def check_is_json_lines(path: Path, *, max_line: int = MAX_LINE, max_total: int = MAX_TOTAL) -> None:
    """Harness preflight: a file none of whose first lines is JSON is the wrong file, not a gateway failure.
    Reads at most the first :data:`PREFLIGHT_LINES` non-blank lines; raises ``LogFileError`` (one line) for a
    file that is not a regular file, cannot be read, is over the limits, or has no JSON object among them."""
    seen: list[LogLine] = []
    for line in iter_lines(path, max_line=max_line, max_total=max_total):
        if not line.raw.strip():
            continue
        if line.record is not None:
            return
        seen.append(line)
        if len(seen) >= PREFLIGHT_LINES:
            break
    if seen:
        first = seen[0]
        raise LogFileError(
            f"{printable(path)} is not a JSON-lines log (none of its first {len(seen)} non-blank line(s) is a JSON object; "
            f"line {first.number}: {first.reason})"
        )


def line_count(path: Path, *, max_line: int = MAX_LINE, max_total: int = MAX_TOTAL) -> int:
    """How many lines the file has, counted as :func:`read_lines` numbers them; 0 when it cannot be read."""
    count = 0
    try:
        for line in _raw_lines(path, max_line=max_line, max_total=max_total):
            count = line.number
    except LogFileError:
        return 0
    return count
