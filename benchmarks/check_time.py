"""Where the wall time of a full ``check`` goes, and ``check`` at another revision beside the working tree's.

``python -m benchmarks.check_time`` runs ``gateway-contracts check`` exactly as ``make check`` does (embedded
reference gateway, every profile) in its own process, and splits its whole wall time, from launch to exit:
interpreter and CLI imports, the target's start and preflight, pytest's start-up, collection, each profile's tests
(set-up, call and tear-down of each test, under the profile of its first clause), pytest's own time between
tests, the session's end (the clause report), and after pytest (the target's stop, the report files, exit). The
split comes from the lines ``check`` prints and from this module loaded into its pytest run as a plugin
(``-p benchmarks.check_time`` through ``PYTEST_ADDOPTS``), which appends timestamped events to a file.

``python -m benchmarks.check_time --compare REV [--rounds N]`` checks the revision out into a temporary git
worktree and runs ``check`` there and in the working tree, alternating which goes first, N rounds: the wall time
and CPU time (the check process and every process it waited for: the gateways, the upstream) of each, their
medians and the ratio. Machines of this kind differ by 2x from day to day, so only figures of one run are compared.
Neither run carries the plugin there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benchmarks.support.revisions import worktree

REPO = Path(__file__).resolve().parents[1]
EVENTS_ENV = "GATEWAY_CONTRACTS_CHECK_TIME_EVENTS"
CHECK = ["-m", "gateway_contracts.cli", "check"]
STARTING = "gateway-contracts: starting"
CHECKING = "gateway-contracts: checking"
VERDICT = ("gateway-contracts: PASS", "gateway-contracts: FAIL")


# -- the plugin side: loaded into check's pytest run ------------------------------------------------------------
def _emit(event: dict[str, Any]) -> None:
    path = os.environ.get(EVENTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"t": time.time(), **event}) + "\n")


def pytest_configure(config: Any) -> None:
    _emit({"event": "configure"})


def pytest_collection_finish(session: Any) -> None:
    _emit({"event": "collected", "items": len(session.items)})


def pytest_runtest_logreport(report: Any) -> None:
    _emit(
        {
            "event": "test",
            "nodeid": report.nodeid,
            "when": report.when,
            "start": report.start,
            "stop": report.stop,
            "clauses": list(getattr(report, "clause_ids", []) or []),
        }
    )


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: Any) -> None:
    # First among the plugins' sessionfinish hooks: the conformance plugin's clause report comes after this mark.
    _emit({"event": "sessionfinish"})


def pytest_unconfigure(config: Any) -> None:
    _emit({"event": "unconfigure"})


# -- running check ------------------------------------------------------------------------------------------
@dataclass
class Run:
    wall: float
    cpu: float
    code: int
    lines: list[tuple[float, str]] = field(default_factory=list)
    """Each line check printed, with when it arrived."""
    launched: float = 0.0


def run_check(tree: Path, report_dir: Path, events: Path | None = None) -> Run:
    """One ``check`` from ``tree`` (its code: ``python -m`` puts the current directory first on the path)."""
    env = {**os.environ}
    env.pop("PYTEST_ADDOPTS", None)
    if events is not None:
        env["PYTEST_ADDOPTS"] = "-p benchmarks.check_time"
        env[EVENTS_ENV] = str(events)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    launched = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *CHECK, "--report-dir", str(report_dir)],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines = [(time.time(), line.rstrip("\n")) for line in proc.stdout]
    code = proc.wait()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, code, lines, launched)


def _first(lines: list[tuple[float, str]], *prefixes: str) -> float | None:
    return next((t for t, line in lines if line.startswith(prefixes)), None)


def phases(run: Run, events: list[dict[str, Any]], profile_of: dict[str, str]) -> list[tuple[str, float]]:
    """The run's wall time split into consecutive phases that add up to it."""
    ends = run.launched + run.wall
    marks = {e["event"]: e["t"] for e in events if e["event"] != "test"}
    tests = [e for e in events if e["event"] == "test"]
    out: list[tuple[str, float]] = []
    starting, checking = _first(run.lines, STARTING), _first(run.lines, CHECKING)
    configure = marks.get("configure", ends)
    if starting is not None and checking is not None:
        out.append(("interpreter, CLI imports", starting - run.launched))
        out.append(("target start, preflight", checking - starting))
        out.append(("pytest start-up", configure - checking))
    else:
        out.append(("start-up (before pytest)", configure - run.launched))
    collected = marks.get("collected", configure)
    out.append(("collection", collected - configure))
    per_profile: dict[str, float] = defaultdict(float)
    for e in tests:
        clauses = e["clauses"]
        profile = profile_of.get(clauses[0], "?") if clauses else "(not a clause test)"
        per_profile[profile] += e["stop"] - e["start"]
    finish = marks.get("sessionfinish", collected)
    for profile, seconds in sorted(per_profile.items(), key=lambda kv: -kv[1]):
        out.append((f"tests: {profile}", seconds))
    out.append(("pytest between tests", (finish - collected) - sum(per_profile.values())))
    unconfigure = marks.get("unconfigure", finish)
    out.append(("session end (clause report)", unconfigure - finish))
    verdict = _first(run.lines, *VERDICT)
    if verdict is not None:
        out.append(("target stop, report files", verdict - unconfigure))
        out.append(("exit", ends - verdict))
    else:
        out.append(("after pytest", ends - unconfigure))
    return out


