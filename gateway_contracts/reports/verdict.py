"""The verdict of a run: outcomes, then waivers, then the baseline.

The tests' outcomes are never changed here. Waivers change what a clause *shows* (``result: waived``) and
whether it counts; the baseline decides, under the ``new`` policy, that only failures the baseline did not
have fail the run. Only MUST clauses ever fail a run. An expired waiver fails it on its own.

Waivers are judged on the day the run started, not the day a report is re-rendered, so re-rendering an old
report (``gateway-contracts report``) reproduces the verdict ``check`` gave.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any, Literal

from gateway_contracts.reports.baseline import CHANGE_OF, diff
from gateway_contracts.reports.model import FAILING
from gateway_contracts.reports.waivers import Waiver

Policy = Literal["any", "new"]
POLICIES: tuple[Policy, ...] = ("new", "any")
COUNTED = ("passed", "failed", "skipped", "untested", "waived")
NOT_ASKED = frozenset({"deselected", "not collected in this run"})
"""Skip reasons of clauses the run was not asked to check (``--clause``, ``-k``): they make no profile partial."""


def run_date(doc: dict[str, Any]) -> date:
    return datetime.fromisoformat(doc["run"]["started_at"]).date()


def _apply_waivers(doc: dict[str, Any], waivers: list[Waiver], on: date) -> None:
    by_clause = {w.clause: w for w in waivers}
    outcomes = {c["id"]: c["outcome"] for c in doc["clauses"]}
    for clause in doc["clauses"]:
        waiver = by_clause.get(clause["id"])
        active = waiver is not None and not waiver.expired(on) and clause["outcome"] in FAILING
        clause["result"] = "waived" if active else clause["outcome"]
        clause["waiver"] = (
            {"reason": waiver.reason, "expires": waiver.expires.isoformat()} if waiver and active else None
        )
    doc["waivers"] = [
        {
            **w.to_json(),
            "status": "expired"
            if w.expired(on)
            else ("applied" if outcomes.get(w.clause) in FAILING else "unused"),
        }
        for w in waivers
    ]


def _recount(doc: dict[str, Any]) -> None:
    for summary in doc["profiles"].values():
        for key in COUNTED:
            summary[key] = 0
    must: dict[str, list[tuple[str, list[str]]]] = {}
    for clause in doc["clauses"]:
        doc["profiles"][clause["profile"]][clause["result"]] += 1
        if clause["level"] == "MUST":
            must.setdefault(clause["profile"], []).append((clause["outcome"], clause.get("reasons", [])))
    for pid, summary in doc["profiles"].items():
        # As the Gateway API conformance report does: a profile run whose every MUST clause was skipped because
        # the target lacks what they need did not show conformance, it showed nothing; it is partial, not a
        # plain pass. Clauses left out on purpose (--clause, -k) say nothing either way.
        outcomes = must.get(pid, [])
        unasked = [o for o, reasons in outcomes if o == "skipped" and set(reasons) <= NOT_ASKED]
        summary["partial"] = (
            bool(summary.get("selected"))
            and len(unasked) < len(outcomes)
            and all(o == "skipped" for o, _r in outcomes)
        )


def _apply_baseline(doc: dict[str, Any], baseline: dict[str, Any] | None, source: str) -> None:
    for clause in doc["clauses"]:
        clause["change"] = None
    if baseline is None:
        doc["baseline"] = None
        return
    section = diff({c["id"]: c["outcome"] for c in doc["clauses"]}, baseline, source)
    doc["baseline"] = section
    change = {cid: CHANGE_OF[key] for key in CHANGE_OF for cid in section[key]}
    for clause in doc["clauses"]:
        clause["change"] = change.get(clause["id"])


def _verdict(doc: dict[str, Any], policy: Policy) -> dict[str, Any]:
    must = [c for c in doc["clauses"] if c["level"] == "MUST"]
    failed_must = [c["id"] for c in must if c["outcome"] == "failed"]
    untested_must = [c["id"] for c in must if c["outcome"] == "untested"]
    waived = [c["id"] for c in doc["clauses"] if c["result"] == "waived"]
    candidates = [cid for cid in failed_must + untested_must if cid not in waived]
    baseline = doc["baseline"]
    if policy == "new" and baseline is not None:
        blocking = [cid for cid in candidates if cid in baseline["new_failures"]]
    else:
        blocking = candidates
    expired = [w["clause"] for w in doc["waivers"] if w["status"] == "expired"]
    reasons = []
    for cid in sorted(blocking):
        what = "has no test" if cid in untested_must else "failed"
        since = " (new since the baseline)" if baseline is not None else ""
        reasons.append(f"MUST clause {cid} {what}{since}")
    for w in doc["waivers"]:
        if w["status"] == "expired":
            reasons.append(
                f"the waiver for {w['clause']} expired on {w['expires']}: renew it or fix the clause"
            )
    return {
        "passed": not blocking and not expired,
        "policy": policy if baseline is not None else "any",
        "failed_must": sorted(failed_must),
        "untested_must": sorted(untested_must),
        "blocking": sorted(blocking),
        "waived": sorted(waived),
        "expired_waivers": sorted(expired),
        "reasons": reasons,
    }


def apply(
    doc: dict[str, Any],
    waivers: list[Waiver],
    baseline: dict[str, Any] | None = None,
    baseline_source: str = "",
    policy: Policy = "new",
) -> dict[str, Any]:
    """A copy of ``doc`` with waivers, the baseline diff and the verdict (re)computed."""
    out = copy.deepcopy(doc)
    _apply_waivers(out, waivers, run_date(out))
    _recount(out)
    _apply_baseline(out, baseline, baseline_source)
    out["verdict"] = _verdict(out, policy)
    return out
