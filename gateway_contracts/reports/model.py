"""The compliance report as typed values: what a run found, clause by clause, and what the verdict made of it.

A report is built once (``gateway_contracts.results`` from the pytest results, the fuzz command adds its
section), then only ever replaced, never edited: waivers and a baseline give a new report
(``reports.verdict.apply``). ``report.json`` is this model serialised (``reports.codec``), and reading a report
back (``gateway-contracts report``) parses it into the same model, so the writers (JSON, Markdown, HTML, JUnit)
all render from one thing and a renamed field is a type error in each of them.

Sequences are tuples so that a value shared between two reports cannot change under either; the free-form JSON
a test or the gateway produced (headers, captured rows, further evidence) stays a mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Outcome = Literal["passed", "failed", "skipped", "untested"]
"""What the tests found for a clause."""
Result = Literal["passed", "failed", "skipped", "untested", "waived"]
"""What the reports show: the outcome, or ``waived`` when an active waiver covers a failing clause."""
Status = Literal["passed", "failed", "skipped", "blocked", "not-judged", "untested", "waived"]
"""The result, with a skipped clause told apart by why: its test could not run past another clause's failure
(*blocked* by a precondition, or *not judged* because the test failed first on another of its clauses)."""
When = Literal["setup", "call", "teardown"]
TestOutcome = Literal["passed", "failed", "skipped"]
Change = Literal["new-failure", "fixed", "still-failing", "no-longer-checked"]
Policy = Literal["any", "new"]

FAILING = frozenset({"failed", "untested"})
"""Outcomes that count as a failure of the clause (for the baseline diff and the verdict)."""
BLOCKED_BY = "blocked by "
NOT_JUDGED = "not judged: the test failed on "


def blocked_reason(clause: str) -> str:
    """The skip reason of a clause whose test stopped at a precondition that is ``clause``'s failure."""
    return BLOCKED_BY + clause


def not_judged_reason(clause: str) -> str:
    """The skip reason of a clause whose test failed first on another of its clauses."""
    return NOT_JUDGED + clause


def human_time(timestamp: str) -> str:
    """An ISO timestamp as people read it, in UTC (reports may be read anywhere)."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


# -- a failure and its evidence ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    """One request the test sent and what came back: the body, or the stream transcript when ``stream``."""

    method: str
    path: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    response_headers: dict[str, str]
    response_body: str
    stream: bool

    @property
    def summary(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


@dataclass(frozen=True)
class RowSet:
    """The rows one table of the gateway's database holds for one call (its ``request_id``)."""

    table: str
    request_id: str
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class LogLine:
    number: int
    line: str


@dataclass(frozen=True)
class Evidence:
    """What shows the failure: the exchanges, the gateway's captured rows and log lines of those calls, and any
    further evidence the test recorded. All of it has passed through the project's scrubber."""

    exchanges: tuple[Exchange, ...] = ()
    rows: tuple[RowSet, ...] = ()
    log_lines: tuple[LogLine, ...] = ()
    other: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    kind: Literal["curl", "check"]
    command: str


@dataclass(frozen=True)
class Failure:
    """One failed test of one clause: the clause whose check failed, why, the evidence, how to reproduce it."""

    clause: str
    test: str
    when: When
    message: str
    evidence: Evidence
    reproduce: tuple[Command, ...]

    @property
    def title(self) -> str:
        """The failure in one line (its message's first)."""
        stripped = self.message.strip()
        return stripped.splitlines()[0] if stripped else "failed"

    @property
    def headline(self) -> str:
        """One line of evidence: the title, after the last exchange when there is one."""
        if self.evidence.exchanges:
            return f"{self.evidence.exchanges[-1].summary}: {self.title}"
        return self.title


# -- clause results --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestRun:
    nodeid: str
    outcome: TestOutcome
    when: When
    duration: float
    message: str


@dataclass(frozen=True)
class ClauseWaiver:
    """The waiver that covers a failing clause."""

    reason: str
    expires: str


