"""``gateway-contracts fuzz``: run schemathesis against a gateway from the contract, with the contract's checks.

Without ``--target`` it fuzzes the reference gateway, started embedded (SQLite, scripted upstream). Outputs go to fixed
paths under ``--report-dir``/fuzz: the document and configuration fuzzed, ``junit.xml``, ``events.ndjson`` and
``findings.json`` (each finding with a curl reproduction). The exit status is non-zero iff there is a finding the
baseline does not accept; harness problems are one line each with their own status, as for ``check``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from gateway_contracts.errors import EXIT_FAILED, EXIT_USAGE, CliError
from gateway_contracts.fuzz.baseline import Baseline, BaselineError
from gateway_contracts.fuzz.findings import Finding
from gateway_contracts.fuzz.outcome import Outcome
from gateway_contracts.fuzz.runner import RunPaths
from gateway_contracts.target import Target, options
from gateway_contracts.target.config import ConfigError, resolve
from gateway_contracts.target.preflight import preflight

PHASES = ("examples", "coverage", "fuzzing", "stateful")
DEFAULT_MAX_EXAMPLES = 100
DEFAULT_WORKERS = 1
"""One worker sends one fixed sequence of requests per seed (more workers interleave operations differently from
run to run), and sidesteps a CPython 3.11 race in ``ast.parse`` that hypothesis hits from concurrent threads."""
MAX_LISTED = 20


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "fuzz", help="fuzz a gateway from the contract (schemathesis)"
    )
    options.add_arguments(p)
    p.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        help=f"test cases per operation in the fuzzing phase (default {DEFAULT_MAX_EXAMPLES}; nightly: 2000)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="generation seed: the same seed sends the same requests"
    )
    p.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (default: all)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="concurrent workers (default 1: one fixed request order per seed)",
    )
    p.add_argument("--report-dir", type=Path, default=Path("reports/latest"), help="outputs go to DIR/fuzz")
    p.add_argument("--baseline", type=Path, help="accepted findings: only findings not in it fail the run")
    p.add_argument("--update-baseline", action="store_true", help="write this run's findings to --baseline")
    p.set_defaults(run=run)


def _check_args(args: argparse.Namespace) -> tuple[str, ...]:
    if args.max_examples < 1:
        raise CliError(f"--max-examples must be at least 1, got {args.max_examples}", EXIT_USAGE)
    if not 1 <= args.workers <= 64:
        raise CliError(f"--workers must be between 1 and 64, got {args.workers}", EXIT_USAGE)
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = [p for p in phases if p not in PHASES]
    if unknown or not phases:
        raise CliError(f"unknown phase(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(PHASES)}")
    if args.update_baseline and args.baseline is None:
        raise CliError("--update-baseline needs --baseline FILE", EXIT_USAGE)
    return phases


def run(args: argparse.Namespace) -> int:
    phases = _check_args(args)
    baseline = None
    if args.baseline is not None and not args.update_baseline:
        try:
            baseline = Baseline.load(args.baseline)
        except BaselineError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
    flags = options.cli_values(lambda dest: getattr(args, dest, None))
    try:
        spec = resolve(args.config, flags)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    paths = RunPaths(args.report_dir / "fuzz")
    paths.clear()
    with ExitStack() as stack:
        target = _target(spec, paths, stack)
        preflight(target)
        started = time.monotonic()
        outcome = _fuzz(args, paths, phases, target)
        outcome.seconds = time.monotonic() - started
    return _conclude(args, paths, outcome, baseline, target)


def _target(spec: Target, paths: RunPaths, stack: ExitStack) -> Target:
    if not spec.start:
        return spec
    from gateway_contracts.commands.check import start_target

    target: Target = stack.enter_context(start_target(spec, paths.directory / "started"))
    return target


def _fuzz(args: argparse.Namespace, paths: RunPaths, phases: tuple[str, ...], target: Target) -> Outcome:
    from gateway_contracts.fuzz import config, document, runner
    from gateway_contracts.fuzz.settings import DEFAULT_API_KEY, ENV_API_KEY, TargetFacts, subprocess_env

    doc = document.write_document(paths.document, target)
    run_config = config.RunConfig(
        max_examples=args.max_examples,
        request_timeout=target.timeout,
        enforce_client_auth=target.auth_enforced,
        models=tuple(dict.fromkeys([target.messages_model, target.chat_model, *target.aliases])),
        headers=tuple(target.headers.items()),
        route_headers=tuple((r, tuple(h.items())) for r, h in target.route_headers.items()),
        auth_headers=tuple(target.auth_headers("${" + ENV_API_KEY + "}").items()),
        secret_headers=tuple(sorted({*target.auth_headers(), *target.metrics_headers()})),
    )
    paths.config.write_text(config.render(run_config), encoding="utf-8")
    invocation = runner.Invocation(target.base_url, args.seed, args.workers, phases)
    print(
        f"gateway-contracts: fuzzing {target.base_url} (seed {args.seed}, {args.max_examples} examples per "
        f"operation, phases {','.join(phases)}, workers {args.workers}"
        + (", capture checked in the database" if target.db_url else "")
        + ")",
        flush=True,
    )
    facts = TargetFacts(
        models=run_config.models,
        request_id_header=target.request_id_header,
        capture_queries=tuple(sorted(target.capture_queries.items())),
        ainfera="ainfera" in target.profiles,
    )
    env = subprocess_env(target.db_url, target.api_key or DEFAULT_API_KEY, target.internal_key, facts)
    env.update(config.header_environment(run_config))
    env[document.ENV_DOCUMENT] = str(paths.document)
    code = runner.run_schemathesis(paths, invocation, env)
    return Outcome.read(paths, code, document.operation_ids(doc), target.db_url)


def _into_report(report_dir: Path, found: list[Finding], outcome: Outcome, target: Target) -> Path:
    """The findings, each with its clause and curl (scrubbed), as the ``fuzz`` section of ``report.json`` in the
    report directory: added to the report ``check`` wrote there, or to a report of their own (no clause checked
    by ``check``) when there is none (or only one this harness cannot read); the Markdown, HTML and JUnit files
    are rendered again with them."""
    from contracts.clauses import catalogue
    from gateway_contracts.reports.loader import load_report
    from gateway_contracts.reports.schema import ReportError
    from gateway_contracts.reports.write import JSON_NAME, write_all
    from gateway_contracts.results import ClauseResults

    path = report_dir / JSON_NAME
    report = None
    if path.is_file():
        try:
            report = load_report(path)
        except ReportError as exc:
            print(f"gateway-contracts: {exc}; the fuzz findings go into a report of their own", flush=True)
    if report is None:
        report = ClauseResults(catalogue()).finish(set(), target, whole_suite=False, seed=outcome.seed)
    try:
        write_all(dataclasses.replace(report, fuzz=outcome.section(found)), report_dir)
    except ReportError as exc:  # a harness bug, not the gateway's
        raise CliError(f"internal error: {exc}", EXIT_FAILED) from None
    return path


def _conclude(
    args: argparse.Namespace, paths: RunPaths, outcome: Outcome, baseline: Baseline | None, target: Target
) -> int:
    from gateway_contracts.fuzz import baseline as baselines
    from gateway_contracts.fuzz import findings as findings_mod
    from gateway_contracts.fuzz import summary

    found = baseline.mark(outcome.findings) if baseline is not None else outcome.findings
    findings_mod.write(paths.findings, found, outcome.meta(args))
    report_path = _into_report(args.report_dir, found, outcome, target)
    if args.update_baseline:
        baselines.save(args.baseline, found)
    print()
    for line in summary.render_table(outcome.stats):
        print(line)
    for label in summary.unexercised(outcome.stats):
        print(f"NOT EXERCISED {label}: no request got past validation to a 2xx answer")
    new = [f for f in found if f.new]
    for f in new[:MAX_LISTED]:
        print(f"NEW {f.clause or 'no clause'} {f.operation} [{f.check}] {f.headline}")
    if len(new) > MAX_LISTED:
        print(f"… and {len(new) - MAX_LISTED} more new findings")
    known = len(found) - len(new)
    if baseline is not None:
        for entry in baseline.fixed(found):
            detail = f" ({entry['detail']})" if entry.get("detail") else ""
            print(
                f"FIXED {entry.get('operation')} [{entry.get('check')}] {entry.get('title')}{detail} "
                "(still in the baseline)"
            )
    word = "PASS" if not new else "FAIL"
    print(
        f"gateway-contracts: fuzz {word} in {outcome.seconds:.1f}s — {outcome.requests} requests, "
        f"{len(new)} new finding(s)"
        + (f", {known} accepted by the baseline" if known else "")
        + f"; findings: {paths.findings} and the fuzz section of {report_path}",
        flush=True,
    )
    if args.update_baseline:
        print(f"gateway-contracts: baseline written to {args.baseline} ({len(found)} finding(s))")
        return 0
    return EXIT_FAILED if new else 0
