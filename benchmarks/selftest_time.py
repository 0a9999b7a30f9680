"""``selftest`` at another git revision (default ``ea244b0``) beside the working tree's: wall time and verdicts.

Both selftests run the same mutants (those both revisions define, breaking the same clause) and the unmutated
reference, one after the other, round after round in alternating order, because a shared machine drifts by more
than most changes between runs. Each runs as its users run it (its own default ``--jobs`` unless given), from its
own tree: the other revision is checked out into a temporary git worktree (``benchmarks.support.revisions.worktree``). At
revisions from before the reference gateway had its own command line the command is ``-m gateway_contracts.cli
selftest``; since, ``-m reference_server selftest``.

It prints each run's wall time, the median of each side and their ratio, and checks that the verdicts are the
same: per mutant, caught or not, the clauses ``check`` failed and the fuzz checks that fired; the reference run
clean on both; the mean number of clauses failed per mutant (the precision figure's numerator, counted without
either catalogue's MUST flags, which differ between revisions) equal. Exit 1 when they differ.

By default a representative subset (one or two mutants per area: the fuzz-checked ones, the property-test clauses
WIRE-004, WIRE-007 and OAI-005, the kill-switch clause) and the reference; ``--full`` runs every mutant both
revisions share.

Run: ``python -m benchmarks.selftest_time [--area A | --mutant M ...] [--rounds N] [--full] [REV]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.support.revisions import worktree
from benchmarks.support.settings import REPO
from benchmarks.support.table import print_table

DEFAULT_REVISION = "ea244b0"
SUBSET = (
    "flat-error-envelope",  # WIRE-004, a property test, and a fuzz check
    "max-tokens-defaulted",  # WIRE-007, a property test
    "no-message-stop",  # SSE-019, fuzz
    "openai-created-float",  # OAI-SSE-007
    "openai-errors-openai-shaped",  # OAI-005 at ea244b0, OAI-006 since: skipped where the clause differs
    "chat-invalid-is-500",  # OAI-005 since ea244b0
    "aliases-unknown",  # ALIAS-001, fuzz
    "stream-no-capture",  # CAP-001, fuzz
    "kill-switch-strict-compare",  # CAP-011, the kill-switch gateway
    "metrics-open-without-key",  # MET-001, fuzz
    "log-prompt-preview",  # LOG-004
    "trace-always-new",  # TRACE-001
)


@dataclass
class Side:
    name: str
    tree: Path
    command: list[str]
    seconds: list[float] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)


def selftest_command(tree: Path) -> list[str]:
    if (tree / "reference_server" / "selftest.py").is_file():
        return [sys.executable, "-m", "reference_server", "selftest"]
    return [sys.executable, "-m", "gateway_contracts.cli", "selftest"]


def mutants_of(side: Side) -> dict[str, str]:
    """``selftest --list`` of that tree: mutant name -> the clause it breaks."""
    done = _run(side, ["--list"])
    if done.returncode != 0:
        raise SystemExit(f"selftest_time: {side.name}: selftest --list failed: {done.stderr.strip()[-300:]}")
    out = {}
    for line in done.stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and not line.endswith(" mutants"):
            out[words[1]] = words[0]
    return out


def _run(side: Side, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(side.tree)}
    return subprocess.run(
        [*side.command, *args], cwd=side.tree, env=env, capture_output=True, text=True, check=False
    )


def verdict(report_dir: Path) -> dict[str, Any]:
    doc = json.loads((report_dir / "selftest.json").read_text(encoding="utf-8"))
    mutants = {
        m["name"]: {
            "ok": bool(m["caught"]) and m["fuzz_caught"] is not False,
            "failed": sorted(m["failed"]),
            "fuzz_fired": sorted(m["fuzz_fired"]),
            "fuzz_caught": m["fuzz_caught"],
            "error": m["error"],
        }
        for m in doc["mutants"]
    }
    ref = doc["reference"]
    failed_counts = [len(m["failed"]) for m in doc["mutants"]]
    return {
        "mutants": mutants,
        "caught": sorted(n for n, m in mutants.items() if m["ok"]),
        "reference_clean": None
        if ref is None
        else not (ref["failed"] or ref["untested"] or ref["fuzz_findings"] or ref["error"]),
        "failed_per_mutant": round(sum(failed_counts) / len(failed_counts), 3) if failed_counts else None,
        "must_failed_per_mutant": doc.get("must_failed_per_mutant"),
        "reference_seconds": ref["seconds"] if ref else 0.0,
        "mutant_seconds": sum(m["seconds"] for m in doc["mutants"]),
    }


def run_once(side: Side, args: list[str], report_dir: Path) -> None:
    started = time.monotonic()
    done = _run(side, [*args, "--report-dir", str(report_dir)])
    side.seconds.append(time.monotonic() - started)
    if not (report_dir / "selftest.json").is_file():
        raise SystemExit(f"selftest_time: {side.name}: no selftest.json: {done.stderr.strip()[-300:]}")
    side.verdicts.append(verdict(report_dir))
    v = side.verdicts[-1]
    print(
        f"  {side.name:<14} {side.seconds[-1]:6.1f}s  exit {done.returncode}  (reference run "
        f"{v['reference_seconds']:.1f}s, mutant runs {v['mutant_seconds']:.1f}s in all)",
        flush=True,
    )


SCORE_KEYS = ("ok", "fuzz_caught")


def differences(a: dict[str, Any], b: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    """How two runs' verdicts differ, per mutant in ``keys`` (and the reference's cleanliness)."""
    out = []
    for name in sorted(set(a["mutants"]) | set(b["mutants"])):
        x, y = a["mutants"].get(name), b["mutants"].get(name)
        if x is None or y is None or {k: x[k] for k in keys} != {k: y[k] for k in keys}:
            out.append(f"{name}: {x} vs {y}")
    if a["reference_clean"] != b["reference_clean"]:
        out.append(f"reference clean: {a['reference_clean']} vs {b['reference_clean']}")
    return out


def main(
    revision: str, chosen: list[str], areas: list[str], full: bool, rounds: int, extra: list[str]
) -> int:
    with (
        worktree(revision, "benchmarks.selftest_time") as tree,
        tempfile.TemporaryDirectory(prefix="selftest-time-") as tmp,
    ):
        old = Side(revision, tree, selftest_command(tree))
        new = Side("working tree", REPO, selftest_command(REPO))
        old_mutants, new_mutants = mutants_of(old), mutants_of(new)
        shared = sorted(n for n in new_mutants if old_mutants.get(n) == new_mutants[n])
        if areas:
            args = [a for area in areas for a in ("--area", area)]
        else:
            names = chosen or (shared if full else [n for n in SUBSET if n in shared])
            missing = [n for n in names if n not in shared]
            if missing:
                raise SystemExit(
                    f"selftest_time: not the same mutant at both revisions: {', '.join(missing)}"
                )
            args = [a for n in names for a in ("--mutant", n)]
        count = len(args) // 2 if not areas else "the areas'"
        args += extra
        print(
            f"selftest at {revision} vs the working tree: {count} mutants, {rounds} rounds, alternating "
            f"order{' (' + ' '.join(extra) + ')' if extra else ''}",
            flush=True,
        )
        for r in range(rounds):
            print(f"round {r + 1}", flush=True)
            for side in (old, new) if r % 2 == 0 else (new, old):
                run_once(side, args, Path(tmp) / f"{side.name.replace(' ', '-')}-{r}")

    print()
    rows = [
        [s.name, " ".join(f"{x:.1f}" for x in s.seconds), f"{statistics.median(s.seconds):.1f}"]
        for s in (old, new)
    ]
    print_table(["selftest", "wall s per round", "median s"], rows)
    ratio = statistics.median(old.seconds) / statistics.median(new.seconds)
    print()
    print(f"working tree vs {revision}: x{ratio:.2f} faster (median wall time)")
    # The score (caught or not, fuzz check fired or not, reference clean) must be the same in every run. The
    # clauses failed and fuzz checks fired beside the broken one must be the same within each side; across
    # revisions they may differ where the harness changed between them (a note, not a failure).
    diffs = [d for v in old.verdicts + new.verdicts for d in differences(new.verdicts[0], v, SCORE_KEYS)]
    detail = ("ok", "fuzz_caught", "failed", "fuzz_fired")
    diffs += [d for s in (old, new) for v in s.verdicts[1:] for d in differences(s.verdicts[0], v, detail)]
    notes = differences(old.verdicts[0], new.verdicts[0], detail)
    for s in (old, new):
        v = s.verdicts[0]
        print(
            f"{s.name}: {len(v['caught'])}/{len(v['mutants'])} caught, reference "
            f"{ {True: 'clean', False: 'NOT CLEAN', None: 'not run'}[v['reference_clean']] }, "
            f"{v['failed_per_mutant']} clauses failed per mutant"
            + (f" ({v['must_failed_per_mutant']} MUST)" if v["must_failed_per_mutant"] is not None else "")
        )
    print("verdicts: " + ("the same score in every run" if not diffs else "DIFFERENT"))
    for d in dict.fromkeys(diffs):
        print(f"  {d}")
    if notes:
        print(f"clauses failed beside the broken one, {revision} vs the working tree (harness changes):")
        for d in notes:
            print(f"  {d}")
    return 1 if diffs else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("revision", nargs="?", default=DEFAULT_REVISION, help=f"default {DEFAULT_REVISION}")
    parser.add_argument("--mutant", action="append", default=[], help="only this mutant; repeatable")
    parser.add_argument("--area", action="append", default=[], help="only this area's mutants; repeatable")
    parser.add_argument("--full", action="store_true", help="every mutant both revisions share")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each (default 2)")
    parser.add_argument("--jobs", type=int, help="--jobs for both (default: each one's own default)")
    parser.add_argument("--no-reference", action="store_true", help="skip the unmutated gateway's run")
    a = parser.parse_args()
    extra = (["--jobs", str(a.jobs)] if a.jobs else []) + (["--no-reference"] if a.no_reference else [])
    sys.exit(main(a.revision, a.mutant, a.area, a.full, a.rounds, extra))
