"""``reference-gateway selftest``: the mutation score of the suite against the reference gateway's mutants.

Prints one line per run as it finishes, then the score: each mutant caught or missed, by which clause, in how
long; and the unmutated gateway's findings (there must be none). Writes ``selftest.json`` and ``selftest.md``
into ``--report-dir``. Exit 0 only on a score of 100% and a clean reference.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from contracts.exits import EXIT_FAILED, EXIT_USAGE, CliError


def register(sub: Any) -> None:
    from reference_server.mutants import MUTANTS
    from reference_server.selftest import SCOPES, area_names

    p: argparse.ArgumentParser = sub.add_parser(
        "selftest", help="run check against every mutant of the reference gateway: the mutation score"
    )
    p.add_argument(
        "--mutant", action="append", default=[], metavar="NAME", help="only this mutant; repeatable"
    )
    p.add_argument(
        "--area", action="append", default=[], choices=area_names(), help="only this area's mutants"
    )
    p.add_argument(
        "--scope",
        choices=SCOPES,
        default="clause",
        help="what check runs per mutant: the broken clause's tests (default), its profile, or all",
    )
    p.add_argument("--jobs", type=int, default=2, help="mutants checked side by side (default 2)")
    p.add_argument("--no-fuzz", action="store_true", help="skip the fuzz runs")
    p.add_argument("--no-reference", action="store_true", help="skip the run against the unmutated gateway")
    p.add_argument(
        "--list", action="store_true", help="list the mutants and the clause each breaks, and stop"
    )
    p.add_argument("--report-dir", type=Path, default=Path("reports/selftest"), help="where the results go")
    p.set_defaults(run=run, known_mutants=sorted(MUTANTS))


def run(args: argparse.Namespace) -> int:
    from reference_server import selftest

    unknown = [m for m in args.mutant if m not in args.known_mutants]
    if unknown:
        raise CliError(f"unknown mutant(s) {', '.join(unknown)}; see selftest --list", EXIT_USAGE)
    if args.jobs < 1:
        raise CliError("--jobs must be at least 1", EXIT_USAGE)
    mutants = selftest.select(args.mutant, args.area)
    if args.list:
        for m in mutants:
            fuzz = f"  (fuzz: {m.fuzz_check})" if m.fuzz_check else ""
            print(f"{m.breaks:<12} {m.name:<34} {m.description}{fuzz}")
        print(f"{len(mutants)} mutants")
        return 0

    work = args.report_dir / "runs"
    shutil.rmtree(work, ignore_errors=True)
    reference = not args.no_reference
    print(
        f"reference-gateway selftest: {len(mutants)} mutants{' and the reference' if reference else ''}, "
        f"scope {args.scope}, {args.jobs} at a time",
        flush=True,
    )

    def progress(done: int, total: int, outcome: Any) -> None:
        print(f"[{done:>3}/{total}] {_line(outcome)}", flush=True)

    score = selftest.run(
        mutants,
        selftest.Options(workdir=work, scope=args.scope, fuzz=not args.no_fuzz),
        reference=reference,
        jobs=args.jobs,
        progress=progress,
    )
    document = score.to_json()
    args.report_dir.mkdir(parents=True, exist_ok=True)
    (args.report_dir / "selftest.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (args.report_dir / "selftest.md").write_text(markdown(document), encoding="utf-8")
    print()
    print(summary(document))
    print(f"reference-gateway: selftest written to {args.report_dir / 'selftest.md'} and selftest.json")
    return 0 if score.passed else EXIT_FAILED


def _line(outcome: Any) -> str:
    from reference_server.selftest import MutantResult

    if not isinstance(outcome, MutantResult):
        ok = "clean" if outcome.ok else "FINDINGS"
        found = ", ".join(outcome.failed + outcome.untested + outcome.fuzz_findings) or "none"
        return f"reference gateway: {ok} (findings: {found}){_err(outcome.error)} {outcome.seconds:.1f}s"
    word = "caught" if outcome.ok else "MISSED"
    from contracts.clauses import catalogue

    clauses = catalogue().clauses
    also = [c for c in outcome.failed if c != outcome.breaks and c in clauses and clauses[c].must]
    detail = f" also {', '.join(also)}" if also else ""
    if outcome.fuzz_caught is not None:
        detail += f"; fuzz {outcome.fuzz_check}: {'fired' if outcome.fuzz_caught else 'did not fire'}"
    return f"{word} {outcome.name} by {outcome.breaks}{detail}{_err(outcome.error)} {outcome.seconds:.1f}s"


def _err(error: str) -> str:
    return f" [{error}]" if error else ""


def summary(doc: dict[str, Any]) -> str:
    score = doc["score"]
    pct = 100.0 * score["caught"] / score["mutants"] if score["mutants"] else 100.0
    lines = [f"mutation score: {score['caught']}/{score['mutants']} ({pct:.0f}%) in {doc['seconds']:.0f}s"]
    mean = doc.get("must_failed_per_mutant")
    if mean is not None:
        lines.append(
            f"precision: {mean:.2f} MUST clauses failed per mutant (1.00 is one fault, one clause; target <= "
            f"{PRECISION_TARGET}; scope {doc['scope']})"
        )
    lines += [f"  MISSED {m['name']} ({m['breaks']})" for m in doc["mutants"] if not _ok(m)]
    ref = doc["reference"]
    if ref is not None:
        found = ref["failed"] + ref["untested"] + ref["fuzz_findings"]
        lines.append(
            f"reference gateway: {'no finding' if not found and not ref['error'] else found or ref['error']}"
        )
    if doc["must_clauses_without_mutant"]:
        lines.append(f"MUST clauses no mutant breaks: {', '.join(doc['must_clauses_without_mutant'])}")
    return "\n".join(lines)


PRECISION_TARGET = 1.3


def _ok(m: dict[str, Any]) -> bool:
    return bool(m["caught"]) and m["fuzz_caught"] is not False


def markdown(doc: dict[str, Any]) -> str:
    out = [
        "# Selftest: the suite against the reference gateway's mutants",
        "",
        "```",
        summary(doc),
        "```",
        "",
    ]
    out += ["| mutant | breaks | result | also failed | fuzz | time |", "|---|---|---|---|---|---|"]
    for m in doc["mutants"]:
        also = ", ".join(c for c in m["failed"] if c != m["breaks"]) or "—"
        fuzz = (
            "—" if not m["fuzz_check"] else f"{m['fuzz_check']}: {'fired' if m['fuzz_caught'] else 'silent'}"
        )
        result = "caught" if _ok(m) else f"**missed** {m['error']}".strip()
        out.append(f"| `{m['name']}` | {m['breaks']} | {result} | {also} | {fuzz} | {m['seconds']:.1f}s |")
    out += [
        "",
        f"Scope per mutant: `{doc['scope']}`. Each mutant is described in `reference_server/mutants/`.",
        "",
    ]
    return "\n".join(out)
