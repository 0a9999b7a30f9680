"""``reference-gateway selftest``: every MUST clause has a mutant, mutants are caught by their own clause, a mutant
caught only by other clauses counts as missed, and the command's score, files and exit status say so.

The whole selftest (every mutant) is one command, ``make selftest``, run by ``.ci/run``; here a fast subset, one
mutant per area, proves the machinery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.clauses import catalogue
from contracts.exits import EXIT_FAILED
from reference_server import selftest
from reference_server.cli import main
from reference_server.mutants import MUTANTS, Mutant
from reference_server.mutants.registry import AREAS

# One per area, each caught by a different kind of test (status, stream grammar, database, exposition, log file).
CI_SUBSET = [
    "malformed-json-500",
    "no-message-stop",
    "openai-no-done",
    "stream-no-capture",
    "dead-string-llms",
]


def test_every_must_clause_has_a_mutant() -> None:
    clauses = catalogue().clauses
    must = {cid for cid, c in clauses.items() if c.must}
    broken = {m.breaks for m in MUTANTS.values()}
    assert not (broken - set(clauses)), f"mutants name unknown clauses: {sorted(broken - set(clauses))}"
    assert not (must - broken), f"MUST clauses no mutant breaks: {sorted(must - broken)}"
    assert len(MUTANTS) >= 30


def test_every_area_has_mutants_and_names_are_unique() -> None:
    names = [m.name for area in AREAS for m in area.MUTANTS]
    assert len(names) == len(set(names)) == len(MUTANTS)
    assert all(area.MUTANTS for area in AREAS)


def test_selftest_scores_a_subset_and_the_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [f"--mutant={m}" for m in CI_SUBSET]
    code = main(["selftest", *args, "--no-fuzz", "--report-dir", str(tmp_path)])
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "selftest.json").read_text())
    assert code == 0, out
    assert doc["score"] == {"caught": len(CI_SUBSET), "mutants": len(CI_SUBSET)}
    assert [m["name"] for m in doc["mutants"]] == CI_SUBSET
    assert all(m["failed"][0] == m["breaks"] for m in doc["mutants"]), doc["mutants"]
    assert doc["reference"]["failed"] == [] and doc["reference"]["untested"] == []
    assert f"mutation score: {len(CI_SUBSET)}/{len(CI_SUBSET)} (100%)" in out
    assert "reference gateway: no finding" in out
    assert (tmp_path / "selftest.md").read_text().count("| caught |") == len(CI_SUBSET)


def test_fuzz_must_fire_too(tmp_path: Path) -> None:
    score = selftest.run([MUTANTS["no-message-stop"]], selftest.Options(tmp_path), reference=False)
    (result,) = score.mutants
    assert result.caught and result.fuzz_caught, result
    assert "sse_grammar" in result.fuzz_fired


def test_caught_by_another_clause_is_a_miss(tmp_path: Path) -> None:
    # alias-leak really breaks ALIAS-002; claimed for WIRE-001, whose tests pass against it, it must be missed.
    wrong = Mutant("alias-leak", "WIRE-001", "alias-leak, attributed to the wrong clause")
    score = selftest.run([wrong], selftest.Options(tmp_path, scope="profile", fuzz=False), reference=False)
    (result,) = score.mutants
    assert not result.caught and not score.passed
    # The wire profile ran (not ainfera): other wire clauses may fail, WIRE-001 does not, and that is a miss.
    assert "WIRE-001" not in result.failed and "ALIAS-002" not in result.failed
    assert result.error == ""


def test_missed_mutant_fails_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = Mutant("tools-dropped", "WIRE-013", "tools-dropped, attributed to the wrong clause")
    monkeypatch.setattr(selftest, "select", lambda names, areas: [wrong])
    code = main(
        ["selftest", "--mutant=tools-dropped", "--no-fuzz", "--no-reference", "--report-dir", str(tmp_path)]
    )
    assert code == EXIT_FAILED
    doc = json.loads((tmp_path / "selftest.json").read_text())
    assert doc["score"] == {"caught": 0, "mutants": 1} and doc["passed"] is False
    assert "MISSED tools-dropped (WIRE-013)" in (tmp_path / "selftest.md").read_text()


def test_a_mutant_failing_extra_must_clauses_shows_in_the_precision_figure() -> None:
    """The figure the selftest prints and writes, from the mutants' results: a mutant caught by its clause that
    also fails other MUST clauses raises the mean and is named with them; one that fails only its own does not."""
    from reference_server.commands.selftest import _line, summary

    exact = selftest.MutantResult("dead-string-llms", "DISC-002", "", True, ["DISC-002"], 1.0)
    should = next(cid for cid, c in catalogue().clauses.items() if not c.must)
    spread = selftest.MutantResult(
        "no-message-stop", "SSE-019", "", True, ["SSE-019", "WIRE-002", "WIRE-003", should], 1.0
    )
    alone = selftest.Score([exact], None, 1.0, "profile").to_json()
    assert alone["must_failed_per_mutant"] == 1.0
    assert "precision: 1.00 MUST clauses failed per mutant" in summary(alone)
    both = selftest.Score([exact, spread], None, 2.0, "profile")
    assert both.caught == 2, "precision is not the mutation score: both are caught by their own clause"
    doc = both.to_json()
    assert doc["must_failed_per_mutant"] == 2.0  # (1 + 3) / 2: the SHOULD clause does not count
    text = summary(doc)
    assert "mutation score: 2/2 (100%)" in text
    assert "precision: 2.00 MUST clauses failed per mutant" in text and "target <= 1.3" in text
    assert _line(spread).startswith("caught no-message-stop by SSE-019 also WIRE-002, WIRE-003 ")
    assert " also " not in _line(exact)


def test_precision_counts_the_extra_must_clauses_a_mutant_fails() -> None:
    """One fault, one clause: a mutant that also fails other MUST clauses raises the mean, SHOULD clauses do not."""
    exact = [["WIRE-001"], ["SSE-019"]]
    assert selftest.must_failed_mean(exact) == 1.0
    spread = [["WIRE-001"], ["SSE-019", "WIRE-002", "WIRE-003", "SSE-001"]]  # SSE-001 is a SHOULD
    assert selftest.must_failed_mean(spread) == 2.0
    assert selftest.must_failed_mean([]) is None
