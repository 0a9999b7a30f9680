"""The pytest plugin: clause markers are checked at collection, and results are kept per clause."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway_contracts.errors import EXIT_UNREACHABLE
from tests.support.gateway import start_gateway
from tests.support.servers import ServerThread

pytest_plugins = ["pytester"]
MODEL = "ainfera-inference"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = start_gateway(tmp_path_factory.mktemp("gw"))
    yield server
    server.stop()


def _target(gateway: ServerThread, report: Path) -> list[str]:
    return [
        "--gateway-url",
        gateway.url,
        "--gateway-model",
        MODEL,
        "--gateway-api-key",
        "k",
        "--gateway-report",
        str(report),
    ]


def test_unknown_clause_id_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clause("NOPE-999")
        def test_something():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown clause id 'NOPE-999'*"])


def test_results_recorded_per_clause(
    pytester: pytest.Pytester, tmp_path: Path, gateway: ServerThread
) -> None:
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
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *_target(gateway, report))
    result.assert_outcomes(passed=1, failed=1)
    clauses = {c["id"]: c for c in json.loads(report.read_text())["clauses"]}
    assert clauses["WIRE-001"]["result"] == "passed"
    assert clauses["WIRE-005"]["result"] == "failed" and "deliberate" in clauses["WIRE-005"]["reasons"][0]
    # Not a whole-suite run: other clauses are not blamed as untested.
    assert clauses["WIRE-002"]["result"] == "skipped"


def test_missing_requirement_skips_not_fails(
    pytester: pytest.Pytester, tmp_path: Path, gateway: ServerThread
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clause("CAP-001")
        @pytest.mark.needs("db")
        def test_needs_db():
            raise AssertionError("must not run without a database")
        """
    )
    report = tmp_path / "r.json"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *_target(gateway, report))
    result.assert_outcomes(skipped=1)
    cap = {c["id"]: c for c in json.loads(report.read_text())["clauses"]}["CAP-001"]
    assert cap["result"] == "skipped" and "--db-url" in cap["reasons"][0]


def test_unknown_need_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clause("WIRE-001")
        @pytest.mark.needs("a-database")
        def test_something():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown need(s) a-database*"])


def test_unreachable_gateway_is_one_line_not_a_run_of_failures(pytester: pytest.Pytester) -> None:
    """As `check` does: the plugin stops the session with one line and the unreachable status."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clause("WIRE-001")
        def test_one():
            raise AssertionError("must not run against an unreachable gateway")

        @pytest.mark.clause("WIRE-002")
        def test_two():
            raise AssertionError("must not run against an unreachable gateway")
        """
    )
    # In a subprocess: an in-process run re-imports modules, and httpx's exception classes with them.
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--gateway-url", "http://127.0.0.1:1", "--gateway-model", "m"
    )
    assert result.ret == EXIT_UNREACHABLE
    said = result.stdout.str() + result.stderr.str()
    assert "cannot reach the gateway at http://127.0.0.1:1" in said, said[-2000:]
    result.assert_outcomes()
