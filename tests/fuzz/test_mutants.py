"""Each contract check, shown to fire on a deliberately broken copy of the reference gateway.

Every mutant (``reference_server.mutants``) breaks one clause; a small fuzz run against it must fail, and among
its findings must be the check that guards that clause. The phases are the cheapest that reach the broken path:
the examples phase sends the document's stream examples, the fuzzing phase the generated data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway_contracts.errors import EXIT_FAILED
from gateway_contracts.reports.schema import validate_report
from tests.fuzz.support import SMALL, findings, run_fuzz, target_args
from tests.support.embedded import embedded_target

CASES = [
    # (mutant, the check that must fire, what its finding's title says, phases)
    ("no-message-stop", "sse_grammar", "SSE-019", "examples"),
    ("stream-no-capture", "capture_invariant", "success not captured", "examples"),
    ("flat-error-envelope", "anthropic_error_envelope", "not enveloped", "fuzzing"),
    ("error-echoes-value", "no_secret_echo", "echoes a request secret", "fuzzing"),
    ("metrics-open-without-key", "ignored_auth", "without authentication", "fuzzing"),
    ("aliases-unknown", "valid_data_accepted", "404 not_found_error for schema-valid data", "fuzzing"),
]


@pytest.mark.parametrize(("mutant", "check", "title", "phases"), CASES, ids=[c[0] for c in CASES])
def test_check_fires_on_its_mutant(mutant: str, check: str, title: str, phases: str, tmp_path: Path) -> None:
    report = tmp_path / "report"
    with embedded_target(tmp_path / "target", mutant=mutant) as target:
        code = run_fuzz(
            *target_args(target), "--max-examples", SMALL, "--phases", phases, "--report-dir", str(report)
        )
    found = findings(report)
    assert code == EXIT_FAILED, f"fuzz passed against mutant {mutant}"
    hits = [f for f in found if f["check"] == check]
    assert hits, f"{mutant}: {check} did not fire; fired: {sorted({f['check'] for f in found})}"
    assert any(title in f["title"] for f in hits), [f["title"] for f in hits]
    assert all(f["new"] and f["curl"] and f["curl"].startswith("curl ") for f in hits), hits
    # The same findings, each with the clause it breaks, in the compliance report and its renderings.
    doc = json.loads((report / "report.json").read_text(encoding="utf-8"))
    validate_report(doc)
    in_report = [f for f in doc["fuzz"]["findings"] if f["check"] == check]
    assert in_report and all(f["clause"] for f in in_report), doc["fuzz"]
    assert "Fuzz findings" in (report / "report.html").read_text(encoding="utf-8")
    assert in_report[0]["clause"] in (report / "report.md").read_text(encoding="utf-8")


def test_baseline_turns_known_findings_into_a_pass(tmp_path: Path) -> None:
    baseline = tmp_path / "fuzz-baseline.json"
    common = ["--max-examples", SMALL, "--phases", "examples"]
    with embedded_target(tmp_path / "target", mutant="stream-no-capture") as target:
        args = [*target_args(target), *common]
        assert (
            run_fuzz(
                *args, "--report-dir", str(tmp_path / "a"), "--baseline", str(baseline), "--update-baseline"
            )
            == 0
        )
        assert run_fuzz(*args, "--report-dir", str(tmp_path / "b"), "--baseline", str(baseline)) == 0
    known = findings(tmp_path / "b")
    assert known and not any(f["new"] for f in known)
