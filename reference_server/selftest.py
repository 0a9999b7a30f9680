"""The harness checked against itself: ``check`` (and ``fuzz`` where it applies) against every mutant of the
reference gateway, and against the unmutated gateway.

A mutant (``reference_server.mutants``) breaks one clause. It is *caught* when ``check`` fails that very clause;
failing only other clauses is a miss (the suite noticed something, but not the promise that was broken, so the
report would send a reader to the wrong place). A mutant with a ``fuzz_check`` must also be caught by that fuzz
check. The unmutated gateway must have no finding at all: no failed or untested clause and no fuzz finding.

Each mutant gets a fresh embedded gateway (its own SQLite databases and log file), so one mutant's state cannot
leak into the next; the scripted upstream, which keeps no state, is shared. The selftest starts that gateway
itself, as ``reference-gateway embedded`` would, forked from a server that has imported the gateway once
(``gateway_forks``: the imports are most of a start), and hands ``check`` and then ``fuzz`` the reference's
target file with this instance's ready line in place of its start command (``target_file``): both check the one
gateway. Each is the ``gateway-contracts`` command a user types, run by a ``gateway-contracts batch`` process
(``harness_runs``) that has loaded the harness once. The verdicts are read from the runs' files (``report.json``,
whose schema is ``contracts/report.schema.json``, and ``fuzz/findings.json``): the harness
is a command here, never an import.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reference_server.embedded import Starter, await_url, embedded, start_command, stop_process
from reference_server.gateway_forks import fork_server
from reference_server.harness_runs import Batches, batches
from reference_server.mutants import MUTANTS, Mutant
from reference_server.target_file import profiles as target_profiles
from reference_server.target_file import running_target

if TYPE_CHECKING:
    from contracts.clauses import Catalogue

SCOPES = ("clause", "profile", "all")
"""How much of ``check`` runs against each mutant: the broken clause's tests, its whole profile, or everything."""
FUZZ_EXAMPLES = "10"
RUN_TIMEOUT_S = 600.0
"""A hung gateway fails its run's tests by the per-request timeout; this only bounds a harness that is stuck."""
EMPTY_WAIVERS = "version: 1\nwaivers: []\n"
KILL_SWITCH_CLAUSES = frozenset({"CAP-011"})
"""The clauses whose tests need the second gateway (kill-switch engaged): a process start the others skip."""


def catalogue() -> Catalogue:
    """The contract's clauses (imported when first needed: ``reference-gateway embedded``, which every run
    starts, parses this command line too, and has no use for the catalogue's schema validator)."""
    from contracts.clauses import catalogue as load

    return load()


@contextmanager
def running_gateway(
    base: Path, mutant: str | None, upstream_url: str, kill_switch: bool, start: Starter = start_command
) -> Iterator[list[str]]:
    """One fresh embedded gateway (its own SQLite databases and log) for one mutant's runs, started here as the
    harness would start it, and the ``check``/``fuzz`` arguments that point at it (a target file: the
    reference's, with this instance's ready line in place of its start command). ``check`` and ``fuzz`` share
    it, as they share one gateway in a user's CI; neither pays for a start (and a middle process) of its own."""
    with embedded(
        base / "target", mutant=mutant, upstream_url=upstream_url, kill_switch=kill_switch, start=start
    ) as ready:
        yield ["--config", str(running_target(ready, base / "target.toml"))]


@dataclass
class MutantResult:
    name: str
    breaks: str
    description: str
    caught: bool
    failed: list[str]
    """Every clause ``check`` failed against this mutant (the broken one first, when caught)."""
    seconds: float
    fuzz_check: str | None = None
    fuzz_caught: bool | None = None
    fuzz_fired: list[str] = field(default_factory=list)
    error: str = ""
    """Why the run produced no verdict (the gateway did not start, check crashed, …); such a run is a miss."""

    @property
    def ok(self) -> bool:
        return self.caught and self.fuzz_caught is not False


@dataclass
class ReferenceResult:
    failed: list[str]
    untested: list[str]
    fuzz_findings: list[str]
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return not (self.failed or self.untested or self.fuzz_findings or self.error)


