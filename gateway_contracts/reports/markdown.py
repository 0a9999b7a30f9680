"""Markdown for a pull-request comment or a CI step summary (``$GITHUB_STEP_SUMMARY``).

Short on purpose: the verdict and why, what changed against the baseline, each failing clause with one line of
evidence, waivers and skipped profiles in a line each. The per-profile counts are folded away; the evidence
itself is in ``report.html``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gateway_contracts.reports.model import ClauseResult, Report, human_time

MAX_LISTED = 30
MAX_EVIDENCE = 200
CHANGE_MARK = {
    "new-failure": "🆕 new",
    "still-failing": "old",
    "fixed": "fixed",
    "no-longer-checked": "unchecked",
}


def code(text: str) -> str:
    """``text`` as one inline code span, whatever backticks it contains (CommonMark: a longer fence)."""
    flat = " ".join(text.split())
    if len(flat) > MAX_EVIDENCE:
        flat = flat[: MAX_EVIDENCE - 1] + "…"
    if not flat:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or longest else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _ids(ids: Sequence[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids) if ids else "none"


def _clause_line(clause: ClauseResult) -> str:
    tags = [f"[{clause.level}]"]
    if clause.change in CHANGE_MARK:
        tags.append(f"({CHANGE_MARK[clause.change]})")
    head = f"- `{clause.id}` {' '.join(tags)} {clause.title}"
    if clause.result == "waived" and clause.waiver is not None:
        return f"{head} — waived until {clause.waiver.expires}: {clause.waiver.reason}"
    evidence = code(clause.headline)
    return f"{head} — {evidence}" if evidence else head


def _header(report: Report) -> list[str]:
    v = report.verdict
    word = "✅ PASS" if v.passed else "❌ FAIL"
    partial = [p.id for p in report.profiles if p.partial]
    if v.passed and partial:
        word = "⚠️ PARTIAL PASS"
    out = [f"### {word} — gateway-contracts"]
    t = report.target
    where = f" at `{t.url}`" if t.url else ""
    seed = "" if report.seed is None else f" · seed {report.seed}"
    out.append(
        f"{t.description}{where} · contract `{report.contracts_digest[:19]}` · {human_time(report.started_at)}"
        f"{seed} · gateway-contracts {report.harness_version}"
    )
    out.append("")
    if v.reasons:
        out += [f"- {reason}" for reason in v.reasons]
    else:
        counts = {r: sum(c.result == r for c in report.clauses) for r in ("passed", "skipped", "waived")}
        out.append(
            f"Every checked MUST clause holds ({counts['passed']} passed, {counts['skipped']} skipped, "
            f"{counts['waived']} waived)."
            if not report.failed
            else "No failure blocks this run."
        )
    return out


def _baseline(report: Report) -> list[str]:
    b = report.baseline
    if b is None:
        return []
    out = ["", f"**Against the baseline** (`{b.source}`, run {human_time(b.started_at)}):"]
    out.append(f"- New failures: {_ids(b.new_failures)}")
    out.append(f"- Fixed: {_ids(b.fixed)}")
    out.append(f"- Still failing (old): {_ids(b.still_failing)}")
    if b.no_longer_checked:
        out.append(f"- Failing before, not checked now: {_ids(b.no_longer_checked)}")
    if b.contracts_digest and b.contracts_digest != report.contracts_digest:
        out.append("- The baseline checked a different contract version.")
    return out


def _failed(report: Report) -> list[str]:
    failed = report.failed
    if not failed:
        return []
    order = {"new-failure": 0, None: 1, "still-failing": 2}
    ranked = sorted(failed, key=lambda c: (c.result == "waived", order.get(c.change, 1), c.level != "MUST"))
    out = ["", f"**Failing clauses ({len(failed)})**"]
    out += [_clause_line(c) for c in ranked[:MAX_LISTED]]
    if len(ranked) > MAX_LISTED:
        out.append(f"- … and {len(ranked) - MAX_LISTED} more: see report.html")
    return out


def _notes(report: Report) -> list[str]:
    out: list[str] = []
    for w in report.waivers:
        if w.status != "applied":
            out.append(f"- Waiver for `{w.clause}` ({w.status}, expires {w.expires}): {w.reason}")
    not_selected = [p.id for p in report.profiles if not p.selected]
    if not_selected:
        out.append(f"- Profiles not selected: {', '.join(f'`{p}`' for p in not_selected)}")
    ran = [f"`{p.id}`" for p in report.profiles if p.selected]
    if ran:
        out.append(f"- Profiles checked: {', '.join(ran)}")
    for p in report.profiles:
        if p.partial:
            reasons = "; ".join(s.reason for s in p.skip_reasons)
            out.append(f"- Partial `{p.id}`: every MUST clause was skipped, so it shows nothing ({reasons})")
        elif p.selected and p.skip_reasons and not (p.passed or p.failed or p.untested or p.waived):
            out.append(f"- Skipped `{p.id}`: {'; '.join(s.reason for s in p.skip_reasons)}")
    return ["", *out] if out else []


def _profiles(report: Report) -> list[str]:
    out = ["", "<details><summary>Per profile</summary>", ""]
    out.append("| profile | passed | failed | skipped | untested | waived |")
    out.append("|---|--:|--:|--:|--:|--:|")
    for p in report.profiles:
        out.append(f"| {p.id} | {p.passed} | {p.failed} | {p.skipped} | {p.untested} | {p.waived} |")
    out += ["", "</details>"]
    return out


def _fuzz(report: Report) -> list[str]:
    if report.fuzz is None:
        return []
    f = report.fuzz
    new = [x for x in f.findings if x.new]
    out = [
        "",
        f"**Fuzz findings ({len(new)} new of {len(f.findings)}; {f.requests} requests, seed {f.seed})**",
    ]
    for x in f.findings:
        mark = "" if x.new else " (accepted by the baseline)"
        out.append(f"- `{x.clause or 'no clause'}` `{x.check}` {x.operation}: {x.title}{mark}")
    return out


def render(report: Report) -> str:
    lines = [
        *_header(report),
        *_baseline(report),
        *_failed(report),
        *_fuzz(report),
        *_notes(report),
        *_profiles(report),
    ]
    return "\n".join(lines) + "\n"
