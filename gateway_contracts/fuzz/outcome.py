"""What a finished schemathesis run amounts to: its findings and what it exercised.

Besides the per-call checks, one check runs here, once, after the run: the audit chain over the whole database
(every event the run caused, linked and hashed without gaps). It needs the complete chain, so it cannot be a
per-response check.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from gateway_contracts.errors import EXIT_FAILED, CliError
from gateway_contracts.fuzz import findings as findings_mod
from gateway_contracts.fuzz.clauses import clause_of
from gateway_contracts.fuzz.events import read_events
from gateway_contracts.fuzz.findings import Finding
from gateway_contracts.fuzz.runner import RunPaths
from gateway_contracts.fuzz.summary import OperationStats, coverage
from gateway_contracts.reports.model import FuzzFinding, FuzzSection

CHAIN_OPERATION = "(audit chain)"
MAX_MESSAGE = 4000
"""A finding's message in the report is cut here: the full one is in ``findings.json``."""


@dataclass
class Outcome:
    findings: list[Finding]
    stats: dict[str, OperationStats]
    requests: int
    seed: int | None
    seconds: float = 0.0
    phases_seen: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, paths: RunPaths, exit_code: int, operations: dict[str, str], db_url: str | None) -> Outcome:
        if not paths.ndjson.exists():
            raise CliError(
                f"schemathesis ended (exit {exit_code}) without writing {paths.ndjson}", EXIT_FAILED
            )
        events = read_events(paths.ndjson)
        if not events.finished:
            raise CliError(
                f"schemathesis stopped before the run finished (exit {exit_code}); its output is above",
                EXIT_FAILED if exit_code in (0, 1) else exit_code,
            )
        extra = chain_findings(db_url) if db_url else []
        found = [
            dataclasses.replace(
                f, clause=f.clause or clause_of(f.check, operations.get(f.operation, ""), f.title)
            )
            for f in findings_mod.collect(events, extra)
        ]
        return cls(
            findings=found,
            stats=coverage(events.interactions, list(operations)),
            requests=len(events.interactions),
            seed=events.seed,
            phases_seen=sorted({i.phase for i in events.interactions}),
        )

    def section(self, found: list[Finding]) -> FuzzSection:
        """The run as the compliance report's ``fuzz`` section: each finding with its clause, check and curl,
        scrubbed as all report evidence is (the curl keeps its credentials as environment variables)."""
        from gateway_contracts.reports.evidence import scrub_text

        return FuzzSection(
            seed=self.seed,
            requests=self.requests,
            seconds=round(self.seconds, 1),
            findings=tuple(
                FuzzFinding(
                    clause=f.clause,
                    check=f.check,
                    operation=f.operation,
                    title=scrub_text(f.headline),
                    message=scrub_text(f.message)[:MAX_MESSAGE],
                    status=f.status,
                    curl=scrub_text(f.curl) if f.curl else None,
                    new=f.new,
                )
                for f in found
            ),
        )

    def meta(self, args: Any) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "max_examples": args.max_examples,
            "phases": self.phases_seen,
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "operations": {label: s.as_dict() for label, s in self.stats.items()},
        }


def chain_findings(db_url: str) -> list[Finding]:
    from gateway_contracts.capture.db import CaptureDB
    from gateway_contracts.capture.invariants import chain_problems

    problems = chain_problems(CaptureDB(db_url))
    if not problems:
        return []
    title = "audit chain broken"
    return [
        Finding(
            fingerprint=findings_mod.fingerprint(CHAIN_OPERATION, "capture_chain", title),
            operation=CHAIN_OPERATION,
            check="capture_chain",
            code="capture_chain",
            title=title,
            message="\n".join(problems[:20]),
            phase="after run",
            status=None,
            response_excerpt="",
            curl=None,
            clause="CAP-006",
        )
    ]
