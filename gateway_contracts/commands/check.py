"""``gateway-contracts check``: run the conformance suite against a gateway and write the compliance reports.

Without ``--target`` it checks the reference gateway: its own target file (``contracts/targets/reference.toml``)
starts it embedded (SQLite, scripted upstream) and names every profile. It writes ``report.json``, ``junit.xml``, ``report.md`` and ``report.html`` into ``--report-dir``.

The exit status is non-zero iff the verdict fails: a MUST clause failed or has no test, unless a waiver covers
it, or (with ``--baseline``, under the default ``--fail-on new``) it already failed in the baseline; an expired
waiver fails the run by itself. Harness problems (unreachable target, bad database URL, a log that is not JSON
lines, an unreadable baseline or waivers file) are one line each with their own exit status.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from contracts.clauses import Catalogue
from gateway_contracts.errors import EXIT_FAILED, EXIT_USAGE, CliError, redact_url
from gateway_contracts.reports.schema import ReportError
from gateway_contracts.reports.verdict import POLICIES
from gateway_contracts.reports.waivers import DEFAULT_FILE as DEFAULT_WAIVERS
from gateway_contracts.reports.waivers import Waiver, WaiverError, load_waivers
from gateway_contracts.reports.write import JSON_NAME, RENDERERS
from gateway_contracts.target import Target, options
from gateway_contracts.target.config import ConfigError, resolve
from gateway_contracts.target.preflight import preflight

if TYPE_CHECKING:
    from gateway_contracts.conformance.examples import Pregenerated
    from gateway_contracts.reports.baseline import Prior
    from gateway_contracts.reports.model import Report

DEFAULT_SEED = 0
REPORT_NAME = JSON_NAME


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check",
        help="check a gateway against the contract",
        description="Check a gateway against the contract. With no target (no --config, no "
        "./gateway-contracts.toml, no --target) it checks the reference gateway, started embedded by the start "
        "command of contracts/targets/reference.toml.",
    )
    options.add_arguments(p)
    p.add_argument("--report-dir", type=Path, default=Path("reports/latest"), help="where the results go")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="hypothesis seed (default 0: reproducible)")
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


def pytest_args(args: argparse.Namespace, report: Path) -> list[str]:
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
        # The console is the verdict and one line per failed clause (print_summary); tracebacks, evidence and
        # hypothesis' reproductions are in the report. -v shows each test and its failure line as well.
        *(["--tb=line", "-rfE", "-v"] if args.verbose else ["--tb=no", "-q", "-p", "no:warnings"]),
        f"--hypothesis-seed={args.seed}",
        "--gateway-report",
        str(report),
    ]
    for clause in args.clause:
        out += ["--gateway-clause", clause]
    if args.keyword:
        out += ["-k", args.keyword]
    return out


class _Preset:
    """Hands the target ``check`` resolved, started and preflighted to the in-process pytest run, with the
    property tests' examples it started drawing (if it did)."""

    def __init__(self, target: Target, early_examples: Pregenerated | None) -> None:
        self.target = target
        self.early_examples = early_examples

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        from gateway_contracts.pytest_plugin import register_plugin

        register_plugin(config, self.target, self.early_examples)


def resolve_target(args: argparse.Namespace, cat: Catalogue) -> Target:
    """The target from ``--config`` (or ./gateway-contracts.toml, or the reference's file) and the flags."""
    flags = options.cli_values(lambda dest: getattr(args, dest, None))
    try:
        spec = resolve(args.config, flags)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if args.clause and "target.profiles" not in flags:
        spec = clause_profiles(spec, args, cat)
    unknown = [p for p in spec.profiles if p not in cat.profiles]
    if unknown:
        raise CliError(
            f"unknown profile(s) {', '.join(unknown)}; known: {', '.join(cat.profiles)}", EXIT_USAGE
        )
    return spec


def clause_profiles(target: Target, args: argparse.Namespace, cat: Catalogue) -> Target:
    """``--clause`` without ``--profile``: the clauses' own profiles are the ones checked (and reported)."""
    return dataclasses.replace(target, profiles=tuple(sorted({cat.clauses[c].profile for c in args.clause})))


