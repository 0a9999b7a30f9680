"""Per-clause results of a conformance run, and the versioned report built from them.

A clause's outcome folds the outcomes of the tests that checked it: ``failed`` if any failed; ``passed`` if at
least one passed and none failed; ``skipped`` (with the reasons) if every test was skipped or its profile was not
selected; ``untested`` if no test exists for it. A failed or untested MUST clause fails the run, unless a waiver
or a baseline says otherwise (``gateway_contracts.reports.verdict``).

The report (``gateway_contracts.reports.model``, serialised as ``contracts/report.schema.json`` describes) is
built once, here: per clause, the tests that checked it and one failure per failed test, with the evidence the
test recorded plus the gateway's rows and log lines for those calls, all of it scrubbed
(``gateway_contracts.reports.evidence``). What follows (waivers, a baseline, fuzz findings) makes new reports
from it, never edits it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from contracts.clauses import Catalogue
from contracts.scrub import default_scrubber
from gateway_contracts import __version__
from gateway_contracts.reports import evidence, verdict
from gateway_contracts.reports.identify import identify
from gateway_contracts.reports.model import (
    ClauseResult,
    Failure,
    Outcome,
    ProfileSummary,
    Report,
    SkipReason,
    TargetInfo,
    TestOutcome,
    TestRun,
    When,
)
from gateway_contracts.reports.schema import SCHEMA_VERSION
from gateway_contracts.target import Target

REPORT_SCHEMA_VERSION = SCHEMA_VERSION


@dataclass(frozen=True)
class TestRecord:
    nodeid: str
    outcome: str
    when: str
    message: str
    duration: float
    evidence: dict[str, Any] = field(default_factory=dict)
    """What the test recorded, unscrubbed: it only ever reaches a file through ``reports.evidence``."""


class ClauseResults:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.tests: dict[str, set[str]] = {cid: set() for cid in catalogue.clauses}
        self.records: dict[str, list[TestRecord]] = {cid: [] for cid in catalogue.clauses}
        self.any_conformance = False
        self.needs: dict[str, set[str]] = {}
        """Per profile, what its tests declared they need of the target (the report's ``requires``)."""
        self.started_at = datetime.now(UTC)
        self._started = time.monotonic()

    def collected(self, clause_id: str, nodeid: str, needs: list[str] | None = None) -> None:
        self.any_conformance = True
        self.tests[clause_id].add(nodeid)
        self.needs.setdefault(self.catalogue.clauses[clause_id].profile, set()).update(needs or ())

    def record(self, clause_id: str, rec: TestRecord) -> None:
        self.records[clause_id].append(rec)

    def untested_must(self, profiles: set[str]) -> list[str]:
        return sorted(
            cid
            for cid, clause in self.catalogue.clauses.items()
            if clause.must and clause.profile in profiles and not self.tests[cid]
        )

    def result_of(
        self, clause_id: str, profiles: set[str], whole_suite: bool = True
    ) -> tuple[Outcome, list[str]]:
        clause = self.catalogue.clauses[clause_id]
        if clause.profile not in profiles:
            return "skipped", [f"profile {clause.profile} not selected"]
        recs = self.records[clause_id]
        # Before asking whether a test of the clause was collected: a precondition fails under its own clause
        # (``failures.Blocked``) from another clause's test, even in a run that collected none of its own.
        if any(r.outcome == "failed" for r in recs):
            return "failed", sorted({r.message for r in recs if r.outcome == "failed"})
        if not self.tests[clause_id]:
            if not whole_suite:
                return "skipped", ["not collected in this run"]
            return "untested", ["no test checks this clause"]
        if any(r.outcome == "passed" for r in recs):
            return "passed", []
        if recs:
            return "skipped", sorted({r.message for r in recs})
        return "skipped", ["deselected"]

    def _clause(
        self,
        cid: str,
        outcome: Outcome,
        reasons: list[str],
        failures: Callable[[str, TestRecord], Failure],
    ) -> ClauseResult:
        clause = self.catalogue.clauses[cid]
        records = self.records[cid]
        return ClauseResult(
            id=cid,
            level="MUST" if clause.must else "SHOULD",
            profile=clause.profile,
            title=clause.title,
            statement=clause.statement,
            source=clause.source,
            outcome=outcome,
            reasons=tuple(reasons),
            tests=tuple(
                TestRun(
                    nodeid=r.nodeid,
                    outcome=cast(TestOutcome, r.outcome),
                    when=cast(When, r.when),
                    duration=round(max(r.duration, 0.0), 6),
                    message=evidence.scrub_text(r.message),
                )
                for r in records
            ),
            failures=tuple(failures(cid, r) for r in records if r.outcome == "failed"),
            result=outcome,
        )

    def finish(
        self,
        profiles: set[str],
        target: Target | None,
        whole_suite: bool = True,
        seed: int | str | None = None,
    ) -> Report:
        """The report of this run (schema version :data:`REPORT_SCHEMA_VERSION`), with no waivers and no
        baseline applied: ``check`` applies those (``reports.verdict.apply``)."""
        sources = evidence.EvidenceSources(target)
        # A failed test's evidence is looked up once, whichever of its clauses lists it.
        found: dict[tuple[str, str], Failure] = {}

        def failure_of(cid: str, rec: TestRecord) -> Failure:
            key = (rec.nodeid, rec.when)
            if key not in found:
                found[key] = evidence.failure(
                    cid, rec.nodeid, cast(When, rec.when), rec.message, rec.evidence, target, sources
                )
            return dataclasses.replace(found[key], clause=cid)

        clauses: list[ClauseResult] = []
        skip_reasons: dict[str, dict[str, list[str]]] = {pid: {} for pid in self.catalogue.profiles}
        for cid, clause in sorted(self.catalogue.clauses.items()):
            outcome, reasons = self.result_of(cid, profiles, whole_suite)
            reasons = [evidence.scrub_text(r) for r in reasons]
            if outcome == "skipped":
                for reason in reasons:
                    skip_reasons[clause.profile].setdefault(reason, []).append(cid)
            clauses.append(self._clause(cid, outcome, reasons, failure_of))
        report = Report(
            schema_version=REPORT_SCHEMA_VERSION,
            harness_version=__version__,
            contracts_digest=self.catalogue.digest,
            target=target_info(target),
            started_at=self.started_at.isoformat(),
            finished_at=datetime.now(UTC).isoformat(),
            duration_seconds=round(time.monotonic() - self._started, 3),
            seed=seed,
            profiles_selected=tuple(p for p in self.catalogue.profiles if p in profiles),
            whole_suite=whole_suite,
            profiles=tuple(
                ProfileSummary(
                    id=pid,
                    title=p.title,
                    kind=p.kind,
                    selected=pid in profiles,
                    requires=tuple(sorted(self.needs.get(pid, set()))),
                    passed=0,
                    failed=0,
                    skipped=0,
                    untested=0,
                    waived=0,
                    skip_reasons=tuple(SkipReason(r, tuple(ids)) for r, ids in skip_reasons[pid].items()),
                )
                for pid, p in self.catalogue.profiles.items()
            ),
            clauses=tuple(clauses),
        )
        return verdict.apply(report, waivers=[], policy="any")


def _given(target: Target) -> dict[str, Any]:
    """What the user gave, as the option table records it (a secret's source, never its value), scrubbed once
    more; for a started target, what its start command filled in is said as given, without values."""
    given: dict[str, Any] = {k: default_scrubber().scrub_value(v) for k, v in target.given.items()}
    if target.embedded:
        for key, value in (
            ("capture.db_url", target.db_url),
            ("logs.file", target.log_file),
            ("metrics.key", target.internal_key),
            ("auth.api_key", target.api_key),
            ("features.upstream_url", target.upstream_url),
            ("features.kill_switch_url", target.kill_switch_url),
        ):
            if value:
                given.setdefault(key, "(set by the start command)")
    return given


def target_info(target: Target | None) -> TargetInfo:
    """What the report says of the target: what it was given, and what the gateway says it is."""
    if target is None:
        return TargetInfo()
    who = identify(target.base_url, timeout=min(target.timeout, 5.0))
    return TargetInfo(
        url=target.base_url,
        label=target.name,
        name=evidence.scrub_text(who.name) if who.name else None,
        version=evidence.scrub_text(who.version) if who.version else None,
        identified_by=who.identified_by,
        embedded=target.embedded,
        given=_given(target),
        features=tuple(sorted(target.features)),
    )
