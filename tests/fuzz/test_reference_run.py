"""The reference gateway under the default fuzz run, and the determinism of a seed."""

from __future__ import annotations

from pathlib import Path

from gateway_contracts.fuzz.document import merged_document, operation_ids
from tests.fuzz.support import findings_document, request_sequence, run_fuzz, target_args
from tests.support.embedded import embedded_target

TIME_LIMIT = 120.0
CALLS = ("POST /v1/messages", "POST /v1/chat/completions")


def test_default_run_of_the_reference_finds_nothing_and_exercises_everything(tmp_path: Path) -> None:
    # Exactly what `gateway-contracts fuzz` does without arguments: the embedded reference, every phase.
    code = run_fuzz("--report-dir", str(tmp_path))
    document = findings_document(tmp_path)
    assert document["findings"] == [], [
        (f["operation"], f["check"], f["title"]) for f in document["findings"]
    ]
    assert code == 0
    assert document["seconds"] < TIME_LIMIT, f"the default run took {document['seconds']}s"
    assert set(document["phases"]) == {"examples", "coverage", "fuzzing", "stateful"}
    operations = document["operations"]
    assert set(operations) == set(operation_ids(merged_document()))
    for label, stats in operations.items():
        assert stats["statuses"].get("2xx", 0) > 0, f"{label} never answered 2xx: {stats}"
    for label in CALLS:
        assert operations[label]["streams"] > 0, f"{label}: no stream was exercised"
    # The stateful phase followed the audit link from calls to their audit trail.
    assert operations["GET /v1/audit/{request_id}"]["phases"].get("stateful", 0) > 0
    for name in ("junit.xml", "events.ndjson", "openapi.json", "schemathesis.toml"):
        assert (tmp_path / "fuzz" / name).is_file(), name


def test_the_same_seed_sends_the_same_requests(tmp_path: Path) -> None:
    # The seeded phases: fuzzing draws the requests, stateful draws the call → audit sequences. (The examples and
    # coverage phases derive theirs from the document alone.)
    seeded = ["--max-examples", "25", "--phases", "fuzzing,stateful"]
    with embedded_target(tmp_path / "target") as target:

        def run(name: str, seed: str) -> list[tuple[str, str, str, str, bytes]]:
            report = tmp_path / name
            code = run_fuzz(*target_args(target), *seeded, "--seed", seed, "--report-dir", str(report))
            assert code == 0
            return request_sequence(report)

        first, second, other = run("first", "7"), run("second", "7"), run("other", "8")
    assert len(first) > 100
    assert first == second
    assert first != other
