"""Comparing a run with a baseline (an earlier report), so a pull request fails on what it broke, not on debt.

Every clause that fails in either run lands in exactly one list: *new failures* (failing now, not in the
baseline), *still failing* (both), *fixed* (failing then, passing now) or *no longer checked* (failing then,
skipped or gone now, so not known to be fixed). "Failing" means failed or untested, whatever the level; the
verdict decides separately which of them count.

The baseline may come from an older harness: reports of schema version 1 (the bare per-clause summary) carry
the clause results this needs and are accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway_contracts.reports.loader import read_document
from gateway_contracts.reports.model import FAILING
from gateway_contracts.reports.schema import SCHEMA_VERSION, ReportError, validate_report


def load_baseline(path: Path) -> dict[str, Any]:
    doc = read_document(path)
    version = doc["schema_version"]
    if version == SCHEMA_VERSION:
        validate_report(doc, f"the baseline {path}")
    elif version == 1:
        clauses = doc.get("clauses")
        if not isinstance(clauses, list) or not all(
            isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("result"), str)
            for c in clauses
        ):
            raise ReportError(f"the baseline {path} (version 1) has no clause results")
    else:
        raise ReportError(f"the baseline {path} is a version {version} report; this harness reads 1 and 2")
    return doc


def outcomes(doc: dict[str, Any]) -> dict[str, str]:
    """Clause id → outcome (before waivers: a waived failure is still a failure of the baseline)."""
    key = "outcome" if doc["schema_version"] >= 2 else "result"
    return {c["id"]: c[key] for c in doc["clauses"]}


def started_at(doc: dict[str, Any]) -> str:
    run = doc.get("run")
    value = run.get("started_at") if isinstance(run, dict) else doc.get("started_at")
    if not isinstance(value, str):
        raise ReportError("the baseline does not say when it ran")
    return value


def diff(current: dict[str, str], baseline_doc: dict[str, Any], source: str) -> dict[str, Any]:
    """The report's ``baseline`` section. ``current`` maps clause id → this run's outcome."""
    before = outcomes(baseline_doc)
    failing_before = {cid for cid, outcome in before.items() if outcome in FAILING}
    failing_now = {cid for cid, outcome in current.items() if outcome in FAILING}
    target = baseline_doc.get("target")
    return {
        "source": source,
        "started_at": started_at(baseline_doc),
        "contracts_digest": str(baseline_doc.get("contracts_digest", "")),
        "target_url": target.get("url") if isinstance(target, dict) else None,
        "new_failures": sorted(failing_now - failing_before),
        "still_failing": sorted(failing_now & failing_before),
        "fixed": sorted(cid for cid in failing_before if current.get(cid) == "passed"),
        "no_longer_checked": sorted(cid for cid in failing_before if current.get(cid) in (None, "skipped")),
    }


CHANGE_OF = {
    "new_failures": "new-failure",
    "still_failing": "still-failing",
    "fixed": "fixed",
    "no_longer_checked": "no-longer-checked",
}
"""The baseline lists → the per-clause ``change`` tag."""