def slowest(events: list[dict[str, Any]], n: int) -> list[tuple[str, float]]:
    """The ``n`` tests that took longest, set-up and tear-down included."""
    per_test: dict[str, float] = defaultdict(float)
    for e in events:
        if e["event"] == "test":
            per_test[e["nodeid"]] += e["stop"] - e["start"]
    return sorted(per_test.items(), key=lambda kv: -kv[1])[:n]


def breakdown(top: int) -> None:
    with tempfile.TemporaryDirectory(prefix="check-time-") as tmp:
        events_file = Path(tmp) / "events.jsonl"
        report = Path(tmp) / "report"
        run = run_check(REPO, report, events_file)
        events = (
            [json.loads(line) for line in events_file.read_text().splitlines()]
            if events_file.exists()
            else []
        )
        # Each clause's profile, as the run's own report says (no import of the catalogue: its module moves).
        report_json = report / "report.json"
        clauses = json.loads(report_json.read_text())["clauses"] if report_json.exists() else []
        profile_of = {c["id"]: c["profile"] for c in clauses}
    split = phases(run, events, profile_of)
    print()
    print(f"check wall time, every profile, split from launch to exit (exit {run.code})")
    print(f"{'phase':<32}{'seconds':>9}")
    for name, seconds in split:
        print(f"{name:<32}{seconds:>9.2f}")
    print(f"{'sum of the phases':<32}{sum(s for _, s in split):>9.2f}")
    print(f"{'wall':<32}{run.wall:>9.2f}   (CPU {run.cpu:.1f}s: check and the processes it started)")
    if top:
        print()
        print(f"the {top} slowest tests (set-up, call and tear-down)")
        for nodeid, seconds in slowest(events, top):
            print(f"{seconds:>7.2f}  {nodeid}")
    if run.code != 0:
        print("\n".join(line for _, line in run.lines[-15:]))


# -- another revision beside the working tree --------------------------------------------------------------------
def compare(revision: str, rounds: int) -> None:
    runs: dict[str, list[Run]] = {revision: [], "working tree": []}
    with (
        worktree(revision, "benchmarks.check_time") as tree,
        tempfile.TemporaryDirectory(prefix="check-time-") as tmp,
    ):
        trees = {revision: tree, "working tree": REPO}
        order = list(trees)
        print(f"check at {revision} vs the working tree, {rounds} rounds, alternating which goes first")
        print(f"{'round':<7}{'subject':<16}{'wall s':>8}{'CPU s':>8}{'exit':>6}")
        for n in range(rounds):
            for name in order if n % 2 == 0 else reversed(order):
                run = run_check(trees[name], Path(tmp) / f"{n}-{len(runs[name])}-report")
                runs[name].append(run)
                print(f"{n + 1:<7}{name:<16}{run.wall:>8.2f}{run.cpu:>8.2f}{run.code:>6}", flush=True)
    print()
    print(f"{'subject':<16}{'wall median':>12}{'best':>8}{'CPU median':>12}")
    for name, rs in runs.items():
        walls = [r.wall for r in rs]
        cpus = [r.cpu for r in rs]
        print(
            f"{name:<16}{statistics.median(walls):>12.2f}{min(walls):>8.2f}{statistics.median(cpus):>12.2f}"
        )
    old = statistics.median(r.wall for r in runs[revision])
    new = statistics.median(r.wall for r in runs["working tree"])
    old_cpu = statistics.median(r.cpu for r in runs[revision])
    new_cpu = statistics.median(r.cpu for r in runs["working tree"])
    print()
    print(
        f"working tree vs {revision}: {old / new:.2f}x faster in wall time (median), "
        f"{old_cpu / new_cpu:.2f}x less CPU"
    )
    failed = [f"{name} exit {r.code}" for name, rs in runs.items() for r in rs if r.code != 0]
    if failed:
        print(f"NOT A VERDICT-PRESERVING COMPARISON: {', '.join(failed)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.check_time",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--compare", metavar="REV", help="a git revision to run beside the working tree")
    parser.add_argument("--rounds", type=int, default=3, help="with --compare: rounds (default 3)")
    parser.add_argument("--slowest", type=int, default=10, help="list the N slowest tests (default 10)")
    args = parser.parse_args(argv or [])
    if args.compare:
        compare(args.compare, args.rounds)
    else:
        breakdown(args.slowest)


if __name__ == "__main__":
    main(sys.argv[1:])
