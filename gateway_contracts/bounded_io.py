"""Reading untrusted input (log files, captured streams, standard input) incrementally, within limits.

Every input the harness reads from a user can be hostile or just wrong: ``/dev/zero``, a file of one
20-gigabyte line, a pipe that never ends. Reading it whole (``read_text``, iterating a file by lines) lets such
an input exhaust memory. Here each line is read at most ``max_line`` bytes at a time and the whole input is
counted against ``max_total``; going over a limit raises :class:`InputTooLarge`, whose message is one line
naming the input, the limit and the option that raises it. A limit of 0 means no limit.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO, Literal

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

CHUNK = 64 * KiB
"""How much is read at a time while skipping the rest of an oversized line."""


class InputTooLarge(Exception):
    """An input over one of its limits. ``str()`` is one line for the user."""

    def __init__(self, message: str, *, kind: Literal["line", "total"], limit: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.limit = limit


def format_size(n: int) -> str:
    """``1 MiB``, ``64 MiB``, ``512 KiB``, ``1000 bytes``: the way the limits are written in messages."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


_SIZE = re.compile(r"\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": KiB, "kb": KiB, "kib": KiB, "m": MiB, "mb": MiB, "mib": MiB}
_UNITS |= {"g": GiB, "gb": GiB, "gib": GiB}


def parse_size(text: str) -> int:
    """An ``argparse`` type for byte limits: ``1048576``, ``512K``, ``64MiB``, ``1G`` (binary units); ``0`` for
    no limit."""
    m = _SIZE.fullmatch(text)
    if m is None:
        raise argparse.ArgumentTypeError(
            f"not a size: {text!r} (write e.g. 1048576, 512KiB, 64MiB, 0 for none)"
        )
    return int(m.group(1)) * _UNITS[(m.group(2) or "").lower()]


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    """1-based."""
    data: bytes
    """The line as read, its ending (LF or CRLF; none on a last line without one) included. For an oversized
    line, its first ``max_line`` bytes only."""
    size: int
    """The length of the whole line in bytes, ending included (more than ``len(data)`` when oversized)."""
    oversized: bool = False
    ended: bool = True
    """Its LF was read: false only for a last line without one (a file's writer may be in the middle of it)."""


def bounded_lines(
    stream: IO[bytes],
    *,
    name: str,
    max_line: int,
    max_total: int,
    oversized: Literal["raise", "truncate"] = "raise",
    line_option: str = "",
    total_option: str = "",
) -> Iterator[Line]:
    """The lines of ``stream`` (split at LF, as a binary file iterates), read incrementally.

    A line longer than ``max_line`` bytes (ending included) raises :class:`InputTooLarge` with
    ``oversized="raise"``; with ``"truncate"`` it is yielded cut to its first ``max_line`` bytes, flagged, and
    the rest of it is skipped (still counted against ``max_total``). More than ``max_total`` bytes in all
    raises. ``line_option`` and ``total_option`` name the options that raise the limits, for the message.
    Works on pipes as they arrive: each line is yielded as soon as its LF is read.
    """
    readline = stream.readline
    total = 0
    number = 0
    window = max_line + 1 if max_line > 0 else -1
    while True:
        data = readline(window)
        if not data:
            return
        number += 1
        size = len(data)
        ended = data.endswith(b"\n")
        cut = max_line > 0 and size > max_line
        if cut:
            if oversized == "raise":
                raise InputTooLarge(
                    f"{name}: line {number} is longer than {format_size(max_line)}"
                    + (f" (raise the limit with {line_option})" if line_option else ""),
                    kind="line",
                    limit=max_line,
                )
            data = data[:max_line]
            while not ended:
                if max_total > 0 and total + size > max_total:
                    break  # reported below, before anything more is read
                rest = readline(CHUNK)
                if not rest:
                    break
                size += len(rest)
                ended = rest.endswith(b"\n")
        total += size
        if max_total > 0 and total > max_total:
            raise InputTooLarge(
                f"{name} is longer than {format_size(max_total)}"
                + (f" (raise the limit with {total_option})" if total_option else ""),
                kind="total",
                limit=max_total,
            )
        yield Line(number, data, size, cut, ended)


class ChunkLimits:
    """For input read in chunks rather than lines (an event stream): ``feed(chunk)`` raises
    :class:`InputTooLarge` once the input holds a record longer than ``max_record`` bytes, or more than
    ``max_total`` bytes in all. A record ends where ``separator`` matches (a regex over bytes: for
    Server-Sent Events, a blank line). Records may be split anywhere across chunks; a separator split across two
    chunks is found too (the last few bytes of each chunk are kept to look for it)."""

    def __init__(
        self,
        *,
        name: str,
        max_record: int,
        max_total: int,
        separator: re.Pattern[bytes],
        overlap: int,
        record_word: str = "record",
        record_option: str = "",
        total_option: str = "",
    ) -> None:
        self.name = name
        self.max_record = max_record
        self.max_total = max_total
        self._separator = separator
        self._overlap = overlap
        self._word = record_word
        self._record_option = record_option
        self._total_option = total_option
        self._tail = b""
        self.record = 0
        """Bytes since the last separator."""
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.max_total > 0 and self.total > self.max_total:
            raise InputTooLarge(
                f"{self.name} is longer than {format_size(self.max_total)}"
                + (f" (raise the limit with {self._total_option})" if self._total_option else ""),
                kind="total",
                limit=self.max_total,
            )
        if self.max_record <= 0:
            return
        window = self._tail + chunk
        end = -1
        for match in self._separator.finditer(window):
            end = match.end()
        if end < 0:
            self.record += len(chunk)
        else:
            self.record = len(window) - end
        self._tail = window[-self._overlap :]
        if self.record > self.max_record:
            raise InputTooLarge(
                f"{self.name}: an {self._word} is longer than {format_size(self.max_record)}"
                + (f" (raise the limit with {self._record_option})" if self._record_option else ""),
                kind="line",
                limit=self.max_record,
            )


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words: ``a directory``, ``a named pipe (FIFO)``, ``a character device``…"""
    for test, word in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return word
    return "not a regular file"


def open_regular(path: str | os.PathLike[str]) -> tuple[BinaryIO, int]:
    """Open a file for reading only if it is a regular file; return it with its size.

    Opened non-blocking first, so that a named pipe with no writer is refused instead of blocking the open.
    Raises ``OSError`` for what cannot be opened, and ``ValueError`` naming the kind of file (see
    :func:`kind_of`) for anything that is not a regular file: a device such as ``/dev/zero``, a pipe, a
    directory, a socket."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(kind_of(info.st_mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise
