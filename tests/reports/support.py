"""What the report tests share: synthetic reports through the real builder (no gateway), a made-up exchange
carrying a planted key, the shipped examples, and the names of the broken gateway's mutant and clause."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contracts.clauses import catalogue
from gateway_contracts.reports.model import Report
from gateway_contracts.results import ClauseResults, TestRecord
from gateway_contracts.target import Target
from gateway_contracts.target.flags import to_flags

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "reports" / "examples"
XSD = REPO / "fixtures" / "junit" / "junit-10.xsd"
MUTANT = "dead-string-llms"
MUTANT_CLAUSE = "DISC-002"
PLANTED_KEY = "sk-ant-api03-" + "Zq7" * 20
"""A credential-shaped value the synthetic tests plant in evidence: it must never reach a report file."""
UNREACHABLE = "http://127.0.0.1:9"


def check_args(
    target: Target, report_dir: Path, waivers: Path, profiles: tuple[str, ...] | None = None
) -> list[str]:
    """``check`` arguments that hand it everything the started target offers (its profiles, or ``profiles``)."""
    flags = to_flags(target, omit=("target.profiles",) if profiles is not None else ())
    chosen = [x for p in profiles or () for x in ("--profile", p)]
    return ["check", *flags, *chosen, "--report-dir", str(report_dir), "--waivers", str(waivers)]


def exchange(
    path: str = "/v1/messages",
    status: int = 500,
    body: str = '{"model": "ainfera-inference", "messages": [{"role": "user", "content": "hi"}]}',
    response: str = '{"type": "error", "error": {"type": "api_error", "message": "boom"}}',
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An exchange as ``conformance.client.Exchanges`` records it (unscrubbed)."""
    return {
        "request": {
            "method": "POST",
            "path": path,
            "headers": {"x-api-key": PLANTED_KEY, "content-type": "application/json", **(headers or {})},
            "body": body,
        },
        "response": {
            "status": status,
            "headers": {"content-type": content_type, "request-id": "req_1"},
            "body": response,
        },
        "reproduce": "curl (the client's own, unscrubbed: must be replaced)",
    }


Records = dict[str, list[TestRecord]]


def build_report(records: Records, profiles: set[str] | None = None, seed: int | None = 7) -> Report:
    """A report through the real builder, from made-up test records; clauses without records pass."""
    cat = catalogue()
    results = ClauseResults(cat)
    for cid in cat.clauses:
        nodeid = f"test_synthetic.py::test_{cid.lower().replace('-', '_')}"
        results.collected(cid, nodeid)
        for rec in records.get(cid) or [TestRecord(nodeid, "passed", "call", "", 0.01)]:
            results.record(cid, rec)
    target = Target(base_url=UNREACHABLE, name="synthetic", features=frozenset({"scripted-upstream"}))
    return results.finish(profiles or set(cat.profiles), target, whole_suite=True, seed=seed)


def failed(cid: str, message: str = "AssertionError: deliberate", **evidence: Any) -> list[TestRecord]:
    nodeid = f"test_synthetic.py::test_{cid.lower().replace('-', '_')}"
    return [TestRecord(nodeid, "failed", "call", message, 0.02, evidence)]


Build = Callable[..., Report]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


CheckRun = Callable[..., tuple[int, Path]]
