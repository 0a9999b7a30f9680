"""``gateway-contracts scrub``: log lines in, the same lines scrubbed out (``contracts/scrubbing.yaml``).

JSON lines are scrubbed structurally (values under sensitive keys, secrets by shape inside values, JSON inside
strings); any other line by shape and ``key=value``. A line with nothing to redact comes out byte for byte as
it went in, line endings included, so the command can sit in a pipe in front of any log shipper.

``--check`` prints where the secrets are (file, line, rule id, family; never the secret) instead of the lines,
and exits 1 when there is any: a CI step can refuse a log that leaks.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from gateway_contracts.errors import EXIT_FAILED, EXIT_USAGE, CliError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "scrub",
        help="scrub secrets and prompt content from log lines (stdin or files) to stdout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="*", type=Path, help="log files to read (default: stdin)")
    p.add_argument("--check", action="store_true", help="report findings instead of scrubbing; exit 1 if any")
    p.add_argument("--summary", action="store_true", help="print redactions per family to stderr at the end")
    p.add_argument(
        "--rules", type=Path, help="a scrubbing rules file (default: the contract's scrubbing.yaml)"
    )
    p.set_defaults(run=run)


def _sources(files: list[Path]) -> Iterator[tuple[str, IO[bytes]]]:
    if not files:
        yield "<stdin>", sys.stdin.buffer
        return
    for path in files:
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror}", EXIT_USAGE) from None
        with fh:
            yield str(path), fh


def _split_ending(raw: str) -> tuple[str, str]:
    if raw.endswith("\r\n"):
        return raw[:-2], "\r\n"
    if raw.endswith(("\n", "\r")):
        return raw[:-1], raw[-1]
    return raw, ""


def _interactive(stream: IO[bytes]) -> bool:
    """A pipe or terminal (``tail -f | scrub``) gets each line as soon as it is scrubbed; a file is buffered."""
    try:
        return not stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return True


def run(args: argparse.Namespace) -> int:
    from gateway_contracts.scrub import Scrubber, default_scrubber, load_rules
    from gateway_contracts.scrub.lines import line_findings, scrub_line

    try:
        scrubber = Scrubber(load_rules(args.rules)) if args.rules else default_scrubber()
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot load the scrubbing rules {args.rules}: {exc}", EXIT_USAGE) from None

    out = sys.stdout.buffer
    families: Counter[str] = Counter()
    found = 0
    for name, stream in _sources(args.files):
        flush_each = _interactive(stream)
        for number, raw_bytes in enumerate(stream, start=1):
            # surrogateescape: bytes that are not UTF-8 pass through unchanged instead of failing the run.
            raw = raw_bytes.decode("utf-8", "surrogateescape")
            line, ending = _split_ending(raw)
            if args.check or args.summary:
                hits = line_findings(scrubber, line)
                families.update(family for _, family in hits)
                if args.check:
                    found += len(hits)
                    for rule_id, family in hits:
                        out.write(f"{name}:{number}: {rule_id} ({family})\n".encode())
                    continue
            out.write((scrub_line(scrubber, line) + ending).encode("utf-8", "surrogateescape"))
            if flush_each:
                out.flush()
    out.flush()
    if args.summary:
        summary = ", ".join(f"{family}: {n}" for family, n in families.most_common()) or "nothing"
        print(f"gateway-contracts scrub: redacted {summary}", file=sys.stderr)
    return EXIT_FAILED if args.check and found else 0
