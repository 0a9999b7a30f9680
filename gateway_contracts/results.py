"""Per-clause results of a conformance run, and the machine-readable summary ``check`` writes.

A clause's result folds the outcomes of the tests that checked it: ``failed`` if any failed; ``passed`` if at
least one passed and none failed; ``skipped`` (with the reasons) if every test was skipped or its profile was not
selected; ``untested`` if no test exists for it. A failed or untested MUST clause fails the run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway_contracts import __version__
from gateway_contracts.clauses import Catalogue
from gateway_contracts.target import Target

REPORT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class TestRecord:
    nodeid: str
    outcome: str
    when: str
    message: str
    duration: float
    evidence: dict[str, Any] = field(default_factory=dict)


class ClauseResults:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.tests: dict[str, set[str]] = {cid: set() for cid in catalogue.clauses}
        self.records: dict[str, list[TestRecord]] = {cid: [] for cid in catalogue.clauses}
        self.any_conformance = False
        self.started_at = datetime.now(UTC)

    def collected(self, clause_id: str, nodeid: str) -> None:
        self.any_conformance = True
        self.tests[clause_id].add(nodeid)

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
    ) -> tuple[str, list[str]]:
        clause = self.catalogue.clauses[clause_id]
        if clause.profile not in profiles:
            return "skipped", [f"profile {clause.profile} not selected"]
        if not self.tests[clause_id]:
            if not whole_suite:
                return "skipped", ["not collected in this run"]
            return "untested", ["no test checks this clause"]
        recs = self.records[clause_id]
        if any(r.outcome == "failed" for r in recs):
            return "failed", sorted({r.message for r in recs if r.outcome == "failed"})
        if any(r.outcome == "passed" for r in recs):
            return "passed", []
        if recs:
            return "skipped", sorted({r.message for r in recs})
        return "skipped", ["deselected"]

    def finish(self, profiles: set[str], target: Target | None, whole_suite: bool = True) -> dict[str, Any]:
        clauses: list[dict[str, Any]] = []
        per_profile: dict[str, dict[str, Any]] = {
            pid: {"title": p.title, "passed": 0, "failed": 0, "skipped": 0, "untested": 0, "skip_reasons": []}
            for pid, p in self.catalogue.profiles.items()
        }
        failed_must: list[str] = []
        untested_must: list[str] = []
        for cid, clause in sorted(self.catalogue.clauses.items()):
            result, reasons = self.result_of(cid, profiles, whole_suite)
            summary = per_profile[clause.profile]
            summary[result] += 1
            if result == "skipped":
                summary["skip_reasons"] = sorted(set(summary["skip_reasons"]) | set(reasons))
            if clause.must and result == "failed":
                failed_must.append(cid)
            if clause.must and result == "untested":
                untested_must.append(cid)
            clauses.append(
                {
                    "id": cid,
                    "level": clause.level,
                    "profile": clause.profile,
                    "title": clause.title,
                    "statement": clause.statement,
                    "source": clause.source,
                    "result": result,
                    "reasons": reasons,
                    "tests": [asdict(r) for r in self.records[cid]],
                }
            )
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "harness": {"name": "gateway-contracts", "version": __version__},
            "contracts_digest": self.catalogue.digest,
            "target": _target_json(target),
            "started_at": self.started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "profiles": per_profile,
            "clauses": clauses,
            "verdict": {
                "passed": not failed_must and not untested_must,
                "failed_must": failed_must,
                "untested_must": untested_must,
            },
        }


def _target_json(target: Target | None) -> dict[str, Any]:
    if target is None:
        return {}
    return {
        "name": target.name,
        "url": target.base_url,
        "embedded": target.embedded,
        "given": {
            "db_url": target.db_url is not None,
            "log_file": target.log_file is not None,
            "internal_key": target.internal_key is not None,
        },
        "features": sorted(target.features),
    }
