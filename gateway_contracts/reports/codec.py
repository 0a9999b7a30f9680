"""``report.json`` ⇄ the typed report (``reports.model``).

:func:`to_document` is the one place the JSON's shape is written (``contracts/report.schema.json``, the keys in
the order the schema lists them); :func:`parse` reads it back and trusts its input to have passed
:func:`~gateway_contracts.reports.schema.validate_report`. The two are inverses on every valid report, so
``gateway-contracts report`` renders a stored report exactly as ``check`` did.
"""

from __future__ import annotations

from typing import Any

from gateway_contracts.reports.model import (
    BaselineDiff,
    ClauseResult,
    ClauseWaiver,
    Command,
    Evidence,
    Exchange,
    Failure,
    FuzzFinding,
    FuzzSection,
    LogLine,
    ProfileSummary,
    Report,
    RowSet,
    SkipReason,
    TargetInfo,
    TestRun,
    Verdict,
    WaiverRecord,
)

HARNESS_NAME = "gateway-contracts"


# -- writing ---------------------------------------------------------------------------------------------------
def _exchange(x: Exchange) -> dict[str, Any]:
    return {
        "request": {"method": x.method, "path": x.path, "headers": x.request_headers, "body": x.request_body},
        "response": {
            "status": x.status,
            "headers": x.response_headers,
            "body": x.response_body,
            "stream": x.stream,
        },
    }


def _failure(f: Failure) -> dict[str, Any]:
    # The clause is the one the failure is listed under: the JSON does not repeat it.
    return {
        "test": f.test,
        "when": f.when,
        "message": f.message,
        "exchanges": [_exchange(x) for x in f.evidence.exchanges],
        "rows": [
            {"table": r.table, "request_id": r.request_id, "rows": list(r.rows)} for r in f.evidence.rows
        ],
        "log_lines": [{"number": ln.number, "line": ln.line} for ln in f.evidence.log_lines],
        "other": f.evidence.other,
        "reproduce": [{"kind": c.kind, "command": c.command} for c in f.reproduce],
    }


def _clause(c: ClauseResult) -> dict[str, Any]:
    return {
        "id": c.id,
        "level": c.level,
        "profile": c.profile,
        "title": c.title,
        "statement": c.statement,
        "source": c.source,
        "result": c.result,
        "outcome": c.outcome,
        "reasons": list(c.reasons),
        "tests": [
            {
                "nodeid": t.nodeid,
                "outcome": t.outcome,
                "when": t.when,
                "duration": t.duration,
                "message": t.message,
            }
            for t in c.tests
        ],
        "findings": [_failure(f) for f in c.failures],
        "waiver": {"reason": c.waiver.reason, "expires": c.waiver.expires} if c.waiver else None,
        "change": c.change,
    }


def _profile(p: ProfileSummary) -> dict[str, Any]:
    return {
        "title": p.title,
        "kind": p.kind,
        "selected": p.selected,
        "requires": list(p.requires),
        "passed": p.passed,
        "failed": p.failed,
        "skipped": p.skipped,
        "untested": p.untested,
        "waived": p.waived,
        "skip_reasons": [{"reason": s.reason, "clauses": list(s.clauses)} for s in p.skip_reasons],
        "partial": p.partial,
    }


def _baseline(b: BaselineDiff) -> dict[str, Any]:
    return {
        "source": b.source,
        "started_at": b.started_at,
        "contracts_digest": b.contracts_digest,
        "target_url": b.target_url,
        "new_failures": list(b.new_failures),
        "still_failing": list(b.still_failing),
        "fixed": list(b.fixed),
        "no_longer_checked": list(b.no_longer_checked),
    }


def _verdict(v: Verdict) -> dict[str, Any]:
    return {
        "passed": v.passed,
        "policy": v.policy,
        "failed_must": list(v.failed_must),
        "untested_must": list(v.untested_must),
        "blocking": list(v.blocking),
        "waived": list(v.waived),
        "expired_waivers": list(v.expired_waivers),
        "reasons": list(v.reasons),
    }


def _target(t: TargetInfo) -> dict[str, Any]:
    return {
        "url": t.url,
        "label": t.label,
        "name": t.name,
        "version": t.version,
        "identified_by": t.identified_by,
        "embedded": t.embedded,
        "given": t.given,
        "features": list(t.features),
    }


def _fuzz(f: FuzzSection) -> dict[str, Any]:
    return {
        "seed": f.seed,
        "requests": f.requests,
        "seconds": f.seconds,
        "findings": [
            {
                "clause": x.clause,
                "check": x.check,
                "operation": x.operation,
                "title": x.title,
                "message": x.message,
                "status": x.status,
                "curl": x.curl,
                "new": x.new,
            }
            for x in f.findings
        ],
    }


def to_document(r: Report) -> dict[str, Any]:
    """The report as ``report.json`` holds it."""
    doc: dict[str, Any] = {
        "schema_version": r.schema_version,
        "harness": {"name": HARNESS_NAME, "version": r.harness_version},
        "contracts_digest": r.contracts_digest,
        "target": _target(r.target),
        "run": {
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "duration_seconds": r.duration_seconds,
            "seed": r.seed,
            "profiles_selected": list(r.profiles_selected),
            "whole_suite": r.whole_suite,
        },
        "profiles": {p.id: _profile(p) for p in r.profiles},
        "clauses": [_clause(c) for c in r.clauses],
        "waivers": [
            {"clause": w.clause, "reason": w.reason, "expires": w.expires, "status": w.status}
            for w in r.waivers
        ],
        "baseline": _baseline(r.baseline) if r.baseline else None,
        "verdict": _verdict(r.verdict),
    }
    if r.fuzz is not None:  # a run that was not fuzzed says nothing of fuzzing (the key is optional)
        doc["fuzz"] = _fuzz(r.fuzz)
    return doc


