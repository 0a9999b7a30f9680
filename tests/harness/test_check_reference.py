"""`check` against the unbroken reference passes every profile (the mutants are scored by ``selftest``:
tests/harness/test_selftest.py and ``make selftest``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway_contracts.cli import main
from gateway_contracts.target import Target
from tests.support.embedded import embedded_target


def run_check(target: Target, report_dir: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", *target.check_args(), "--report-dir", str(report_dir), *extra])
    return code, json.loads((report_dir / "report.json").read_text())


def failed_ids(report: dict[str, Any]) -> set[str]:
    return {c["id"] for c in report["clauses"] if c["result"] == "failed"}


def test_reference_passes_every_profile(tmp_path: Path) -> None:
    with embedded_target(tmp_path / "target") as target:
        code, report = run_check(target, tmp_path / "report")
    assert failed_ids(report) == set() and report["verdict"]["untested_must"] == []
    assert code == 0
    assert all(p["skipped"] == 0 for p in report["profiles"].values() if p["title"]), report["profiles"]
