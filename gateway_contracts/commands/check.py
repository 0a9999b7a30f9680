"""``gateway-contracts check``: run the conformance suite against a gateway and write the compliance reports.

Without ``--target`` it starts the embedded reference gateway (SQLite, scripted upstream) and checks every
profile. It writes ``report.json``, ``junit.xml``, ``report.md`` and ``report.html`` into ``--report-dir``.

The exit status is non-zero iff the verdict fails: a MUST clause failed or has no test, unless a waiver covers
it, or (with ``--baseline``, under the default ``--fail-on new``) it already failed in the baseline; an expired
waiver fails the run by itself. Harness problems (unreachable target, bad database URL, a log that is not JSON
lines, an unreadable baseline or waivers file) are one line each with their own exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from gateway_contracts.errors import (
    EXIT_BAD_LOG,
    EXIT_DATABASE,
    EXIT_FAILED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    CliError,
    redact_url,
)
from gateway_contracts.reports.schema import ReportError
from gateway_contracts.reports.verdict import POLICIES
from gateway_contracts.reports.waivers import DEFAULT_FILE as DEFAULT_WAIVERS
from gateway_contracts.reports.waivers import Waiver, WaiverError, load_waivers
from gateway_contracts.reports.write import JSON_NAME, RENDERERS
from gateway_contracts.target import KNOWN_FEATURES, Target

DEFAULT_SEED = 0
REPORT_NAME = JSON_NAME


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("check", help="check a gateway against the contract")
    p.add_argument("--target", metavar="URL", help="the gateway's base URL (default: the embedded reference)")
    p.add_argument("--db-url", help="the gateway's database: enables the capture profile")
    p.add_argument("--log-file", type=Path, help="the gateway's JSON log file: enables the logs profile")
    p.add_argument("--internal-key", help="the gateway's X-Ainfera-Internal-Key: enables the metrics profile")
    p.add_argument("--profile", action="append", default=[], help="check only this profile; repeatable")
    p.add_argument("--report-dir", type=Path, default=Path("reports/latest"), help="where the results go")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="hypothesis seed (default 0: reproducible)")
    p.add_argument(
        "--feature", action="append", default=[], choices=KNOWN_FEATURES, help="feature the target offers"
    )
    p.add_argument("--upstream-url", help="the scripted upstream the target fronts (enables upstream-echo)")
    p.add_argument("--kill-switch-url", help="an instance of the target whose kill-switch is engaged")
    p.add_argument("--kill-switch-db-url", help="that instance's database")
    p.add_argument(
        "--body-limit", type=int, default=32 * 1024 * 1024, help="the target's body limit in bytes"
    )
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds")
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="an earlier report.json: the reports tell new failures, fixed clauses and old failures apart",
    )
    p.add_argument(
        "--fail-on",
        choices=POLICIES,
        default="new",
        help="with --baseline: fail only on MUST clauses that did not fail in it (new, the default) or on any",
    )
    p.add_argument(
        "--waivers",
        type=Path,
        metavar="FILE",
        help=f"waived clauses with reasons and expiry dates (default: ./{DEFAULT_WAIVERS} if present)",
    )
    p.add_argument(
        "--clause",
        action="append",
        default=[],
        metavar="ID",
        help="run only the tests of this clause (its profile is implied); repeatable",
    )
    p.add_argument("-k", dest="keyword", help="only tests matching this pytest -k expression")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per test")
    p.set_defaults(run=run)


def _preflight(target: Target) -> None:
    """Fail fast, in one line, on what is the user's set-up and not the gateway's conformance."""
    from gateway_contracts.capture.db import CaptureDB, DatabaseError
    from gateway_contracts.logs import LogFileError, check_is_json_lines

    if not target.base_url.startswith(("http://", "https://")):
        raise CliError(f"--target must be an http(s) URL, got {target.base_url!r}", EXIT_USAGE)
    try:
        httpx.get(target.base_url + "/", timeout=min(target.timeout, 10.0))
    except httpx.TimeoutException:
        raise CliError(
            f"the gateway at {target.base_url} accepted the connection but did not answer within "
            f"{min(target.timeout, 10.0):g}s; is it hung?",
            EXIT_UNREACHABLE,
        ) from None
    except httpx.HTTPError as exc:
        raise CliError(
            f"cannot reach the gateway at {target.base_url} ({type(exc).__name__}); is it running?",
            EXIT_UNREACHABLE,
        ) from None
    for url in (target.db_url, target.kill_switch_db_url):
        if url:
            try:
                CaptureDB(url).ping()
            except DatabaseError as exc:
                raise CliError(f"cannot read the database {redact_url(url)}: {exc}", EXIT_DATABASE) from None
    if target.log_file:
        try:
            check_is_json_lines(target.log_file)
        except LogFileError as exc:
            raise CliError(str(exc), EXIT_BAD_LOG) from None


def _pytest_args(target: Target, args: argparse.Namespace, report: Path) -> list[str]:
    out = [
        "--pyargs",
        "gateway_contracts.conformance",
        "-p",
        "no:cacheprovider",
        # Only the plugins the suite needs (entry-point autoloading is off, see run()).
        "-p",
        "_hypothesis_pytestplugin",
        "-p",
        "gateway_contracts.pytest_plugin",
        # httpx has imported anyio before pytest starts in this process: pytest can no longer rewrite the
        # asserts of anyio's plugin, and says so. Nothing of ours is affected.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--rootdir",
        str(Path(__file__).resolve().parents[1] / "conformance"),
        "-o",
        "addopts=",
        "-o",
        "testpaths=",
        "--tb=line",
        "-rfE",
        "-v" if args.verbose else "-q",
        f"--hypothesis-seed={args.seed}",
        "--gateway-url",
        target.base_url,
        "--gateway-report",
        str(report),
        "--gateway-body-limit",
        str(target.body_limit),
        "--gateway-timeout",
        str(target.timeout),
    ]
    pairs = {
        "--gateway-db-url": target.db_url,
        "--gateway-log-file": str(target.log_file) if target.log_file else None,
        "--gateway-internal-key": target.internal_key,
        "--gateway-upstream-url": target.upstream_url,
        "--gateway-kill-switch-url": target.kill_switch_url,
        "--gateway-kill-switch-db-url": target.kill_switch_db_url,
    }
    for flag, value in pairs.items():
        if value:
            out += [flag, value]
    for feature in sorted(target.features):
        out += ["--gateway-feature", feature]
    for profile in args.profile:
        out += ["--gateway-profile", profile]
    for clause in args.clause:
        out += ["--gateway-clause", clause]
    if args.keyword:
        out += ["-k", args.keyword]
    return out


def run(args: argparse.Namespace) -> int:

    from gateway_contracts.clauses import CatalogueError, catalogue

    try:
        cat = catalogue()
    except CatalogueError as exc:
        raise CliError(f"the contract is invalid: {exc}", EXIT_USAGE) from None
    unknown_clauses = [c for c in args.clause if c not in cat.clauses]
    if unknown_clauses:
        raise CliError(f"unknown clause(s) {', '.join(unknown_clauses)}; see contracts/clauses", EXIT_USAGE)
    if args.clause and not args.profile:
        args.profile = sorted({cat.clauses[c].profile for c in args.clause})
    unknown = [p for p in args.profile if p not in cat.profiles]
    if unknown:
        raise CliError(
            f"unknown profile(s) {', '.join(unknown)}; known: {', '.join(cat.profiles)}", EXIT_USAGE
        )

    waivers, baseline = _inputs(args, set(cat.clauses))
    args.report_dir.mkdir(parents=True, exist_ok=True)
    report = args.report_dir / REPORT_NAME
    for stale in (report, *(args.report_dir / name for name, _ in RENDERERS.values())):
        stale.unlink(missing_ok=True)  # a run that dies must not leave the last run's reports looking current
    started = time.monotonic()
    with ExitStack() as stack:
        if args.target:
            target = Target(
                base_url=args.target.rstrip("/"),
                db_url=args.db_url,
                log_file=args.log_file,
                internal_key=args.internal_key,
                upstream_url=args.upstream_url,
                kill_switch_url=args.kill_switch_url,
                kill_switch_db_url=args.kill_switch_db_url,
                features=frozenset(args.feature),
                body_limit=args.body_limit,
                timeout=args.timeout,
                name=args.target,
            )
        else:
            from gateway_contracts.embedded import embedded_target

            where = redact_url(args.db_url) if args.db_url else "a fresh SQLite database"
            print(f"gateway-contracts: starting the embedded reference gateway on {where}", flush=True)
            if args.db_url:
                from gateway_contracts.commands.dburl import checked_db_url

                checked_db_url(args.db_url)
            target = stack.enter_context(embedded_target(args.report_dir / "embedded", db_url=args.db_url))
        _preflight(target)
        print(
            f"gateway-contracts: checking {target.name} at {target.base_url} (seed {args.seed})", flush=True
        )
        # Deterministic by default: hypothesis runs from --seed (0 unless given), printed above.
        code = _run_pytest(_pytest_args(target, args, report))

    if not report.exists():
        raise CliError(f"the conformance run ended without a report (pytest exit {code})", EXIT_FAILED)
    from gateway_contracts.reports import verdict
    from gateway_contracts.reports.write import write_all

    summary = verdict.apply(
        json.loads(report.read_text(encoding="utf-8")),
        waivers,
        baseline,
        baseline_source=str(args.baseline) if args.baseline else "",
        policy=args.fail_on,
    )
    try:
        paths = write_all(summary, args.report_dir)
    except ReportError as exc:  # a harness bug, not the gateway's: say so, keep the raw report for the bug
        raise CliError(f"internal error: {exc}", EXIT_FAILED) from None
    print_summary(summary, time.monotonic() - started, paths)
    if code not in (0, 1):  # interrupted, internal error, usage or collection error
        print(f"gateway-contracts: the test run itself failed (pytest exit {code})", file=sys.stderr)
        return EXIT_FAILED if code == 5 else int(code)
    return 0 if summary["verdict"]["passed"] else EXIT_FAILED


def _run_pytest(argv: list[str]) -> int:
    """pytest without autoloading the environment's plugins. Installed plugins are not ours to run (a user's
    environment may hold any), and pytest rewrites the asserts of every module of a plugin's distribution:
    schemathesis' ~300 modules on each run when bytecode is not cached, seconds per check and per selftest mutant.
    The suite uses schemathesis' Python API, not its plugin."""
    import pytest

    saved = os.environ.get(_NO_AUTOLOAD)
    os.environ[_NO_AUTOLOAD] = "1"
    try:
        return int(pytest.main(argv))
    finally:
        if saved is None:
            del os.environ[_NO_AUTOLOAD]
        else:
            os.environ[_NO_AUTOLOAD] = saved


