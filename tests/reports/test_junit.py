"""junit.xml validates against the JUnit XML schema, with one testsuite per profile and one testcase per clause."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway_contracts.reports import verdict
from gateway_contracts.reports.codec import to_document
from gateway_contracts.reports.junit import render
from gateway_contracts.reports.waivers import Waiver
from tests.reports.support import EXAMPLES, MUTANT_CLAUSE, XSD, Build, exchange, failed, load

XSD_SHA256 = "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    assert hashlib.sha256(XSD.read_bytes()).hexdigest() == XSD_SHA256, (
        "fixtures/junit/junit-10.xsd was edited"
    )
    return etree.XMLSchema(etree.parse(str(XSD)))


def validated(schema: etree.XMLSchema, xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    schema.assertValid(root)
    return root


def check_shape(root: etree._Element, doc: dict[str, Any]) -> None:
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == list(doc["profiles"])
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(doc["clauses"])
    names = [c.get("name").split(":")[0] for c in cases]
    assert sorted(names) == sorted(c["id"] for c in doc["clauses"]) and len(set(names)) == len(names)
    for suite in suites:
        clauses = [c for c in doc["clauses"] if c["profile"] == suite.get("name")]
        assert int(suite.get("tests")) == len(suite.findall("testcase")) == len(clauses)
        assert int(suite.get("failures")) == sum(c["result"] in ("failed", "untested") for c in clauses)
        assert int(suite.get("skipped")) == sum(c["result"] in ("skipped", "waived") for c in clauses)


@pytest.mark.parametrize("which", ["passing", "failing"])
def test_examples_validate_with_one_testcase_per_clause(schema: etree.XMLSchema, which: str) -> None:
    root = validated(schema, (EXAMPLES / which / "junit.xml").read_bytes())
    check_shape(root, load(EXAMPLES / which / "report.json"))


def test_check_writes_valid_junit(schema: etree.XMLSchema, failing_run: Path) -> None:
    doc = load(failing_run / "report.json")
    root = validated(schema, (failing_run / "junit.xml").read_bytes())
    check_shape(root, doc)
    (case,) = [c for c in root.iter("testcase") if c.get("name").startswith(MUTANT_CLAUSE + ":")]
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "MUST"
    assert "GET /llms.txt → 200" in failure.text and "curl " in failure.text
    skipped = [c for c in root.iter("testcase") if c.find("skipped") is not None]
    assert skipped and all(c.find("skipped").get("message") for c in skipped)


def test_waived_is_skipped_and_hostile_text_stays_valid(schema: etree.XMLSchema, synthetic: Build) -> None:
    hostile = 'bad \x00\x07 bytes ]]> <tag a="b"> & \ud800 \ufffe'
    report = synthetic(
        {
            "WIRE-005": failed("WIRE-005", hostile, exchanges=[exchange(response=hostile)]),
            "WIRE-001": failed("WIRE-001"),
        }
    )
    report = verdict.apply(report, [Waiver("WIRE-001", "known, tracked", verdict.run_date(report))])
    root = validated(schema, render(report).encode())
    check_shape(root, to_document(report))
    cases = {c.get("name").split(":")[0]: c for c in root.iter("testcase")}
    assert cases["WIRE-001"].find("skipped").get("type") == "waived"
    assert "bad" in cases["WIRE-005"].find("failure").get("message")
