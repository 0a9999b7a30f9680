"""The verdict under baselines and waivers: CI fails on what a change broke, waivers are dated decisions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway_contracts.reports import verdict
from gateway_contracts.reports.baseline import load_baseline
from gateway_contracts.reports.schema import ReportError, problems
from gateway_contracts.reports.waivers import Waiver, WaiverError, load_waivers, parse_waivers
from tests.reports.support import failed

Build = Callable[..., dict[str, Any]]


def ran_on(doc: dict[str, Any]) -> date:
    return verdict.run_date(doc)


def apply(doc: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    out = verdict.apply(doc, *args, **kwargs)
    assert problems(out) == []
    return out


def test_without_baseline_any_must_failure_fails(synthetic: Build) -> None:
    doc = synthetic({"WIRE-005": failed("WIRE-005")})
    v = doc["verdict"]
    assert (v["passed"], v["policy"], v["blocking"], v["failed_must"]) == (
        False,
        "any",
        ["WIRE-005"],
        ["WIRE-005"],
    )


def test_should_failure_does_not_fail_the_run(synthetic: Build) -> None:
    should = next(c["id"] for c in synthetic({})["clauses"] if c["level"] == "SHOULD")
    doc = synthetic({should: failed(should)})
    assert doc["verdict"]["passed"] and doc["verdict"]["blocking"] == []
    assert next(c for c in doc["clauses"] if c["id"] == should)["result"] == "failed"


def test_baseline_categories_and_policies(synthetic: Build) -> None:
    before = synthetic(
        {"WIRE-001": failed("WIRE-001"), "WIRE-002": failed("WIRE-002"), "CAP-001": failed("CAP-001")}
    )
    now = synthetic(
        {"WIRE-002": failed("WIRE-002"), "WIRE-003": failed("WIRE-003")},
        profiles={p for p in before["profiles"] if p != "capture"},  # CAP-001 not checked this time
    )
    new = apply(now, [], before, baseline_source="old.json")
    b = new["baseline"]
    assert b["new_failures"] == ["WIRE-003"]
    assert b["fixed"] == ["WIRE-001"]
    assert b["still_failing"] == ["WIRE-002"]
    assert b["no_longer_checked"] == ["CAP-001"], "skipped now is not fixed"
    changes = {c["id"]: c["change"] for c in new["clauses"] if c["change"]}
    assert changes == {
        "WIRE-001": "fixed",
        "WIRE-002": "still-failing",
        "WIRE-003": "new-failure",
        "CAP-001": "no-longer-checked",
    }
    assert new["verdict"]["policy"] == "new" and new["verdict"]["blocking"] == ["WIRE-003"]
    assert not new["verdict"]["passed"]
    anyone = apply(now, [], before, baseline_source="old.json", policy="any")
    assert anyone["verdict"]["blocking"] == ["WIRE-002", "WIRE-003"]


def test_old_debt_alone_passes_under_the_default_policy(synthetic: Build) -> None:
    before = synthetic({"WIRE-002": failed("WIRE-002")})
    now = synthetic({"WIRE-002": failed("WIRE-002")})
    out = apply(now, [], before, baseline_source="old.json")
    assert out["verdict"]["passed"] and out["verdict"]["failed_must"] == ["WIRE-002"]
    assert not apply(now, [], before, policy="any")["verdict"]["passed"]


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
    assert out["baseline"]["still_failing"] == ["WIRE-002"] and out["verdict"]["passed"]
    path.write_text(json.dumps({"schema_version": 9, "clauses": []}))
    with pytest.raises(ReportError, match="version 9"):
        load_baseline(path)


def test_waiver_shows_waived_and_does_not_fail(synthetic: Build) -> None:
    doc = synthetic({"WIRE-005": failed("WIRE-005")})
    out = apply(doc, [Waiver("WIRE-005", "upstream bug #12", ran_on(doc))])  # valid through its expiry day
    clause = next(c for c in out["clauses"] if c["id"] == "WIRE-005")
    assert (clause["result"], clause["outcome"]) == ("waived", "failed")
    assert clause["waiver"] == {"reason": "upstream bug #12", "expires": ran_on(doc).isoformat()}
    assert out["profiles"]["wire"]["waived"] == 1 and out["profiles"]["wire"]["failed"] == 0
    assert out["verdict"]["passed"] and out["verdict"]["waived"] == ["WIRE-005"]
    assert out["waivers"] == [{**out["waivers"][0], "status": "applied"}]


def test_expired_waiver_fails_the_run_even_if_the_clause_passes(synthetic: Build) -> None:
    doc = synthetic({"WIRE-005": failed("WIRE-005")})
    yesterday = ran_on(doc) - timedelta(days=1)
    out = apply(doc, [Waiver("WIRE-005", "r", yesterday), Waiver("WIRE-001", "r", yesterday)])
    assert next(c for c in out["clauses"] if c["id"] == "WIRE-005")["result"] == "failed"
    assert out["verdict"]["expired_waivers"] == ["WIRE-001", "WIRE-005"]
    assert not out["verdict"]["passed"]
    assert any("waiver for WIRE-001 expired" in r for r in out["verdict"]["reasons"])
    unused = apply(synthetic({}), [Waiver("WIRE-001", "r", ran_on(doc) + timedelta(days=30))])
    assert unused["waivers"][0]["status"] == "unused" and unused["verdict"]["passed"]


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
