"""The versioned JSON report and its JSON Schema (contracts/report.schema.json)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gateway_contracts.reports.codec import parse, to_document
from gateway_contracts.reports.loader import load_document, load_report
from gateway_contracts.reports.schema import SCHEMA_PATH, SCHEMA_VERSION, ReportError, problems
from tests.reports.support import EXAMPLES, MUTANT_CLAUSE, Build, exchange, failed, load
from tests.support.servers import ServerThread

pytest_plugins = ["pytester"]


def test_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_synthetic_report_validates(synthetic: Build) -> None:
    doc = to_document(synthetic({"WIRE-005": failed("WIRE-005", exchanges=[exchange()])}))
    assert problems(doc) == []
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["run"]["seed"] == 7 and doc["run"]["whole_suite"] is True
    assert doc["target"]["url"] == "http://127.0.0.1:9" and doc["target"]["name"] is None  # it said nothing


@pytest.mark.parametrize("which", ["passing", "failing"])
def test_examples_validate(which: str) -> None:
    doc = load_document(EXAMPLES / which / "report.json")  # raises on any schema problem
    assert doc["verdict"]["passed"] is (which == "passing")


@pytest.mark.parametrize("which", ["passing", "failing"])
def test_report_json_is_the_typed_report_serialised(which: str, failing_run: Path) -> None:
    """Reading a report gives the typed model, and serialising that gives the very same document: the JSON
    holds nothing the model does not, and the model nothing the JSON does not."""
    for path in (EXAMPLES / which / "report.json", failing_run / "report.json"):
        doc = load_document(path)
        report = load_report(path)
        assert to_document(report) == doc
        assert parse(to_document(report)) == report


def test_each_failure_names_its_clause_title_evidence_and_reproduction(failing_run: Path) -> None:
    report = load_report(failing_run / "report.json")
    clause = report.clause(MUTANT_CLAUSE)
    (failure,) = clause.failures
    assert failure.clause == MUTANT_CLAUSE and clause.status == "failed"
    assert failure.title and "\n" not in failure.title
    assert failure.evidence.exchanges[-1].path == "/llms.txt" and failure.evidence.log_lines
    assert {c.kind for c in failure.reproduce} == {"curl", "check"}


def test_check_report_carries_what_the_issue_asks(failing_run: Path) -> None:
    doc = load_document(failing_run / "report.json")
    assert doc["harness"]["name"] == "gateway-contracts" and doc["harness"]["version"]
    assert doc["contracts_digest"].startswith("sha256:")
    target = doc["target"]
    assert (target["name"], target["version"]) == ("Ainfera Inference gateway", "0.1.0")
    assert target["identified_by"] == "GET /.well-known/agent-card.json"
    assert doc["run"]["seed"] == 0 and doc["run"]["started_at"] <= doc["run"]["finished_at"]
    ainfera = doc["profiles"]["ainfera"]
    assert ainfera["selected"] and ainfera["failed"] == 1 and ainfera["passed"] >= 1
    wire = doc["profiles"]["wire"]
    assert wire["skip_reasons"] == [
        {
            "reason": "profile wire not selected",
            "clauses": [c["id"] for c in doc["clauses"] if c["profile"] == "wire"],
        }
    ]
    clause = next(c for c in doc["clauses"] if c["id"] == MUTANT_CLAUSE)
    assert clause["level"] == "MUST" and clause["result"] == "failed"
    assert clause["tests"] and all(t["nodeid"] for t in clause["tests"])
    (finding,) = clause["findings"]
    assert finding["exchanges"][-1]["request"]["path"] == "/llms.txt"
    assert "ainfera-mithril" in finding["exchanges"][-1]["response"]["body"]
    assert finding["log_lines"], "the gateway's log lines of the failing call"
    assert {c["kind"] for c in finding["reproduce"]} == {"curl", "check"}


def test_plugin_alone_writes_a_valid_report(
    pytester: pytest.Pytester, tmp_path: Path, live_gateway: ServerThread
) -> None:
    """The pytest plugin (without ``check``) already writes a schema-valid report."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.clause("WIRE-005")
        def test_fails(evidence):
            evidence["note"] = {"api_key": "abc123secret"}
            assert 1 == 2
        """
    )
    pytester.makeconftest("from gateway_contracts.conformance.conftest import evidence  # noqa: F401")
    report = tmp_path / "r.json"
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
        *("--gateway-report", str(report)),
    )
    doc = load(report)
    assert problems(doc) == []
    (finding,) = next(c for c in doc["clauses"] if c["id"] == "WIRE-005")["findings"]
    assert finding["other"] == {"note": {"api_key": "[REDACTED:credential]"}}


def _broken(doc: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    change(out)
    return out


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("contracts_digest"),
        lambda d: d["clauses"][0].update(result="flaky"),
        lambda d: d["clauses"][0].update(result="waived"),  # waived needs a waiver and a failing outcome
        lambda d: d["clauses"][0].update(outcome="failed", result="failed"),  # a failure needs its finding
        lambda d: d["run"].update(started_at="yesterday"),
        lambda d: d.update(schema_version=1),
        lambda d: d["verdict"].update(policy="lenient"),
    ],
    ids=[
        "no-digest",
        "bad-result",
        "waived-without-waiver",
        "failed-without-finding",
        "bad-time",
        "v1",
        "policy",
    ],
)
def test_schema_refuses_broken_reports(synthetic: Build, change: Any) -> None:
    assert problems(_broken(to_document(synthetic({})), change))


def test_loader_says_what_is_wrong_in_one_line(tmp_path: Path, synthetic: Build) -> None:
    cases = {
        "missing.json": None,
        "not-json.json": "{nope",
        "not-a-report.json": "[1, 2]",
        "old.json": json.dumps({"schema_version": 1, "clauses": []}),
        "invalid.json": json.dumps(
            _broken(to_document(synthetic({})), lambda d: d["clauses"][0].update(result="flaky"))
        ),
    }
    for name, text in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        with pytest.raises(ReportError) as info:
            load_document(tmp_path / name)
        assert "\n" not in str(info.value) and name in str(info.value)
