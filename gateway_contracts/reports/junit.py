"""JUnit XML: one ``<testsuite>`` per profile, one ``<testcase>`` per clause, so CI systems list clauses.

The file validates against the Jenkins xunit-plugin ``junit-10.xsd`` (the schema pytest checks its own
``--junitxml`` output with). Mapping:

- failed or untested → ``<failure>`` (``type`` is the clause level, so a SHOULD failure is visible but
  distinguishable; whether it fails the run is the verdict's business, carried in the suite properties);
- skipped → ``<skipped>`` with the reason; waived → ``<skipped>`` saying whose waiver until when;
- the statement, the tests that checked the clause and the evidence go into ``<system-out>``.

The testcase name starts with the clause ID so CI history follows a clause even if its title is reworded.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gateway_contracts.reports.model import ClauseResult, Failure, Report

MAX_BODY = 2000
# Characters XML 1.0 cannot carry at all, not even escaped; a gateway's bytes can contain any of them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _sanitize(root: ET.Element) -> None:
    for element in root.iter():
        if element.text:
            element.text = _NOT_XML.sub("\ufffd", element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = _NOT_XML.sub("\ufffd", value)


def _time(seconds: float) -> str:
    # junit-10.xsd's SUREFIRE_TIME allows at most three decimals and no exponent.
    return f"{max(seconds, 0.0):.3f}"


def _finding_text(finding: Failure) -> str:
    ev = finding.evidence
    lines = [f"test: {finding.test} ({finding.when})", f"message: {finding.message}"]
    for x in ev.exchanges:
        lines.append(f"{x.summary}")
        if x.request_body:
            lines.append(f"  request body: {x.request_body[:MAX_BODY]}")
        label = "stream transcript" if x.stream else "response body"
        lines.append(f"  {label}: {x.response_body[:MAX_BODY]}")
    for row_set in ev.rows:
        lines.append(f"rows {row_set.table} ({row_set.request_id}): {len(row_set.rows)}")
    for ln in ev.log_lines[:5]:
        lines.append(f"log line {ln.number}: {ln.line[:MAX_BODY]}")
    lines += [f"reproduce ({c.kind}): {c.command}" for c in finding.reproduce]
    return "\n".join(lines)


def _testcase(parent: ET.Element, clause: ClauseResult) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        name=f"{clause.id}: {clause.title}",
        classname=f"gateway-contracts.{clause.profile}",
        time=_time(clause.duration),
    )
    if clause.result == "waived" and clause.waiver is not None:
        ET.SubElement(
            case,
            "skipped",
            type="waived",
            message=f"waived until {clause.waiver.expires}: {clause.waiver.reason} (outcome: {clause.outcome})",
        )
    elif clause.result in ("failed", "untested"):
        failure = ET.SubElement(case, "failure", type=clause.level, message=clause.headline[:500])
        failure.text = "\n\n".join(_finding_text(f) for f in clause.failures) or "\n".join(clause.reasons)
    elif clause.result == "skipped":
        ET.SubElement(case, "skipped", message="; ".join(clause.reasons)[:500])
    out = [f"[{clause.level}] {clause.statement}", f"source: {clause.source}"]
    out += [f"test {t.outcome}: {t.nodeid} ({t.when}, {t.duration:.3f}s)" for t in clause.tests]
    if clause.change:
        out.append(f"against the baseline: {clause.change}")
    ET.SubElement(case, "system-out").text = "\n".join(out)


def _fuzz_suite(root: ET.Element, report: Report) -> None:
    """The fuzz findings, one testcase each (a failure when new, skipped when the fuzz baseline accepts it)."""
    assert report.fuzz is not None
    findings = report.fuzz.findings
    suite = ET.SubElement(
        root,
        "testsuite",
        name="fuzz",
        tests=str(len(findings)),
        failures=str(sum(f.new for f in findings)),
        errors="0",
        skipped=str(sum(not f.new for f in findings)),
        time=_time(report.fuzz.seconds),
        timestamp=report.started_at,
        package="gateway-contracts",
    )
    for f in findings:
        case = ET.SubElement(
            suite, "testcase", name=f"{f.clause or 'no clause'} {f.check}: {f.title}", classname=f.operation
        )
        if f.new:
            failure = ET.SubElement(case, "failure", message=f.title[:500], type=f.check)
            failure.text = "\n".join(x for x in (f.message[:2000], f.curl or "") if x)
        else:
            ET.SubElement(case, "skipped", message="accepted by the fuzz baseline")
    root.set("tests", str(int(root.get("tests", "0")) + len(findings)))
    root.set("failures", str(int(root.get("failures", "0")) + sum(f.new for f in findings)))


def render(report: Report) -> str:
    root = ET.Element(
        "testsuites",
        name="gateway-contracts",
        time=_time(report.duration_seconds),
        tests=str(len(report.clauses)),
        failures=str(sum(c.result in ("failed", "untested") for c in report.clauses)),
        errors="0",
    )
    for profile in report.profiles:
        clauses = report.by_profile(profile.id)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=profile.id,
            tests=str(len(clauses)),
            failures=str(sum(c.result in ("failed", "untested") for c in clauses)),
            errors="0",
            skipped=str(sum(c.result in ("skipped", "waived") for c in clauses)),
            time=_time(sum(c.duration for c in clauses)),
            timestamp=report.started_at,
            package="gateway-contracts",
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("profile.title", profile.title),
            ("target.url", report.target.url or ""),
            ("target.name", report.target.description),
            ("contracts.digest", report.contracts_digest),
            ("harness.version", report.harness_version),
            ("seed", "" if report.seed is None else str(report.seed)),
            ("verdict", "pass" if report.verdict.passed else "fail"),
        ):
            ET.SubElement(props, "property", name=name, value=value)
        for clause in clauses:
            _testcase(suite, clause)
    if report.fuzz is not None:
        _fuzz_suite(root, report)
    _sanitize(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
