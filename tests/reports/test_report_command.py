"""``gateway-contracts report --from REPORT.json --format md|html|junit [--baseline OLD.json]``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from gateway_contracts.commands import report
from gateway_contracts.errors import EXIT_USAGE, CliError
from tests.reports.support import EXAMPLES, MUTANT_CLAUSE, load

FAILING = EXAMPLES / "failing" / "report.json"
PASSING = EXAMPLES / "passing" / "report.json"


def run(*argv: str) -> int:
    """The command as the CLI runs it (its own parser: the command module is what is under test here)."""
    parser = argparse.ArgumentParser(prog="gateway-contracts")
    report.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *argv])
    try:
        status: int = args.run(args)
    except CliError as exc:
        print(f"gateway-contracts: {exc}", file=__import__("sys").stderr)
        return exc.status
    return status


@pytest.mark.parametrize(
    ("fmt", "name"), [("md", "report.md"), ("html", "report.html"), ("junit", "junit.xml")]
)
def test_rerender_is_what_check_wrote(tmp_path: Path, fmt: str, name: str) -> None:
    out = tmp_path / name
    assert run("--from", str(FAILING), "--format", fmt, "--output", str(out)) == 0
    assert out.read_bytes() == (FAILING.parent / name).read_bytes()


def test_stdout_and_json(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert run("--from", str(FAILING), "--format", "md") == 0
    assert capsysbinary.readouterr().out == (FAILING.parent / "report.md").read_bytes()
    assert run("--from", str(FAILING), "--format", "json") == 0
    assert capsysbinary.readouterr().out == FAILING.read_bytes()


def test_baseline_is_redone_against_another_report(tmp_path: Path) -> None:
    out = tmp_path / "against-itself.md"
    assert (
        run("--from", str(FAILING), "--format", "md", "--baseline", str(FAILING), "--output", str(out)) == 0
    )
    text = out.read_text()
    assert f"- Still failing (old): `{MUTANT_CLAUSE}`" in text and "- New failures: none" in text
    assert text.startswith("### ✅ PASS"), "old debt alone passes under the default policy"
    assert run("--from", str(FAILING), "--format", "md", "--baseline", str(PASSING), "--fail-on", "any") == 0


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 2, "clauses": []}')
    assert run("--from", str(bad), "--format", "md") == EXIT_USAGE
    err = capsys.readouterr().err
    assert "does not match report.schema.json" in err and len(err.strip().splitlines()) == 1
    assert load(FAILING)["schema_version"] == 2
