"""The verdict under baselines and waivers: CI fails on what a change broke, waivers are dated decisions."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway_contracts.reports import verdict
from gateway_contracts.reports.baseline import Prior, load_baseline
from gateway_contracts.reports.codec import to_document
from gateway_contracts.reports.model import ClauseWaiver, Report, WaiverRecord
from gateway_contracts.reports.schema import ReportError, problems
from gateway_contracts.reports.waivers import Waiver, WaiverError, load_waivers, parse_waivers
from tests.reports.support import Build, failed


def ran_on(report: Report) -> date:
    return verdict.run_date(report)


def apply(report: Report, *args: Any, **kwargs: Any) -> Report:
    out = verdict.apply(report, *args, **kwargs)
    assert problems(to_document(out)) == []
    return out


def test_without_baseline_any_must_failure_fails(synthetic: Build) -> None:
    v = synthetic({"WIRE-005": failed("WIRE-005")}).verdict
    assert (v.passed, v.policy, v.blocking, v.failed_must) == (False, "any", ("WIRE-005",), ("WIRE-005",))


def test_should_failure_does_not_fail_the_run(synthetic: Build) -> None:
    should = next(c.id for c in synthetic({}).clauses if c.level == "SHOULD")
    report = synthetic({should: failed(should)})
    assert report.verdict.passed and report.verdict.blocking == ()
    assert report.clause(should).result == "failed"


def test_baseline_categories_and_policies(synthetic: Build) -> None:
    before = synthetic(
        {"WIRE-001": failed("WIRE-001"), "WIRE-002": failed("WIRE-002"), "CAP-001": failed("CAP-001")}
    )
    now = synthetic(
        {"WIRE-002": failed("WIRE-002"), "WIRE-003": failed("WIRE-003")},
        profiles={p.id for p in before.profiles if p.id != "capture"},  # CAP-001 not checked this time
    )
    new = apply(now, [], Prior.of(before), baseline_source="old.json")
    b = new.baseline
    assert b is not None
    assert b.new_failures == ("WIRE-003",)
    assert b.fixed == ("WIRE-001",)
    assert b.still_failing == ("WIRE-002",)
    assert b.no_longer_checked == ("CAP-001",), "skipped now is not fixed"
    changes = {c.id: c.change for c in new.clauses if c.change}
    assert changes == {
        "WIRE-001": "fixed",
        "WIRE-002": "still-failing",
        "WIRE-003": "new-failure",
        "CAP-001": "no-longer-checked",
    }
    assert new.verdict.policy == "new" and new.verdict.blocking == ("WIRE-003",)
    assert not new.verdict.passed
    anyone = apply(now, [], Prior.of(before), baseline_source="old.json", policy="any")
    assert anyone.verdict.blocking == ("WIRE-002", "WIRE-003")


def test_old_debt_alone_passes_under_the_default_policy(synthetic: Build) -> None:
    before = Prior.of(synthetic({"WIRE-002": failed("WIRE-002")}))
    now = synthetic({"WIRE-002": failed("WIRE-002")})
    out = apply(now, [], before, baseline_source="old.json")
    assert out.verdict.passed and out.verdict.failed_must == ("WIRE-002",)
    assert not apply(now, [], before, policy="any").verdict.passed


def test_applying_gives_a_new_report_and_leaves_the_given_one_as_it_was(synthetic: Build) -> None:
    report = synthetic({"WIRE-005": failed("WIRE-005")})
    before = to_document(report)
    waived = apply(report, [Waiver("WIRE-005", "r", ran_on(report))], Prior.of(report), baseline_source="b")
    assert to_document(report) == before
    assert waived is not report and waived.clause("WIRE-005").result == "waived"
    assert report.clause("WIRE-005").result == "failed" and report.baseline is None
    # Judging again from the judged report gives the same verdict as judging the original.
    again = apply(waived, [Waiver("WIRE-005", "r", ran_on(report))], Prior.of(report), baseline_source="b")
    assert to_document(again) == to_document(waived)


def test_version_1_baseline_is_accepted(tmp_path: Path, synthetic: Build) -> None:
    v1 = {
        "schema_version": 1,
        "started_at": "2026-01-01T00:00:00+00:00",
        "contracts_digest": "sha256:" + "0" * 64,
        "clauses": [{"id": "WIRE-002", "result": "failed"}, {"id": "WIRE-001", "result": "passed"}],
    }
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(v1))
    out = apply(
        synthetic({"WIRE-002": failed("WIRE-002")}), [], load_baseline(path), baseline_source=str(path)
    )
    assert out.baseline is not None and out.baseline.still_failing == ("WIRE-002",) and out.verdict.passed
    path.write_text(json.dumps({"schema_version": 9, "clauses": []}))
    with pytest.raises(ReportError, match="version 9"):
        load_baseline(path)


def test_current_baseline_file_is_read_into_the_same_prior(tmp_path: Path, synthetic: Build) -> None:
    from gateway_contracts.reports.write import write_all

    before = synthetic({"WIRE-002": failed("WIRE-002")})
    paths = write_all(before, tmp_path)
    assert load_baseline(paths["json"]) == Prior.of(before)


def test_waiver_shows_waived_and_does_not_fail(synthetic: Build) -> None:
    report = synthetic({"WIRE-005": failed("WIRE-005")})
    out = apply(
        report, [Waiver("WIRE-005", "upstream bug #12", ran_on(report))]
    )  # valid through its expiry day
    clause = out.clause("WIRE-005")
    assert (clause.result, clause.outcome) == ("waived", "failed")
    assert clause.waiver == ClauseWaiver("upstream bug #12", ran_on(report).isoformat())
    assert out.profile("wire").waived == 1 and out.profile("wire").failed == 0
    assert out.verdict.passed and out.verdict.waived == ("WIRE-005",)
    assert out.waivers == (
        WaiverRecord("WIRE-005", "upstream bug #12", ran_on(report).isoformat(), "applied"),
    )


def test_expired_waiver_fails_the_run_even_if_the_clause_passes(synthetic: Build) -> None:
    report = synthetic({"WIRE-005": failed("WIRE-005")})
    yesterday = ran_on(report) - timedelta(days=1)
    out = apply(report, [Waiver("WIRE-005", "r", yesterday), Waiver("WIRE-001", "r", yesterday)])
    assert out.clause("WIRE-005").result == "failed"
    assert out.verdict.expired_waivers == ("WIRE-001", "WIRE-005")
    assert not out.verdict.passed
    assert any("waiver for WIRE-001 expired" in r for r in out.verdict.reasons)
    unused = apply(synthetic({}), [Waiver("WIRE-001", "r", ran_on(report) + timedelta(days=30))])
    assert unused.waivers[0].status == "unused" and unused.verdict.passed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "waivers:\n  - clause: NOPE-001\n    reason: r\n    expires: 2030-01-01\n",
            "unknown clause 'NOPE-001'",
        ),
        ("waivers:\n  - clause: WIRE-001\n    reason: ''\n    expires: 2030-01-01\n", "needs a reason"),
        ("waivers:\n  - clause: WIRE-001\n    reason: r\n    expires: soon\n", "YYYY-MM-DD"),
        ("waivers:\n  - clause: WIRE-001\n    reason: r\n", "missing expires"),
        (
            "waivers:\n  - clause: WIRE-001\n    reason: r\n    expires: 2030-01-01\n    by: me\n",
            "unknown field",
        ),
        (
            "waivers:\n" + "  - clause: WIRE-001\n    reason: r\n    expires: 2030-01-01\n" * 2,
            "waived twice",
        ),
        ("version: 2\nwaivers: []\n", "unsupported version"),
        ("waivers: {}\n", "list under 'waivers'"),
        ("waivers: [\n", "not valid YAML"),
    ],
)
def test_bad_waiver_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(WaiverError, match=message) as info:
        load_waivers(path, {"WIRE-001"})
    assert "\n" not in str(info.value)


def test_waiver_file_parses_dates_quoted_or_not() -> None:
    doc = {"waivers": [{"clause": "WIRE-001", "reason": " r ", "expires": "2030-01-02"}]}
    assert parse_waivers(doc, "w") == [Waiver("WIRE-001", "r", date(2030, 1, 2))]
    assert parse_waivers(None, "w") == []
