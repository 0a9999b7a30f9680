"""Comparing a run with a baseline (an earlier report), so a pull request fails on what it broke, not on debt.

Every clause that fails in either run lands in exactly one list: *new failures* (failing now, not in the
baseline), *still failing* (both), *fixed* (failing then, passing now) or *no longer checked* (failing then,
skipped or gone now, so not known to be fixed). "Failing" means failed or untested, whatever the level; the
verdict decides separately which of them count.

The baseline may come from an older harness: reports of schema version 1 (the bare per-clause summary) carry
the clause results this needs and are accepted. Either is read into a :class:`Prior`, all a comparison needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway_contracts.reports.loader import read_document
from gateway_contracts.reports.model import FAILING, BaselineDiff, Change, Report
from gateway_contracts.reports.schema import SCHEMA_VERSION, ReportError, validate_report


@dataclass(frozen=True)
class Prior:
    """What an earlier run found, clause by clause (its outcomes before waivers: a waived failure is still a
    failure of the baseline), and what identifies that run."""

    outcomes: dict[str, str]
    started_at: str
    contracts_digest: str
    target_url: str | None

    @classmethod
    def of(cls, report: Report) -> Prior:
        return cls(
            outcomes={c.id: c.outcome for c in report.clauses},
            started_at=report.started_at,
            contracts_digest=report.contracts_digest,
            target_url=report.target.url,
        )


def _prior_v1(doc: dict[str, Any], path: Path) -> Prior:
    clauses = doc.get("clauses")
    if not isinstance(clauses, list) or not all(
        isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("result"), str)
        for c in clauses
    ):
        raise ReportError(f"the baseline {path} (version 1) has no clause results")
    started_at = doc.get("started_at")
    if not isinstance(started_at, str):
        raise ReportError(f"the baseline {path} does not say when it ran")
    target = doc.get("target")
    url = target.get("url") if isinstance(target, dict) else None
    return Prior(
        outcomes={c["id"]: c["result"] for c in clauses},
        started_at=started_at,
        contracts_digest=str(doc.get("contracts_digest", "")),
        target_url=url if isinstance(url, str) else None,
    )


def load_baseline(path: Path) -> Prior:
    from gateway_contracts.reports.codec import parse

    doc = read_document(path)
    version = doc["schema_version"]
    if version == SCHEMA_VERSION:
        validate_report(doc, f"the baseline {path}")
        return Prior.of(parse(doc))
    if version == 1:
        return _prior_v1(doc, path)
    raise ReportError(f"the baseline {path} is a version {version} report; this harness reads 1 and 2")


def diff(current: Mapping[str, str], prior: Prior, source: str) -> BaselineDiff:
    """The report's ``baseline`` section. ``current`` maps clause id → this run's outcome."""
    failing_before = {cid for cid, outcome in prior.outcomes.items() if outcome in FAILING}
    failing_now = {cid for cid, outcome in current.items() if outcome in FAILING}
    return BaselineDiff(
        source=source,
        started_at=prior.started_at,
        contracts_digest=prior.contracts_digest,
        target_url=prior.target_url,
        new_failures=tuple(sorted(failing_now - failing_before)),
        still_failing=tuple(sorted(failing_now & failing_before)),
        fixed=tuple(sorted(cid for cid in failing_before if current.get(cid) == "passed")),
        no_longer_checked=tuple(
            sorted(cid for cid in failing_before if current.get(cid) in (None, "skipped"))
        ),
    )


def changes(section: BaselineDiff) -> dict[str, Change]:
    """Clause id → its ``change`` tag against the baseline."""
    lists: tuple[tuple[Change, tuple[str, ...]], ...] = (
        ("new-failure", section.new_failures),
        ("still-failing", section.still_failing),
        ("fixed", section.fixed),
        ("no-longer-checked", section.no_longer_checked),
    )
    return {cid: change for change, ids in lists for cid in ids}