def start_target(spec: Target, workdir: Path) -> Any:
    """``spec`` started by its start command (a context manager); a database URL it names is checked first."""
    from contracts.scrub import default_scrubber
    from gateway_contracts.target.start import started

    if spec.db_url:
        from contracts.db_urls import checked_db_url

        checked_db_url(spec.db_url)
    where = f" on {redact_url(spec.db_url)}" if spec.db_url else ""
    command = default_scrubber().scrub_text(shlex.join(spec.start))  # a key may be among its arguments
    print(f"gateway-contracts: starting the target{where}: {command}", flush=True)
    return started(spec, workdir)


def run(args: argparse.Namespace) -> int:
    from contracts.clauses import CatalogueError, catalogue

    try:
        cat = catalogue()
    except CatalogueError as exc:
        raise CliError(f"the contract is invalid: {exc}", EXIT_USAGE) from None
    unknown_clauses = [c for c in args.clause if c not in cat.clauses]
    if unknown_clauses:
        raise CliError(f"unknown clause(s) {', '.join(unknown_clauses)}; see contracts/clauses", EXIT_USAGE)
    spec = resolve_target(args, cat)
    waivers, baseline = _inputs(args, set(cat.clauses))
    args.report_dir.mkdir(parents=True, exist_ok=True)
    report = args.report_dir / REPORT_NAME
    for stale in (report, *(args.report_dir / name for name, _ in RENDERERS.values())):
        stale.unlink(missing_ok=True)  # a run that dies must not leave the last run's reports looking current
    started = time.monotonic()
    with ExitStack() as stack:
        early = _early_examples(args, spec)
        if early is not None:
            stack.callback(early.close)
        loading = _Background(load_suite, "load-suite")  # while the target starts: this process only waits
        target = stack.enter_context(start_target(spec, args.report_dir / "started")) if spec.start else spec
        if spec.start and spec.profiles != target.profiles:
            # Started, the target is built again from the file, the flags and its ready line: the profiles
            # chosen above (``--clause`` narrows them) stay what they were.
            target = dataclasses.replace(target, profiles=spec.profiles)
        # A warm-up only: whatever failed in it fails again where the suite needs it, and is reported there.
        loading.join(reraise=False)
        preflight(target)
        profiles = ", ".join(target.profiles or cat.generic_profiles)
        named = target.name if target.name != target.base_url else "the gateway"
        print(
            f"gateway-contracts: checking {named} at {target.base_url} (profiles: {profiles}; seed {args.seed})",
            flush=True,
        )
        # Deterministic by default: hypothesis runs from --seed (0 unless given), printed above.
        code = _run_pytest(pytest_args(args, report), _Preset(target, early))
        # The target's stop (its shutdown: this process only waits) goes on while the reports are written.
        stopping = _Background(stack.pop_all().close, "stop-target")

    try:
        if not report.exists():
            raise CliError(f"the conformance run ended without a report (pytest exit {code})", EXIT_FAILED)
        from gateway_contracts.reports import verdict
        from gateway_contracts.reports.loader import load_report
        from gateway_contracts.reports.write import write_all

        try:
            judged = verdict.apply(
                load_report(report),
                waivers,
                baseline,
                baseline_source=str(args.baseline) if args.baseline else "",
                policy=args.fail_on,
            )
            paths = write_all(judged, args.report_dir)
        except ReportError as exc:
            # A harness bug, not the gateway's: say so, keep the raw report for the bug.
            raise CliError(f"internal error: {exc}", EXIT_FAILED) from None
    finally:
        stopping.join()
    print_summary(judged, time.monotonic() - started, paths)
    if code not in (0, 1):  # interrupted, internal error, usage or collection error
        print(f"gateway-contracts: the test run itself failed (pytest exit {code})", file=sys.stderr)
        return EXIT_FAILED if code == 5 else int(code)
    return 0 if judged.verdict.passed else EXIT_FAILED


class _Background:
    """``work`` in a thread of its own; ``join`` waits for it and raises what it raised, here."""

    def __init__(self, work: Callable[[], object], name: str) -> None:
        self._error: BaseException | None = None

        def run() -> None:
            try:
                work()
            except BaseException as exc:
                self._error = exc

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def join(self, reraise: bool = True) -> None:
        self._thread.join()
        if self._error is not None and reraise:
            raise self._error


def load_suite() -> None:
    """Import and build what the suite needs once pytest runs (hypothesis, the suite's helpers, the SSE grammars,
    the report's validator, the TLS context). Not the test modules: pytest imports those itself, rewriting their
    asserts."""
    import hypothesis  # noqa: F401

    import gateway_contracts.conformance.client
    import gateway_contracts.conformance.concurrent
    import gateway_contracts.conformance.streams  # noqa: F401
    from gateway_contracts.reports.schema import validator
    from gateway_contracts.sse.grammar import grammar
    from gateway_contracts.sse.rules import DIALECTS
    from gateway_contracts.target.tls import tls

    tls()
    validator()
    for dialect in DIALECTS:
        grammar(dialect)


