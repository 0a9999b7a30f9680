"""``gateway-contracts scrub``: log lines in, the same lines scrubbed out (``contracts/scrubbing.yaml``).

JSON lines are scrubbed structurally (values under sensitive keys, secrets by shape inside values, JSON inside
strings); any other line by shape and ``key=value``. A line with nothing to redact comes out byte for byte as
it went in, line endings included, so the command can sit in a pipe in front of any log shipper.

``--check`` prints where the secrets are (file, line, rule id, family; never the secret) instead of the lines,
and exits 1 when there is any: a CI step can refuse a log that leaks.

Input is read a line at a time, so memory stays bounded whatever comes in: a line longer than
``--max-line-bytes`` (default 1 MiB) or an input longer than ``--max-total-bytes`` (default 64 MiB, counted per
file; 0 for no limit, e.g. in a long-running ``tail -f`` pipe) stops the run with one line on stderr and exit 2,
as does an input that cannot be read. A JSON line nested too deeply to parse is scrubbed as text.
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

from gateway_contracts.bounded_io import InputTooLarge, MiB, bounded_lines, format_size, parse_size
from gateway_contracts.errors import EXIT_FAILED, EXIT_USAGE, CliError, printable

MAX_LINE = 1 * MiB
MAX_TOTAL = 64 * MiB


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
    p.add_argument(
        "--max-line-bytes",
        type=parse_size,
        default=MAX_LINE,
        metavar="SIZE",
        help=f"the longest line read (default {format_size(MAX_LINE)}; 0: no limit); a longer one is exit 2",
    )
    p.add_argument(
        "--max-total-bytes",
        type=parse_size,
        default=MAX_TOTAL,
        metavar="SIZE",
        help=f"the most read from each input (default {format_size(MAX_TOTAL)}; 0: no limit); more is exit 2",
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
            raise CliError(
                f"cannot read {printable(path)}: {printable(exc.strerror or exc)}", EXIT_USAGE
            ) from None
        with fh:
            yield printable(path), fh


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
    from contracts.scrub import Scrubber, default_scrubber, load_rules
    from contracts.scrub.lines import line_findings, scrub_line

    try:
        scrubber = Scrubber(load_rules(args.rules)) if args.rules else default_scrubber()
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot load the scrubbing rules {args.rules}: {exc}", EXIT_USAGE) from None

    def scrubbed(line: str) -> str:
        try:
            return scrub_line(scrubber, line)
        except RecursionError:  # JSON too deep to walk: its text is still scrubbed by shape and key=value
            return scrubber.scrub_text(line)

    def findings(line: str) -> list[tuple[str, str]]:
        try:
            return line_findings(scrubber, line)
        except RecursionError:
            return [(f.rule_id, f.family) for f in scrubber.findings(line)]

    out = sys.stdout.buffer
    families: Counter[str] = Counter()
    found = 0
    for name, stream in _sources(args.files):
        flush_each = _interactive(stream)
        lines = bounded_lines(
            stream,
            name=name,
            max_line=args.max_line_bytes,
            max_total=args.max_total_bytes,
            line_option="--max-line-bytes",
            total_option="--max-total-bytes",
        )
        try:
            for each in lines:
                number = each.number
                # surrogateescape: bytes that are not UTF-8 pass through unchanged instead of failing the run.
                raw = each.data.decode("utf-8", "surrogateescape")
                line, ending = _split_ending(raw)
                if args.check or args.summary:
                    hits = findings(line)
                    families.update(family for _, family in hits)
                    if args.check:
                        found += len(hits)
                        for rule_id, family in hits:
                            out.write(f"{name}:{number}: {rule_id} ({family})\n".encode())
                        continue
                out.write((scrubbed(line) + ending).encode("utf-8", "surrogateescape"))
                if flush_each:
                    out.flush()
        except InputTooLarge as exc:
            out.flush()
            raise CliError(str(exc), EXIT_USAGE) from None
        except BrokenPipeError:
            raise  # the reader went away: run_command ends quietly, this is no read error
        except OSError as exc:
            out.flush()
            raise CliError(f"cannot read {name}: {printable(exc.strerror or exc)}", EXIT_USAGE) from None
    out.flush()
    if args.summary:
        summary = ", ".join(f"{family}: {n}" for family, n in families.most_common()) or "nothing"
        print(f"gateway-contracts scrub: redacted {summary}", file=sys.stderr)
    return EXIT_FAILED if args.check and found else 0
