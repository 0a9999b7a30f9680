"""``gateway-contracts sse-lint [FILE|-] [--dialect anthropic|openai] [--strict|--lenient] [--json]``.

Checks a captured event stream (a response body, e.g. from ``curl -N``) against the SSE grammar and prints one
line per violation, ``CLAUSE-ID event#N: message | excerpt``, on stdout (or one JSON document with
``--json``), and a summary on stderr. Exit 0 when clean, 1 on any violation, 2 when the input cannot be read.

The input is read incrementally, within limits, so that no input (``/dev/zero``, an endless pipe) can exhaust
memory: an event (the bytes between two blank lines) over ``--max-event-bytes`` (16 MiB) or an input over
``--max-total-bytes`` (256 MiB) ends the run with one line on stderr and exit 2. After ``--max-violations``
(1000) violations the rest of the input is not read: the run exits 1 and says so.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from gateway_contracts.bounded_io import ChunkLimits, InputTooLarge, MiB, format_size, parse_size
from gateway_contracts.errors import EXIT_FAILED, EXIT_USAGE, CliError, printable

CHUNK = 64 * 1024
MAX_EVENT = 16 * MiB
MAX_TOTAL = 256 * MiB
MAX_VIOLATIONS = 1000
# The blank line that ends an event, with any of the three line endings (as the frame parser reads them).
_BLANK_LINE = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


class _Enough(Exception):
    """--max-violations reached: stop reading."""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "sse-lint",
        help="check a captured event stream against the SSE grammar (exit 1 on any violation)",
        description="Check an Anthropic event stream or an OpenAI chunk stream against the SSE grammar.",
    )
    p.add_argument(
        "file", nargs="?", default="-", metavar="FILE|-", help="the stream (default: standard input)"
    )
    p.add_argument("--dialect", choices=["anthropic", "openai"], default="anthropic")
    p.add_argument(
        "--lenient",
        action="store_true",
        help="report MUST-level clauses only (no line-ending, BOM, final-blank-line, unknown-field findings)",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON document instead of one line per violation"
    )
    p.add_argument(
        "--max-event-bytes",
        type=parse_size,
        default=MAX_EVENT,
        metavar="SIZE",
        help=f"the longest event read (default {format_size(MAX_EVENT)}; 0: no limit); a longer one is exit 2",
    )
    p.add_argument(
        "--max-total-bytes",
        type=parse_size,
        default=MAX_TOTAL,
        metavar="SIZE",
        help=f"the longest input read (default {format_size(MAX_TOTAL)}; 0: no limit); a longer one is exit 2",
    )
    p.add_argument(
        "--max-violations",
        type=int,
        default=MAX_VIOLATIONS,
        metavar="N",
        help=f"stop reading after N violations (default {MAX_VIOLATIONS}; 0: no limit)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gateway_contracts.sse import validator_for

    if args.max_violations < 0:
        raise CliError(f"--max-violations must be 0 or more, got {args.max_violations}", EXIT_USAGE)
    validator = validator_for(args.dialect, strict=not args.lenient)
    name = "<stdin>" if args.file == "-" else printable(args.file)
    limits = ChunkLimits(
        name=name,
        max_record=args.max_event_bytes,
        max_total=args.max_total_bytes,
        separator=_BLANK_LINE,
        overlap=3,
        record_word="event",
        record_option="--max-event-bytes",
        total_option="--max-total-bytes",
    )
    live = not args.json
    cap = args.max_violations
    printed = 0
    seen = 0

    def feed(chunk: bytes) -> None:
        nonlocal printed, seen
        limits.feed(chunk)
        found = validator.feed(chunk)
        if not found:
            return
        if cap:
            found = found[: cap - seen]
        seen += len(found)
        if live:
            # As the stream arrives: `curl -N … | gateway-contracts sse-lint -` shows a fault when it happens.
            print("\n".join(map(str, found)), flush=True)
            printed += len(found)
        if cap and seen >= cap:
            raise _Enough

    stopped = False
    try:
        if args.file == "-":
            _read(sys.stdin.buffer, feed, name)
        else:
            try:
                fh = open(args.file, "rb")  # noqa: SIM115 - closed below; open errors need their own message
            except OSError as exc:
                raise CliError(f"cannot read {name}: {printable(exc.strerror or exc)}", EXIT_USAGE) from None
            with fh:
                _read(fh, feed, name)
    except InputTooLarge as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except _Enough:
        stopped = True
    # Stopped early, the stream is not closed: its end is not known, and "truncated" would be a false finding.
    violations = validator.violations[:cap] if stopped else validator.close()
    if live:
        for violation in violations[printed:]:
            print(violation)
    else:
        doc = {
            "file": name,
            "dialect": args.dialect,
            "strict": not args.lenient,
            "events": validator.events,
            "ok": not violations,
            "complete": not stopped,
            "violations": [v.as_dict() for v in violations],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    clauses = sorted({v.clause for v in violations})
    summary = f"{len(violations)} violation(s) of {', '.join(clauses)}" if violations else "no violations"
    if stopped:
        summary += f"; stopped there (--max-violations {cap}), the rest of the input was not read"
    print(f"sse-lint: {name}: {validator.events} event(s), {summary}", file=sys.stderr)
    return EXIT_FAILED if violations else 0


def _read(stream: BinaryIO, feed: Callable[[bytes], None], name: str) -> None:
    # read1 returns what has arrived instead of waiting for a full chunk (a live pipe would otherwise stall).
    read: Callable[[int], bytes] = getattr(stream, "read1", stream.read)
    try:
        while chunk := read(CHUNK):
            feed(chunk)
    except OSError as exc:
        raise CliError(f"cannot read {name}: {printable(exc.strerror or exc)}", EXIT_USAGE) from None