def _early_examples(args: argparse.Namespace, spec: Target) -> Pregenerated | None:
    """For a whole run (no ``--clause``, no ``-k``): the property tests' examples, drawn from now on by a process
    of their own, on the core the target's start leaves free. Collection, seconds later, would start the same
    process with the same arguments; it takes this one instead when it is (``Pregenerated.covers``)."""
    if args.clause or args.keyword:
        return None
    from gateway_contracts.conformance.examples import Pregenerated, likely, pins_backends

    names = likely(spec)
    return Pregenerated(names, args.seed, pins_backends(spec)) if names else None


def _run_pytest(argv: list[str], preset: _Preset) -> int:
    with no_plugin_autoload():
        return int(pytest.main(argv, plugins=[preset]))


@contextmanager
def no_plugin_autoload() -> Iterator[None]:
    """pytest without autoloading the environment's plugins. Installed plugins are not ours to run (a user's
    environment may hold any), and pytest rewrites the asserts of every module of a plugin's distribution:
    schemathesis' ~300 modules on each run when bytecode is not cached, seconds per check and per selftest mutant.
    The suite uses schemathesis' Python API, not its plugin."""
    saved = os.environ.get(_NO_AUTOLOAD)
    os.environ[_NO_AUTOLOAD] = "1"
    try:
        yield
    finally:
        if saved is None:
            del os.environ[_NO_AUTOLOAD]
        else:
            os.environ[_NO_AUTOLOAD] = saved


_NO_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


def _inputs(args: argparse.Namespace, known: set[str]) -> tuple[list[Waiver], Prior | None]:
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


def print_summary(report: Report, seconds: float, paths: dict[str, Path] | None = None) -> None:
    """Top-down, as a reviewer reads: the verdict, then one line per failed clause (its test and why), then the
    per-profile counts; the evidence and the reproduction commands are in the report files."""
    verdict = report.verdict
    word = "PASS" if verdict.passed else "FAIL"
    partial = [p.id for p in report.profiles if p.partial]
    if verdict.passed and partial:
        word = f"PASS (partial: nothing judged in {', '.join(partial)})"
    print()
    print(f"gateway-contracts: {word}")
    for reason in verdict.reasons:
        print(f"  {reason}")
    change_word = {"new-failure": " (new)", "still-failing": " (old)"}
    for clause in report.clauses:
        change = change_word.get(clause.change or "", "")
        if clause.result == "failed":
            why = clause.reasons[0].splitlines()[0] if clause.reasons else ""
            test = next((t.nodeid for t in clause.tests if t.outcome == "failed"), "")
            print(f"FAILED{change} {clause.id} [{clause.level}] {clause.title}")
            print(f"    {test}: {why[:200]}")
        elif clause.result == "untested":
            print(f"UNTESTED{change} {clause.id} [{clause.level}]: no test checks this clause")
        elif clause.result == "waived" and clause.waiver is not None:
            print(
                f"WAIVED {clause.id} [{clause.level}] until {clause.waiver.expires}: {clause.waiver.reason}"
            )
    baseline = report.baseline
    if baseline is not None:
        print(
            f"against the baseline: {len(baseline.new_failures)} new, {len(baseline.fixed)} fixed, "
            f"{len(baseline.still_failing)} still failing"
        )
    print()
    print(f"{'profile':<12}{'passed':>8}{'failed':>8}{'skipped':>9}{'untested':>10}{'waived':>8}")
    for p in report.profiles:
        counts = f"{p.passed:>8}{p.failed:>8}{p.skipped:>9}{p.untested:>10}{p.waived:>8}"
        state = "" if p.selected else "  (not selected)"
        if p.partial:
            state = "  PARTIAL: every MUST clause skipped"
        print(f"{p.id:<12}{counts}{state}")
        if p.selected:
            for skip in p.skip_reasons:
                print(f"{'':<12}skipped ({len(skip.clauses)}): {skip.reason}")
    where = ", ".join(str(p) for p in paths.values()) if paths else "see --report-dir"
    print(f"gateway-contracts: {word} in {seconds:.1f}s — reports: {where}")