@dataclass
class Options:
    workdir: Path
    scope: str = "clause"
    fuzz: bool = True
    timeout: float = RUN_TIMEOUT_S


def select(names: list[str], areas: list[str]) -> list[Mutant]:
    from reference_server.mutants.registry import AREAS

    chosen = [MUTANTS[n] for n in names]
    for area in areas:
        module = next(a for a in AREAS if a.__name__.rsplit(".", 1)[-1] == area)
        chosen += [m for m in module.MUTANTS if m not in chosen]
    return chosen or sorted(MUTANTS.values(), key=lambda m: (m.breaks, m.name))


def area_names() -> list[str]:
    from reference_server.mutants.registry import AREAS

    return [a.__name__.rsplit(".", 1)[-1] for a in AREAS]


@contextmanager
def shared_upstream(workdir: Path) -> Iterator[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "upstream.stderr"
    proc = start_command(["upstream", "--port", "0"], log)
    try:
        yield await_url(proc, "upstream", log)
    finally:
        stop_process(proc)


def _check_report(report_dir: Path) -> dict[str, Any] | None:
    path = report_dir / "report.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _fuzz_fired(report_dir: Path) -> list[str] | None:
    path = report_dir / "fuzz" / "findings.json"
    if not path.exists():
        return None
    return sorted({f["check"] for f in json.loads(path.read_text(encoding="utf-8"))["findings"]})


def run_mutant(
    mutant: Mutant, opts: Options, upstream_url: str, runs: Batches, start: Starter = start_command
) -> MutantResult:
    started = time.monotonic()
    base = opts.workdir / mutant.name
    clause = catalogue().clauses[mutant.breaks]
    # At scope clause only the clause's tests run, but every profile of the file stays selected (``--clause``
    # alone would narrow them to the clause's own): a test of the clause that also checks a clause of another
    # profile judges both, so a mutant that breaks more than its clause shows in the precision figure.
    every_profile = [a for p in target_profiles() for a in ("--profile", p)]
    scope = {
        "clause": ["--clause", clause.id, *every_profile],
        "profile": ["--profile", clause.profile],
        "all": [],
    }[opts.scope]
    result = MutantResult(mutant.name, mutant.breaks, mutant.description, False, [], 0.0, mutant.fuzz_check)
    try:
        # The second gateway (kill-switch engaged) costs a process start; only the kill-switch clause needs it.
        needs_kill_switch = opts.scope != "clause" or clause.id in KILL_SWITCH_CLAUSES
        with running_gateway(base, mutant.name, upstream_url, needs_kill_switch, start) as target:
            ran = runs.run(
                ["check", *target, *scope, *_report_args(opts, base / "check")], base / "check", opts.timeout
            )
            report = _check_report(base / "check")
            if report is None:
                result.error = f"check gave no report: {ran.last_line()}"
            else:
                failed = sorted(c["id"] for c in report["clauses"] if c["result"] == "failed")
                result.caught = mutant.breaks in failed
                result.failed = sorted(failed, key=lambda c: (c != mutant.breaks, c))
            if opts.fuzz and mutant.fuzz_check:
                ran = runs.run(
                    [
                        "fuzz",
                        *target,
                        *("--max-examples", FUZZ_EXAMPLES, "--phases", mutant.fuzz_phases),
                        *("--report-dir", str(base / "fuzz-run")),
                    ],
                    base / "fuzz",
                    opts.timeout,
                )
                fired = _fuzz_fired(base / "fuzz-run")
                result.fuzz_fired = fired or []
                result.fuzz_caught = fired is not None and mutant.fuzz_check in fired
                if fired is None:
                    result.error = result.error or f"fuzz gave no findings file: {ran.last_line()}"
    except Exception as exc:  # one broken run is one miss with its reason, never the end of the selftest
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started
    return result


def _report_args(opts: Options, report_dir: Path) -> list[str]:
    return ["--waivers", str(opts.workdir / "no-waivers.yaml"), "--report-dir", str(report_dir)]


def run_reference(
    opts: Options, upstream_url: str, runs: Batches, start: Starter = start_command
) -> ReferenceResult:
    started = time.monotonic()
    base = opts.workdir / "reference"
    result = ReferenceResult([], [], [], 0.0)
    try:
        with running_gateway(base, None, upstream_url, True, start) as target:
            ran = runs.run(
                ["check", *target, *_report_args(opts, base / "check")], base / "check", opts.timeout
            )
            report = _check_report(base / "check")
            if report is None:
                result.error = f"check gave no report: {ran.last_line()}"
            else:
                result.failed = sorted(c["id"] for c in report["clauses"] if c["result"] == "failed")
                result.untested = list(report["verdict"]["untested_must"])
            if opts.fuzz:
                ran = runs.run(
                    [
                        "fuzz",
                        *target,
                        *("--max-examples", FUZZ_EXAMPLES),
                        *("--report-dir", str(base / "fuzz-run")),
                    ],
                    base / "fuzz",
                    opts.timeout,
                )
                fired = _fuzz_fired(base / "fuzz-run")
                if fired is None:
                    result.error = result.error or f"fuzz gave no findings file: {ran.last_line()}"
                result.fuzz_findings = fired or []
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started
    return result


def must_failed_mean(failed_lists: list[list[str]]) -> float | None:
    clauses = catalogue().clauses
    counts = [sum(1 for cid in failed if cid in clauses and clauses[cid].must) for failed in failed_lists]
    return round(sum(counts) / len(counts), 3) if counts else None


@dataclass
class Score:
    mutants: list[MutantResult]
    reference: ReferenceResult | None
    seconds: float
    scope: str

    @property
    def caught(self) -> int:
        return sum(r.ok for r in self.mutants)

    @property
    def passed(self) -> bool:
        return self.caught == len(self.mutants) and (self.reference is None or self.reference.ok)

    @property
    def must_failed_per_mutant(self) -> float | None:
        """Precision: the mean number of MUST clauses ``check`` failed per mutant (1.0 when every mutant fails
        exactly the clause it breaks). Only meaningful when more than the broken clause's tests ran."""
        return must_failed_mean([r.failed for r in self.mutants])

    def to_json(self) -> dict[str, Any]:
        must = sorted(c.id for c in catalogue().clauses.values() if c.must)
        covered = {m.breaks for m in MUTANTS.values()}
        return {
            "selftest_version": 1,
            "scope": self.scope,
            "seconds": round(self.seconds, 1),
            "score": {"caught": self.caught, "mutants": len(self.mutants)},
            "must_failed_per_mutant": self.must_failed_per_mutant,
            "must_clauses_without_mutant": [c for c in must if c not in covered],
            "passed": self.passed,
            "reference": asdict(self.reference) if self.reference else None,
            "mutants": [asdict(r) for r in self.mutants],
        }


def run(
    mutants: list[Mutant],
    opts: Options,
    *,
    reference: bool = True,
    jobs: int = 1,
    progress: Callable[[int, int, MutantResult | ReferenceResult], None] | None = None,
) -> Score:
    started = time.monotonic()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    (opts.workdir / "no-waivers.yaml").write_text(EMPTY_WAIVERS, encoding="utf-8")
    results: dict[str, MutantResult] = {}
    ref: ReferenceResult | None = None
    total = len(mutants) + int(reference)
    with (
        shared_upstream(opts.workdir / "upstream") as upstream_url,
        fork_server(opts.workdir / "forks") as forks,
        batches(opts.workdir / "harness", jobs) as runs,
        ThreadPoolExecutor(jobs) as pool,
    ):
        futures: dict[Any, str] = {}
        if reference:  # first: the longest run, and the one a broken set-up shows up in at once
            futures[pool.submit(run_reference, opts, upstream_url, runs, forks.start)] = ""
        for mutant in mutants:
            futures[pool.submit(run_mutant, mutant, opts, upstream_url, runs, forks.start)] = mutant.name
        for done, future in enumerate(as_completed(futures), 1):
            outcome = future.result()
            if isinstance(outcome, ReferenceResult):
                ref = outcome
            else:
                results[futures[future]] = outcome
            if progress is not None:
                progress(done, total, outcome)
    ordered = [results[m.name] for m in mutants]
    return Score(ordered, ref, time.monotonic() - started, opts.scope)
