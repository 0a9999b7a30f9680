"""report.md: short, for a pull-request comment — verdict, changes against the baseline, failing clauses."""

from __future__ import annotations

from gateway_contracts.reports import verdict
from gateway_contracts.reports.baseline import Prior
from gateway_contracts.reports.markdown import code, render
from tests.reports.support import EXAMPLES, MUTANT_CLAUSE, Build, failed


def test_failing_example_reads_as_a_pr_comment() -> None:
    text = (EXAMPLES / "failing" / "report.md").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("### ❌ FAIL")
    assert f"- MUST clause {MUTANT_CLAUSE} failed (new since the baseline)" in lines
    assert f"- New failures: `{MUTANT_CLAUSE}`" in lines
    assert "- Fixed: none" in lines and "- Still failing (old): none" in lines
    (line,) = [ln for ln in lines if ln.startswith(f"- `{MUTANT_CLAUSE}`")]
    assert "(🆕 new)" in line and "GET /llms.txt → 200" in line and "mithril" in line
    assert len(lines) < 40, "a PR comment, not the whole report"


def test_passing_example_is_a_few_lines() -> None:
    text = (EXAMPLES / "passing" / "report.md").read_text()
    assert text.startswith("### ✅ PASS")
    assert "Every checked MUST clause holds" in text
    assert "Failing clauses" not in text


def _baseline_with(synthetic: Build, failing: list[str]) -> Prior:
    return Prior.of(synthetic({cid: failed(cid) for cid in failing}))


def test_new_fixed_and_old_failures_are_kept_apart(synthetic: Build) -> None:
    before = _baseline_with(synthetic, ["WIRE-001", "WIRE-002"])
    now = synthetic(
        {"WIRE-002": failed("WIRE-002"), "WIRE-003": failed("WIRE-003", "AssertionError: new bug")}
    )
    text = render(verdict.apply(now, [], before, baseline_source="main/report.json"))
    assert "- New failures: `WIRE-003`" in text
    assert "- Fixed: `WIRE-001`" in text
    assert "- Still failing (old): `WIRE-002`" in text
    assert "`main/report.json`" in text
    new_line = next(ln for ln in text.splitlines() if ln.startswith("- `WIRE-003`"))
    old_line = next(ln for ln in text.splitlines() if ln.startswith("- `WIRE-002`"))
    assert "(🆕 new)" in new_line and "new bug" in new_line and "(old)" in old_line
    assert text.index(new_line) < text.index(old_line), "new failures first"
    assert text.startswith("### ❌ FAIL") and "MUST clause WIRE-003 failed (new since the baseline)" in text


def test_code_span_survives_backticks_and_newlines() -> None:
    assert code("a `b` c\nd") == "`` a `b` c d ``"
    assert code("plain") == "`plain`"
    assert len(code("x" * 1000)) < 210
