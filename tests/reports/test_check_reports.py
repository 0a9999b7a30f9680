"""``check`` writes all four reports, and its exit status follows the verdict: baseline, policy, waivers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from gateway_contracts.cli import main
from gateway_contracts.errors import EXIT_USAGE
from tests.reports.support import EXAMPLES, MUTANT_CLAUSE, CheckRun, load

FILES = {"report.json", "junit.xml", "report.md", "report.html"}


def waivers_file(tmp_path: Path, expires: date, clause: str = MUTANT_CLAUSE) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        f'version: 1\nwaivers:\n  - clause: {clause}\n    reason: "fixing in #42"\n    expires: {expires}\n'
    )
    return path


def clause_of(run_dir: Path, cid: str = MUTANT_CLAUSE) -> dict[str, object]:
    return next(c for c in load(run_dir / "report.json")["clauses"] if c["id"] == cid)


def test_check_writes_the_four_reports(failing_run: Path) -> None:
    assert {p.name for p in failing_run.iterdir()} >= FILES
    assert not [p for p in failing_run.iterdir() if p.name.endswith(".tmp")]


def test_new_failure_against_baseline_fails(run_check: CheckRun) -> None:
    code, out = run_check("--baseline", str(EXAMPLES / "passing" / "report.json"))
    assert code == 1
    assert clause_of(out)["change"] == "new-failure"
    assert f"- New failures: `{MUTANT_CLAUSE}`" in (out / "report.md").read_text()


def test_old_failure_passes_by_default_and_fails_with_fail_on_any(
    run_check: CheckRun, failing_run: Path
) -> None:
    baseline = str(failing_run / "report.json")
    code, out = run_check("--baseline", baseline)
    assert code == 0, "CI fails only on what the change broke"
    assert clause_of(out)["result"] == "failed" and clause_of(out)["change"] == "still-failing"
    md = (out / "report.md").read_text()
    assert md.startswith("### ✅ PASS") and f"- Still failing (old): `{MUTANT_CLAUSE}`" in md
    code, _ = run_check("--baseline", baseline, "--fail-on", "any")
    assert code == 1


def test_waived_clause_shows_waived_and_passes(run_check: CheckRun, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    code, out = run_check(waivers=waivers_file(tmp_path, today + timedelta(days=30)))
    assert code == 0
    assert clause_of(out)["result"] == "waived"
    assert 'data-result="waived"' in (out / "report.html").read_text()
    assert "fixing in #42" in (out / "junit.xml").read_text()


def test_expired_waiver_fails_the_run(run_check: CheckRun, tmp_path: Path) -> None:
    code, out = run_check(waivers=waivers_file(tmp_path, date(2020, 1, 31)))
    assert code == 1
    report = load(out / "report.json")
    assert report["verdict"]["expired_waivers"] == [MUTANT_CLAUSE]
    assert any("expired on 2020-01-31" in r for r in report["verdict"]["reasons"])
    assert clause_of(out)["result"] == "failed"


def test_default_waivers_file_is_read_from_the_working_directory(
    run_check: CheckRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "repo"
    workdir.mkdir()
    waivers_file(workdir, datetime.now(UTC).date() + timedelta(days=1))
    monkeypatch.chdir(workdir)
    code, out = run_check(default_waivers=True)
    assert code == 0 and clause_of(out)["result"] == "waived"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--waivers", "{tmp}/missing.yaml"], "cannot read"),
        (["--baseline", "{tmp}/missing.json"], "cannot read"),
        (["--baseline", "{tmp}/bad.json"], "not JSON"),
    ],
)
def test_bad_inputs_fail_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "bad.json").write_text("{")
    code = main(
        ["check", "--target", "http://127.0.0.1:9", "--model", "m", *[a.format(tmp=tmp_path) for a in args]]
    )
    assert code == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_unknown_clause_in_waivers_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = waivers_file(tmp_path, date(2030, 1, 1), clause="NOPE-001")
    code = main(["check", "--target", "http://127.0.0.1:9", "--model", "m", "--waivers", str(path)])
    assert code == EXIT_USAGE and "unknown clause 'NOPE-001'" in capsys.readouterr().err


def test_report_json_is_the_json_schema_version_2(failing_run: Path) -> None:
    assert json.loads((failing_run / "report.json").read_text())["schema_version"] == 2
