"""The verdict of a run: outcomes, then waivers, then the baseline.

The tests' outcomes are never changed here. Waivers change what a clause *shows* (``result: waived``) and
whether it counts; the baseline decides, under the ``new`` policy, that only failures the baseline did not
have fail the run. Only MUST clauses ever fail a run. An expired waiver fails it on its own.

Waivers are judged on the day the run started, not the day a report is re-rendered, so re-rendering an old
report (``gateway-contracts report``) reproduces the verdict ``check`` gave.

:func:`apply` gives a new report; the one it is given is left as it was.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from gateway_contracts.reports.baseline import Prior, changes, diff
from gateway_contracts.reports.model import (
    BaselineDiff,
    ClauseResult,
    ClauseWaiver,
    Policy,
    ProfileSummary,
    Report,
    Verdict,
    WaiverRecord,
)
from gateway_contracts.reports.waivers import Waiver

POLICIES: tuple[Policy, ...] = ("new", "any")
NOT_ASKED = frozenset({"deselected", "not collected in this run"})
"""Skip reasons of clauses the run was not asked to check (``--clause``, ``-k``): they make no profile partial."""


def run_date(report: Report) -> date:
    return datetime.fromisoformat(report.started_at).date()


def _waived(clause: ClauseResult, waiver: Waiver | None, on: date) -> ClauseResult:
    if waiver is not None and waiver.applies(on, clause.outcome):
        return dataclasses.replace(
            clause, result="waived", waiver=ClauseWaiver(waiver.reason, waiver.expires.isoformat())
        )
    return dataclasses.replace(clause, result=clause.outcome, waiver=None)


def _recount(profile: ProfileSummary, clauses: list[ClauseResult]) -> ProfileSummary:
    mine = [c for c in clauses if c.profile == profile.id]

    def count(result: str) -> int:
        return sum(c.result == result for c in mine)

    # As the Gateway API conformance report does: a profile run whose every MUST clause was skipped because
    # the target lacks what they need did not show conformance, it showed nothing; it is partial, not a
    # plain pass. Clauses left out on purpose (--clause, -k) say nothing either way.
    must = [c for c in mine if c.level == "MUST"]
    unasked = [c for c in must if c.outcome == "skipped" and set(c.reasons) <= NOT_ASKED]
    partial = profile.selected and len(unasked) < len(must) and all(c.outcome == "skipped" for c in must)
    return dataclasses.replace(
        profile,
        passed=count("passed"),
        failed=count("failed"),
        skipped=count("skipped"),
        untested=count("untested"),
        waived=count("waived"),
        partial=partial,
    )


def _verdict(
    clauses: list[ClauseResult],
    waivers: tuple[WaiverRecord, ...],
    baseline: BaselineDiff | None,
    policy: Policy,
) -> Verdict:
    must = [c for c in clauses if c.level == "MUST"]
    failed_must = [c.id for c in must if c.outcome == "failed"]
    untested_must = [c.id for c in must if c.outcome == "untested"]
    waived = [c.id for c in clauses if c.result == "waived"]
    candidates = [cid for cid in failed_must + untested_must if cid not in waived]
    if policy == "new" and baseline is not None:
        blocking = [cid for cid in candidates if cid in baseline.new_failures]
    else:
        blocking = candidates
    expired = [w for w in waivers if w.status == "expired"]
    reasons = []
    for cid in sorted(blocking):
        what = "has no test" if cid in untested_must else "failed"
        since = " (new since the baseline)" if baseline is not None else ""
        reasons.append(f"MUST clause {cid} {what}{since}")
    for w in expired:
        reasons.append(f"the waiver for {w.clause} expired on {w.expires}: renew it or fix the clause")
    return Verdict(
        passed=not blocking and not expired,
        policy=policy if baseline is not None else "any",
        failed_must=tuple(sorted(failed_must)),
        untested_must=tuple(sorted(untested_must)),
        blocking=tuple(sorted(blocking)),
        waived=tuple(sorted(waived)),
        expired_waivers=tuple(sorted(w.clause for w in expired)),
        reasons=tuple(reasons),
    )


def apply(
    report: Report,
    waivers: list[Waiver],
    baseline: Prior | None = None,
    baseline_source: str = "",
    policy: Policy = "new",
) -> Report:
    """``report`` with waivers, the baseline diff and the verdict (re)computed."""
    on = run_date(report)
    by_clause = {w.clause: w for w in waivers}
    clauses = [_waived(c, by_clause.get(c.id), on) for c in report.clauses]
    outcomes = {c.id: c.outcome for c in clauses}
    records = tuple(w.record(on, outcomes.get(w.clause)) for w in waivers)
    section = diff(outcomes, baseline, baseline_source) if baseline is not None else None
    change = changes(section) if section is not None else {}
    clauses = [dataclasses.replace(c, change=change.get(c.id)) for c in clauses]
    return dataclasses.replace(
        report,
        clauses=tuple(clauses),
        profiles=tuple(_recount(p, clauses) for p in report.profiles),
        waivers=records,
        baseline=section,
        verdict=_verdict(clauses, records, section, policy),
    )
