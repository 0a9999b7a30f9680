"""One finding per distinct failure: a fault on an operation never hides another fault on it.

Two ways one finding used to hide others: the fuzzer stopped an operation at its first failing case, so a fault on
every answer (a bad header) kept it from reaching the error bodies; and schemathesis' built-in checks give one
title to every failure of a kind, so keyed by title two different schema violations of one operation were one
finding. The live test breaks one operation of the reference gateway three ways at once (``faulty_proxy``).
"""

from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path
from typing import Any

from gateway_contracts.fuzz import findings
from gateway_contracts.fuzz.distinct import distinction
from gateway_contracts.fuzz.events import CheckFailure, Interaction, Request, RunEvents
from gateway_contracts.reports.schema import validate_report
from gateway_contracts.target.flags import to_flags
from tests.fuzz.faulty_proxy import FAULTY, faulty_proxy
from tests.fuzz.support import SMALL, run_fuzz
from tests.support.embedded import embedded_target

OPERATION = f"POST {FAULTY}"


def schema_message(first: str, status: int | None, at: str | None, schema: str, value: str) -> str:
    """A JSON Schema failure's message, as schemathesis writes it (``JsonSchemaError``)."""
    context = f"\n\nValidated against the response schema for status code {status}." if status else ""
    heading = f"Schema at {at}:" if at else "Schema:"
    return f"{first}{context}\n\n{heading}\n\n    {schema}\n\nValue:\n\n    {value}"


MISSING_USAGE = schema_message(
    '"usage" is a required property', 200, "/components/schemas/Message", '{\n"required": ["usage"]\n}', "{}"
)
FLAT_ERROR = schema_message('"type" is a required property', 400, None, '{\n"required": ["type"]\n}', "{}")


def test_schema_violations_differ_by_where_they_broke_not_by_the_value() -> None:
    usage_key, usage = distinction("JsonSchemaError", MISSING_USAGE, 200)
    flat_key, flat = distinction("JsonSchemaError", FLAT_ERROR, 400)
    assert usage_key != flat_key
    assert usage == '200 answer, /components/schemas/Message: "usage" required'
    assert flat == '400 answer: "type" required'
    # The same violation with another generated value is the same finding.
    enum = '{\n"enum": ["native", "none"]\n}'
    one = distinction(
        "JsonSchemaError", schema_message('"a" is not one of "native"', None, None, enum, '"a"'), 200
    )
    two = distinction(
        "JsonSchemaError", schema_message('"b" is not one of "native"', None, None, enum, '"b"'), 200
    )
    assert one == two and one[1] == "enum"


def test_other_kinds_use_schemathesis_keys_and_titled_failures_need_none() -> None:
    missing = "The following required headers are missing from the response:\n- `request-id`\n- `x-b`"
    assert distinction("MissingHeaders", missing, 200) == ("request-id, x-b", "missing request-id, x-b")
    assert distinction("ServerError", "Received a response with 5xx status code: 502", 502)[1] == "status 502"
    assert distinction("UndefinedContentType", "Received: text/html\nDocumented: application/json", 200) == (
        "text/html",
        "received text/html",
    )
    # The contract's own checks say what broke in the title: no key, so their fingerprints stay as they were.
    assert distinction("ContractFailure", "400 body is not an envelope: {...}", 400) == ("", "")
    assert distinction("IgnoredAuth", "anything", 200) == ("", "")


def _failure(kind: str, check: str, title: str, message: str, status: int) -> CheckFailure:
    request = Request("POST", f"http://h{FAULTY}", {}, b"{}")
    interaction = Interaction("fuzzing", OPERATION, "c", request, status, "application/json", b"{}")
    return CheckFailure("fuzzing", OPERATION, "c", check, "ST108", title, message, interaction, kind)


