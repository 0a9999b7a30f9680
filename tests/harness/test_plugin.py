"""The pytest plugin: clause markers are checked at collection, and results are kept per clause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


def test_unknown_clause_id_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clause("NOPE-999")
        def test_something():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown clause id 'NOPE-999'*"])


def test_results_recorded_per_clause(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clause("WIRE-001")
        def test_passes():
            pass

        @pytest.mark.clause("WIRE-005")
        def test_fails():
            assert 1 == 2, "deliberate"
        """
    )
    report = tmp_path / "r.json"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--gateway-url", "http://127.0.0.1:9", "--gateway-report", str(report)
    )
    result.assert_outcomes(passed=1, failed=1)
    clauses = {c["id"]: c for c in json.loads(report.read_text())["clauses"]}
    assert clauses["WIRE-001"]["result"] == "passed"
    assert clauses["WIRE-005"]["result"] == "failed" and "deliberate" in clauses["WIRE-005"]["reasons"][0]
    # Not a whole-suite run: other clauses are not blamed as untested.
    assert clauses["WIRE-002"]["result"] == "skipped"


def test_missing_requirement_skips_not_fails(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clause("CAP-001")
        def test_needs_db():
            raise AssertionError("must not run without a database")
        """
    )
    report = tmp_path / "r.json"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--gateway-url", "http://127.0.0.1:9", "--gateway-report", str(report)
    )
    result.assert_outcomes(skipped=1)
    cap = {c["id"]: c for c in json.loads(report.read_text())["clauses"]}["CAP-001"]
    assert cap["result"] == "skipped" and "--db-url" in cap["reasons"][0]
