"""``gateway-contracts report``: re-render a report.json as Markdown, HTML, JUnit XML (or JSON).

With ``--baseline``, the comparison is redone against that earlier report (and the verdict with it, under the
waivers the report recorded, judged on the day it ran), so one stored report can be rendered against any
baseline, e.g. the main branch's latest, after the fact.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gateway_contracts.errors import EXIT_USAGE, CliError
from gateway_contracts.reports.schema import ReportError
from gateway_contracts.reports.verdict import POLICIES
from gateway_contracts.reports.write import RENDERERS

FORMATS = (*RENDERERS, "json")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("report", help="re-render a report.json (md, html, junit)")
    p.add_argument(
        "--from", dest="source", type=Path, required=True, metavar="REPORT.json", help="a report check wrote"
    )
    p.add_argument("--format", choices=FORMATS, required=True, help="what to render")
    p.add_argument("--baseline", type=Path, metavar="OLD.json", help="compare with this earlier report")
    p.add_argument(
        "--fail-on",
        choices=POLICIES,
        default="new",
        help="with --baseline: the verdict fails only on new MUST failures (new, the default) or on any",
    )
    p.add_argument("--output", type=Path, metavar="FILE", help="write here instead of standard output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gateway_contracts.reports import verdict, waivers
    from gateway_contracts.reports.baseline import load_baseline
    from gateway_contracts.reports.loader import load_report
    from gateway_contracts.reports.write import encode, render

    try:
        report = load_report(args.source)
        if args.baseline is not None:
            report = verdict.apply(
                report,
                waivers.from_report(report),
                load_baseline(args.baseline),
                baseline_source=str(args.baseline),
                policy=args.fail_on,
            )
        text = render(report, args.format)
    except ReportError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if args.output is None:
        sys.stdout.buffer.write(encode(text))
        sys.stdout.flush()
        return 0
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_bytes(encode(text))
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror or exc}", EXIT_USAGE) from None
    return 0