def test_two_failures_of_one_title_are_two_findings_and_repeats_are_one() -> None:
    events = RunEvents()
    schema = "response_schema_conformance"
    envelope_title = "anthropic_error_envelope: 400 not enveloped"
    events.failures += [
        _failure("JsonSchemaError", schema, "Response violates schema", FLAT_ERROR, 400),
        _failure("JsonSchemaError", schema, "Response violates schema", MISSING_USAGE, 200),
        _failure("JsonSchemaError", schema, "Response violates schema", MISSING_USAGE, 200),
        _failure("ContractFailure", "anthropic_error_envelope", envelope_title, "400 body is not …", 400),
        _failure("ContractFailure", "anthropic_error_envelope", envelope_title, "another body …", 400),
    ]
    found = findings.collect(events)
    assert [(f.check, f.headline) for f in found] == [
        ("anthropic_error_envelope", envelope_title),
        (schema, 'Response violates schema (200 answer, /components/schemas/Message: "usage" required)'),
        (schema, 'Response violates schema (400 answer: "type" required)'),
    ]
    assert len({f.fingerprint for f in found}) == 3 and all(f.curl for f in found)
    # A finding whose title says it all keeps the fingerprint of its (operation, check, title): old baselines hold.
    assert found[0].fingerprint == findings.fingerprint(OPERATION, "anthropic_error_envelope", envelope_title)


def _report(report_dir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    return doc


def test_every_fault_on_one_operation_is_its_own_finding(tmp_path: Path) -> None:
    baseline = tmp_path / "fuzz-baseline.json"
    common = ["--max-examples", SMALL, "--phases", "examples,fuzzing"]
    with embedded_target(tmp_path / "target") as target, faulty_proxy(target.base_url) as url:
        args = [*to_flags(dataclasses.replace(target, base_url=url)), *common]
        first = run_fuzz(
            *args, "--report-dir", str(tmp_path / "a"), "--baseline", str(baseline), "--update-baseline"
        )
        # The same run again, against the first one's findings as the baseline: every finding keeps its
        # fingerprint from run to run, so none is new.
        again = run_fuzz(*args, "--report-dir", str(tmp_path / "b"), "--baseline", str(baseline))
    assert first == 0, "--update-baseline accepts what it found"
    doc = _report(tmp_path / "a")
    validate_report(doc)
    on_it = [f for f in doc["fuzz"]["findings"] if f["operation"] == OPERATION]
    by_clause = sorted((f["clause"], f["check"], f["title"]) for f in on_it)
    expected = [
        (
            "WIRE-001",
            "response_schema_conformance",
            "200 answer, /components/schemas/Message",
        ),  # fault "usage"
        ("WIRE-001", "response_schema_conformance", "400 answer"),  # fault "envelope", as the schema sees it
        ("WIRE-004", "anthropic_error_envelope", "400 not enveloped"),  # fault "envelope"
        ("WIRE-013", "response_headers_conformance", "does not conform"),  # fault "header"
    ]
    for clause, check, words in expected:
        hits = [f for f in on_it if (f["clause"], f["check"]) == (clause, check) and words in f["title"]]
        assert len(hits) == 1, (clause, check, words, by_clause)
        assert hits[0]["new"] and hits[0]["curl"].startswith("curl ") and FAULTY in hits[0]["curl"]
    # The findings are in every rendering of the report, each with its clause.
    page = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="fuzz">') :]
    markdown = (tmp_path / "a" / "report.md").read_text(encoding="utf-8")
    junit = (tmp_path / "a" / "junit.xml").read_text(encoding="utf-8")
    for f in on_it:
        assert f"{html.escape(f['clause'])}</span> <code>{f['check']}</code>" in section
        assert html.escape(f["title"]) in section
        assert f"`{f['clause']}` `{f['check']}` {OPERATION}: {f['title']}" in markdown
        assert html.escape(f"{f['clause']} {f['check']}: {f['title']}") in junit
    assert again == 0, [f["title"] for f in _report(tmp_path / "b")["fuzz"]["findings"] if f["new"]]
    assert {f["title"] for f in _report(tmp_path / "b")["fuzz"]["findings"]} >= {f["title"] for f in on_it}
