"""A typed view of a validated report, for the writers.

The JSON document stays the record (it is what the schema describes and what ``check`` writes); this is only
how the writers read it, so that a renamed field is a type error in every writer rather than a ``KeyError`` in
one of them. :func:`parse` trusts its input to have passed :func:`~gateway_contracts.reports.validate_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FAILING = frozenset({"failed", "untested"})
"""Outcomes that count as a failure of the clause (for the baseline diff and the verdict)."""


def human_time(timestamp: str) -> str:
    """An ISO timestamp as people read it, in UTC (reports may be read anywhere)."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Exchange:
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
class Command:
    kind: str
    command: str


@dataclass(frozen=True)
class Finding:
    test: str
    when: str
    message: str
    exchanges: list[Exchange]
    rows: list[dict[str, Any]]
    log_lines: list[dict[str, Any]]
    other: dict[str, Any]
    reproduce: list[Command]

    @property
    def headline(self) -> str:
        """One line of evidence: the failure message, after the last exchange when there is one."""
        message = self.message.strip().splitlines()[0] if self.message.strip() else "failed"
        if self.exchanges:
            return f"{self.exchanges[-1].summary}: {message}"
        return message


@dataclass(frozen=True)
class TestRun:
    nodeid: str
    outcome: str
    when: str
    duration: float
    message: str


@dataclass(frozen=True)
class Waiver:
    clause: str
    reason: str
    expires: str
    status: str


@dataclass(frozen=True)
class ClauseResult:
    id: str
    level: str
    profile: str
    title: str
    statement: str
    source: str
    result: str
    outcome: str
    reasons: list[str]
    tests: list[TestRun]
    findings: list[Finding]
    waiver: Waiver | None
    change: str | None

    @property
    def failing(self) -> bool:
        return self.outcome in FAILING

    @property
    def duration(self) -> float:
        return sum(t.duration for t in self.tests)

    @property
    def headline(self) -> str:
        """One line saying why the clause is where it is."""
        if self.findings:
            return self.findings[0].headline
        return self.reasons[0] if self.reasons else ""


@dataclass(frozen=True)
class SkipReason:
    reason: str
    clauses: list[str]


@dataclass(frozen=True)
class ProfileSummary:
    id: str
    title: str
    selected: bool
    requires: list[str]
    passed: int
    failed: int
    skipped: int
    untested: int
    waived: int
    skip_reasons: list[SkipReason]
    kind: str = "generic"
    partial: bool = False


@dataclass(frozen=True)
class Baseline:
    source: str
    started_at: str
    contracts_digest: str
    target_url: str | None
    new_failures: list[str]
    fixed: list[str]
    still_failing: list[str]
    no_longer_checked: list[str]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    policy: str
    failed_must: list[str]
    untested_must: list[str]
    blocking: list[str]
    waived: list[str]
    expired_waivers: list[str]
    reasons: list[str]


@dataclass(frozen=True)
class TargetInfo:
    """What the report says of the target (not ``gateway_contracts.target.Target``, which is how to reach it)."""

    url: str | None
    label: str | None
    name: str | None
    version: str | None
    identified_by: str | None
    embedded: bool
    given: dict[str, Any]
    features: list[str]

    @property
    def description(self) -> str:
        """``name version`` when the gateway said, else the harness's label, else the URL."""
        if self.name:
            return f"{self.name} {self.version}" if self.version else self.name
        return self.label or self.url or "no target"


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


@dataclass(frozen=True)
class FuzzSection:
    seed: int | str | None
    requests: int
    seconds: float
    findings: list[FuzzFinding]


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
    profiles_selected: list[str]
    whole_suite: bool
    profiles: list[ProfileSummary]
    clauses: list[ClauseResult]
    waivers: list[Waiver]
    baseline: Baseline | None
    verdict: Verdict
    fuzz: FuzzSection | None = None

    def by_profile(self, profile: str) -> list[ClauseResult]:
        return [c for c in self.clauses if c.profile == profile]

    @property
    def failed(self) -> list[ClauseResult]:
        """Every clause that fails or is untested, waived or not, in catalogue order."""
        return [c for c in self.clauses if c.failing]


def _finding(raw: dict[str, Any]) -> Finding:
    return Finding(
        test=raw["test"],
        when=raw["when"],
        message=raw["message"],
        exchanges=[
            Exchange(
                method=x["request"]["method"],
                path=x["request"]["path"],
                request_headers=x["request"]["headers"],
                request_body=x["request"]["body"],
                status=x["response"]["status"],
                response_headers=x["response"]["headers"],
                response_body=x["response"]["body"],
                stream=x["response"]["stream"],
            )
            for x in raw["exchanges"]
        ],
        rows=raw["rows"],
        log_lines=raw["log_lines"],
        other=raw["other"],
        reproduce=[Command(c["kind"], c["command"]) for c in raw["reproduce"]],
    )


def _clause(raw: dict[str, Any]) -> ClauseResult:
    waiver = raw["waiver"]
    return ClauseResult(
        id=raw["id"],
        level=raw["level"],
        profile=raw["profile"],
        title=raw["title"],
        statement=raw["statement"],
        source=raw["source"],
        result=raw["result"],
        outcome=raw["outcome"],
        reasons=raw["reasons"],
        tests=[
            TestRun(t["nodeid"], t["outcome"], t["when"], t["duration"], t["message"]) for t in raw["tests"]
        ],
        findings=[_finding(f) for f in raw["findings"]],
        waiver=Waiver(raw["id"], waiver["reason"], waiver["expires"], "applied") if waiver else None,
        change=raw["change"],
    )


def parse(doc: dict[str, Any]) -> Report:
    target, run, verdict, baseline = doc["target"], doc["run"], doc["verdict"], doc["baseline"]
    return Report(
        schema_version=doc["schema_version"],
        harness_version=doc["harness"]["version"],
        contracts_digest=doc["contracts_digest"],
        target=TargetInfo(**target),
        started_at=run["started_at"],
        finished_at=run["finished_at"],
        duration_seconds=run["duration_seconds"],
        seed=run["seed"],
        profiles_selected=run["profiles_selected"],
        whole_suite=run["whole_suite"],
        profiles=[
            ProfileSummary(
                id=pid,
                **{k: v for k, v in p.items() if k != "skip_reasons"},
                skip_reasons=[SkipReason(s["reason"], s["clauses"]) for s in p["skip_reasons"]],
            )
            for pid, p in doc["profiles"].items()
        ],
        clauses=[_clause(c) for c in doc["clauses"]],
        waivers=[Waiver(w["clause"], w["reason"], w["expires"], w["status"]) for w in doc["waivers"]],
        baseline=Baseline(**baseline) if baseline else None,
        verdict=Verdict(**verdict),
        fuzz=_fuzz(doc.get("fuzz")),
    )


def _fuzz(raw: dict[str, Any] | None) -> FuzzSection | None:
    if raw is None:
        return None
    return FuzzSection(
        seed=raw["seed"],
        requests=raw["requests"],
        seconds=raw["seconds"],
        findings=[FuzzFinding(**f) for f in raw["findings"]],
    )