@dataclass(frozen=True)
class ClauseResult:
    id: str
    level: Literal["MUST", "SHOULD"]
    profile: str
    title: str
    statement: str
    source: str
    outcome: Outcome
    reasons: tuple[str, ...]
    """Failure messages, or why the clause was skipped."""
    tests: tuple[TestRun, ...]
    failures: tuple[Failure, ...]
    result: Result
    waiver: ClauseWaiver | None = None
    change: Change | None = None

    @property
    def failing(self) -> bool:
        return self.outcome in FAILING

    @property
    def duration(self) -> float:
        return sum(t.duration for t in self.tests)

    @property
    def headline(self) -> str:
        """One line saying why the clause is where it is."""
        if self.failures:
            return self.failures[0].headline
        return self.reasons[0] if self.reasons else ""

    @property
    def blocked_by(self) -> tuple[str, ...]:
        """The clauses whose failure kept this one's tests from judging it."""
        return tuple(
            r.removeprefix(BLOCKED_BY)
            for r in self.reasons
            if self.outcome == "skipped" and r.startswith(BLOCKED_BY)
        )

    @property
    def status(self) -> Status:
        if self.result != "skipped" or not self.reasons:
            return self.result
        if self.blocked_by:
            return "blocked"
        if all(r.startswith(NOT_JUDGED) for r in self.reasons):
            return "not-judged"
        return "skipped"


# -- profiles, waivers, baseline, verdict ----------------------------------------------------------------------
@dataclass(frozen=True)
class SkipReason:
    reason: str
    clauses: tuple[str, ...]


@dataclass(frozen=True)
class ProfileSummary:
    id: str
    title: str
    kind: str
    selected: bool
    requires: tuple[str, ...]
    passed: int
    failed: int
    skipped: int
    untested: int
    waived: int
    skip_reasons: tuple[SkipReason, ...]
    partial: bool = False
    """Selected, but every MUST clause of it was skipped: it showed nothing, which is not a plain pass."""


@dataclass(frozen=True)
class WaiverRecord:
    """A waiver the run was given, and what became of it."""

    clause: str
    reason: str
    expires: str
    status: Literal["applied", "unused", "expired"]


@dataclass(frozen=True)
class BaselineDiff:
    """This run against an earlier report: every clause failing in either lands in exactly one list."""

    source: str
    started_at: str
    contracts_digest: str
    target_url: str | None
    new_failures: tuple[str, ...]
    still_failing: tuple[str, ...]
    fixed: tuple[str, ...]
    no_longer_checked: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    policy: Policy
    failed_must: tuple[str, ...]
    untested_must: tuple[str, ...]
    blocking: tuple[str, ...]
    waived: tuple[str, ...]
    expired_waivers: tuple[str, ...]
    reasons: tuple[str, ...]


NO_VERDICT = Verdict(False, "any", (), (), (), (), (), ())
"""What a report holds before ``reports.verdict.apply`` has judged it."""


@dataclass(frozen=True)
class TargetInfo:
    """What the report says of the target (not ``gateway_contracts.target.Target``, which is how to reach it)."""

    url: str | None = None
    label: str | None = None
    name: str | None = None
    version: str | None = None
    identified_by: str | None = None
    embedded: bool = False
    given: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        """``name version`` when the gateway said, else the harness's label, else the URL."""
        if self.name:
            return f"{self.name} {self.version}" if self.version else self.name
        return self.label or self.url or "no target"


# -- fuzz ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FuzzFinding:
    clause: str | None
    check: str
    operation: str
    title: str
    message: str
    status: int | None
    curl: str | None
    new: bool
    """Not accepted by the fuzz baseline."""


@dataclass(frozen=True)
class FuzzSection:
    seed: int | str | None
    requests: int
    seconds: float
    findings: tuple[FuzzFinding, ...]


# -- the report ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    schema_version: int
    harness_version: str
    contracts_digest: str
    target: TargetInfo
    started_at: str
    finished_at: str
    duration_seconds: float
    seed: int | str | None
    profiles_selected: tuple[str, ...]
    whole_suite: bool
    profiles: tuple[ProfileSummary, ...]
    clauses: tuple[ClauseResult, ...]
    waivers: tuple[WaiverRecord, ...] = ()
    baseline: BaselineDiff | None = None
    verdict: Verdict = NO_VERDICT
    fuzz: FuzzSection | None = None

    def by_profile(self, profile: str) -> list[ClauseResult]:
        return [c for c in self.clauses if c.profile == profile]

    def clause(self, clause_id: str) -> ClauseResult:
        return next(c for c in self.clauses if c.id == clause_id)

    def profile(self, profile_id: str) -> ProfileSummary:
        return next(p for p in self.profiles if p.id == profile_id)

    @property
    def failed(self) -> list[ClauseResult]:
        """Every clause that fails or is untested, waived or not, in catalogue order."""
        return [c for c in self.clauses if c.failing]