_NO_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


def _inputs(args: argparse.Namespace, known: set[str]) -> tuple[list[Waiver], dict[str, Any] | None]:
    """The waivers and the baseline, read before anything starts: a typo there must not cost a whole run."""
    from gateway_contracts.reports.baseline import load_baseline

    path = args.waivers
    if path is None and DEFAULT_WAIVERS.is_file():
        path = DEFAULT_WAIVERS
    try:
        waivers = load_waivers(path, known) if path is not None else []
        baseline = load_baseline(args.baseline) if args.baseline else None
    except (WaiverError, ReportError) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    return waivers, baseline


def print_summary(summary: dict[str, Any], seconds: float, paths: dict[str, Path] | None = None) -> None:
    print()
    print(f"{'profile':<12}{'passed':>8}{'failed':>8}{'skipped':>9}{'untested':>10}{'waived':>8}")
    for pid, p in summary["profiles"].items():
        counts = f"{p['passed']:>8}{p['failed']:>8}{p['skipped']:>9}{p['untested']:>10}{p['waived']:>8}"
        print(f"{pid:<12}{counts}")
        for skip in p["skip_reasons"]:
            print(f"{'':<12}skipped ({len(skip['clauses'])}): {skip['reason']}")
    change_word = {"new-failure": " (new)", "still-failing": " (old)"}
    for clause in summary["clauses"]:
        change = change_word.get(clause["change"] or "", "")
        if clause["result"] == "failed":
            why = clause["reasons"][0].splitlines()[0] if clause["reasons"] else ""
            print(f"FAILED{change} {clause['id']} [{clause['level']}] {clause['title']}: {why[:160]}")
        elif clause["result"] == "untested":
            print(f"UNTESTED{change} {clause['id']} [{clause['level']}]: no test checks this clause")
        elif clause["result"] == "waived":
            w = clause["waiver"]
            print(f"WAIVED {clause['id']} [{clause['level']}] until {w['expires']}: {w['reason']}")
    baseline = summary["baseline"]
    if baseline is not None:
        print(
            f"against the baseline: {len(baseline['new_failures'])} new, {len(baseline['fixed'])} fixed, "
            f"{len(baseline['still_failing'])} still failing"
        )
    verdict = summary["verdict"]
    for reason in verdict["reasons"]:
        print(f"gateway-contracts: {reason}")
    word = "PASS" if verdict["passed"] else "FAIL"
    where = ", ".join(str(p) for p in paths.values()) if paths else "see --report-dir"
    print(f"gateway-contracts: {word} in {seconds:.1f}s — reports: {where}")
