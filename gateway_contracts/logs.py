"""Reading a gateway's JSON-lines log file for the logs and trace clauses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class LogFileError(Exception):
    pass


@dataclass(frozen=True)
class LogLine:
    number: int
    raw: str
    record: dict[str, Any] | None
    """The parsed object, or None when the line is not one JSON object."""


def read_lines(path: Path, start: int = 0) -> list[LogLine]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise LogFileError(f"cannot read the log file {path}: {exc.strerror}") from None
    out: list[LogLine] = []
    for number, raw in enumerate(text.splitlines()[start:], start=start + 1):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = None
        out.append(LogLine(number, raw, value if isinstance(value, dict) else None))
    return out


def check_is_json_lines(path: Path) -> None:
    """Harness preflight: a file none of whose first lines is JSON is the wrong file, not a gateway failure."""
    lines = [line for line in read_lines(path)[:20] if line.raw.strip()]
    if lines and not any(line.record is not None for line in lines):
        raise LogFileError(
            f"{path} is not a JSON-lines log (none of its first {len(lines)} lines is a JSON object)"
        )


def line_count(path: Path) -> int:
    try:
        return len(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return 0