# -- reading ---------------------------------------------------------------------------------------------------
def _parse_exchange(raw: dict[str, Any]) -> Exchange:
    req, resp = raw["request"], raw["response"]
    return Exchange(
        method=req["method"],
        path=req["path"],
        request_headers=req["headers"],
        request_body=req["body"],
        status=resp["status"],
        response_headers=resp["headers"],
        response_body=resp["body"],
        stream=resp["stream"],
    )


def _parse_failure(clause: str, raw: dict[str, Any]) -> Failure:
    return Failure(
        clause=clause,
        test=raw["test"],
        when=raw["when"],
        message=raw["message"],
        evidence=Evidence(
            exchanges=tuple(_parse_exchange(x) for x in raw["exchanges"]),
            rows=tuple(RowSet(r["table"], r["request_id"], tuple(r["rows"])) for r in raw["rows"]),
            log_lines=tuple(LogLine(ln["number"], ln["line"]) for ln in raw["log_lines"]),
            other=raw["other"],
        ),
        reproduce=tuple(Command(c["kind"], c["command"]) for c in raw["reproduce"]),
    )


def _parse_clause(raw: dict[str, Any]) -> ClauseResult:
    waiver = raw["waiver"]
    return ClauseResult(
        id=raw["id"],
        level=raw["level"],
        profile=raw["profile"],
        title=raw["title"],
        statement=raw["statement"],
        source=raw["source"],
        outcome=raw["outcome"],
        reasons=tuple(raw["reasons"]),
        tests=tuple(
            TestRun(t["nodeid"], t["outcome"], t["when"], t["duration"], t["message"]) for t in raw["tests"]
        ),
        failures=tuple(_parse_failure(raw["id"], f) for f in raw["findings"]),
        result=raw["result"],
        waiver=ClauseWaiver(waiver["reason"], waiver["expires"]) if waiver else None,
        change=raw["change"],
    )


def _parse_profile(pid: str, raw: dict[str, Any]) -> ProfileSummary:
    return ProfileSummary(
        id=pid,
        title=raw["title"],
        kind=raw.get("kind", "generic"),
        selected=raw["selected"],
        requires=tuple(raw["requires"]),
        passed=raw["passed"],
        failed=raw["failed"],
        skipped=raw["skipped"],
        untested=raw["untested"],
        waived=raw["waived"],
        skip_reasons=tuple(SkipReason(s["reason"], tuple(s["clauses"])) for s in raw["skip_reasons"]),
        partial=raw.get("partial", False),
    )


def _parse_baseline(raw: dict[str, Any]) -> BaselineDiff:
    return BaselineDiff(
        source=raw["source"],
        started_at=raw["started_at"],
        contracts_digest=raw["contracts_digest"],
        target_url=raw["target_url"],
        new_failures=tuple(raw["new_failures"]),
        still_failing=tuple(raw["still_failing"]),
        fixed=tuple(raw["fixed"]),
        no_longer_checked=tuple(raw["no_longer_checked"]),
    )


def _parse_verdict(raw: dict[str, Any]) -> Verdict:
    return Verdict(
        passed=raw["passed"],
        policy=raw["policy"],
        failed_must=tuple(raw["failed_must"]),
        untested_must=tuple(raw["untested_must"]),
        blocking=tuple(raw["blocking"]),
        waived=tuple(raw["waived"]),
        expired_waivers=tuple(raw["expired_waivers"]),
        reasons=tuple(raw["reasons"]),
    )


def _parse_fuzz(raw: dict[str, Any] | None) -> FuzzSection | None:
    if raw is None:
        return None
    return FuzzSection(
        seed=raw["seed"],
        requests=raw["requests"],
        seconds=raw["seconds"],
        findings=tuple(FuzzFinding(**f) for f in raw["findings"]),
    )


def parse(doc: dict[str, Any]) -> Report:
    """The typed report of a validated ``report.json`` document."""
    target, run = doc["target"], doc["run"]
    return Report(
        schema_version=doc["schema_version"],
        harness_version=doc["harness"]["version"],
        contracts_digest=doc["contracts_digest"],
        target=TargetInfo(**{**target, "features": tuple(target["features"])}),
        started_at=run["started_at"],
        finished_at=run["finished_at"],
        duration_seconds=run["duration_seconds"],
        seed=run["seed"],
        profiles_selected=tuple(run["profiles_selected"]),
        whole_suite=run["whole_suite"],
        profiles=tuple(_parse_profile(pid, p) for pid, p in doc["profiles"].items()),
        clauses=tuple(_parse_clause(c) for c in doc["clauses"]),
        waivers=tuple(
            WaiverRecord(w["clause"], w["reason"], w["expires"], w["status"]) for w in doc["waivers"]
        ),
        baseline=_parse_baseline(doc["baseline"]) if doc["baseline"] else None,
        verdict=_parse_verdict(doc["verdict"]),
        fuzz=_parse_fuzz(doc.get("fuzz")),
    )
