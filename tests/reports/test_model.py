"""The typed report as the pytest plugin builds it: each failure under its one clause, blocked and not-judged
clauses told apart from plain skips, and the same values read back from report.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway_contracts.reports.codec import to_document
from gateway_contracts.reports.loader import load_report
from tests.support.servers import ServerThread

pytest_plugins = ["pytester"]


def test_failures_blocked_and_not_judged_clauses(
    pytester: pytest.Pytester, tmp_path: Path, live_gateway: ServerThread
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from gateway_contracts.failures import Blocked, ClauseFailure

        @pytest.mark.clause("WIRE-005", "WIRE-006")
        def test_stops_at_a_precondition():
            raise Blocked("WIRE-002", "no stream at all")

        @pytest.mark.clause("WIRE-007", "WIRE-003")
        def test_fails_its_second_clause():
            raise ClauseFailure("WIRE-003", "the wrong stop reason", "max_tokens became end_turn")

        @pytest.mark.clause("WIRE-010")
        def test_passes():
            pass
        """
    )
    report_path = tmp_path / "r.json"
    pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        *(
            "--gateway-url",
            live_gateway.url,
            "--gateway-model",
            "ainfera-inference",
            "--gateway-api-key",
            "k",
        ),
        *("--gateway-report", str(report_path)),
    )
    report = load_report(report_path)  # validated against the schema on the way in
    looked_at = {"WIRE-002", "WIRE-003", "WIRE-005", "WIRE-006", "WIRE-007", "WIRE-010"}
    status = {c.id: c.status for c in report.clauses if c.id in looked_at}
    assert status == {
        "WIRE-002": "failed",  # the precondition, reported once under its own clause
        "WIRE-005": "blocked",
        "WIRE-006": "blocked",
        "WIRE-003": "failed",
        "WIRE-007": "not-judged",
        "WIRE-010": "passed",
    }
    assert report.clause("WIRE-005").blocked_by == ("WIRE-002",)
    assert report.clause("WIRE-005").outcome == "skipped", "blocked is not failed: it fails no run"
    (precondition,) = report.clause("WIRE-002").failures
    (second,) = report.clause("WIRE-003").failures
    assert (precondition.clause, second.clause) == ("WIRE-002", "WIRE-003")
    assert second.title.endswith("WIRE-003: the wrong stop reason: max_tokens became end_turn")
    assert second.test.endswith("::test_fails_its_second_clause") and second.reproduce[-1].kind == "check"
    assert not report.clause("WIRE-007").failures, "the failure is listed under its one clause only"
    assert report.verdict.failed_must == ("WIRE-002", "WIRE-003")
    # What the plugin wrote is the model serialised.
    assert to_document(report) == json.loads(report_path.read_text(encoding="utf-8"))
