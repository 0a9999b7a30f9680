"""``gateway-contracts sse-lint [FILE|-] [--dialect anthropic|openai] [--strict|--lenient] [--json]``.

Checks a captured event stream (a response body, e.g. from ``curl -N``) against the SSE grammar and prints one
line per violation, ``CLAUSE-ID event#N: message | excerpt``, on stdout (or one JSON document with
``--json``), and a summary on stderr. Exit 0 when clean, 1 on any violation, 2 when the input cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from gateway_contracts.errors import EXIT_FAILED, EXIT_USAGE, CliError

CHUNK = 64 * 1024


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
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gateway_contracts.sse import validator_for

    validator = validator_for(args.dialect, strict=not args.lenient)
    name = "<stdin>" if args.file == "-" else args.file
    live = not args.json
    printed = 0

    def feed(chunk: bytes) -> None:
        nonlocal printed
        found = validator.feed(chunk)
        if live and found:
            # As the stream arrives: `curl -N … | gateway-contracts sse-lint -` shows a fault when it happens.
            print("\n".join(map(str, found)), flush=True)
            printed += len(found)

    if args.file == "-":
        _read(sys.stdin.buffer, feed, name)
    else:
        try:
            fh = open(args.file, "rb")  # noqa: SIM115 - closed below; open errors need their own message
        except OSError as exc:
            raise CliError(f"cannot read {name}: {exc.strerror or exc}", EXIT_USAGE) from None
        with fh:
            _read(fh, feed, name)
    violations = validator.close()
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
            "violations": [v.as_dict() for v in violations],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    clauses = sorted({v.clause for v in violations})
    summary = f"{len(violations)} violation(s) of {', '.join(clauses)}" if violations else "no violations"
    print(f"sse-lint: {name}: {validator.events} event(s), {summary}", file=sys.stderr)
    return EXIT_FAILED if violations else 0


def _read(stream: BinaryIO, feed: Callable[[bytes], None], name: str) -> None:
    # read1 returns what has arrived instead of waiting for a full chunk (a live pipe would otherwise stall).
    read: Callable[[int], bytes] = getattr(stream, "read1", stream.read)
    try:
        while chunk := read(CHUNK):
            feed(chunk)
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}", EXIT_USAGE) from None
