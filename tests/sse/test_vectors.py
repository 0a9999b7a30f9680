"""Golden vectors: every valid stream passes, every invalid one is flagged with exactly its labelled clauses."""

from __future__ import annotations

import pytest

from gateway_contracts.sse import AnthropicValidator, OpenAIValidator, grammar, load_clauses, validate
from gateway_contracts.sse.violations import EXCERPT_LIMIT
from tests.sse.vectors import INVALID, VALID, VECTOR_DIR, VECTORS, Vector


@pytest.mark.parametrize("vector", VALID, ids=str)
def test_valid_vector_passes(vector: Vector) -> None:
    violations = validate(vector.data, vector.dialect)
    assert violations == [], "\n".join(map(str, violations))


@pytest.mark.parametrize("vector", INVALID, ids=str)
def test_invalid_vector_is_flagged_with_its_clauses(vector: Vector) -> None:
    violations = validate(vector.data, vector.dialect)
    found = sorted({v.clause for v in violations})
    assert vector.breaks in found, f"{vector.about}: {vector.breaks} not reported; got {found}"
    assert found == sorted(vector.expected or ()), "\n".join(map(str, violations))


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_violations_are_well_formed(vector: Vector) -> None:
    validator = AnthropicValidator() if vector.dialect == "anthropic" else OpenAIValidator()
    validator.feed(vector.data)
    violations = validator.close()
    levels = {c.id: c.level for c in load_clauses()}
    for v in violations:
        assert len(v.excerpt) <= EXCERPT_LIMIT and "\n" not in v.excerpt and "\r" not in v.excerpt
        assert 0 <= v.index <= max(validator.events - 1, 0)
        assert v.level == levels[v.clause]
        assert v.message and "\n" not in str(v)
        assert str(v).startswith(f"{v.clause} event#{v.index}: ")


def test_every_clause_has_an_invalid_vector() -> None:
    labelled = {v.breaks for v in INVALID}
    missing = [c.id for c in load_clauses() if c.id not in labelled]
    assert not missing, f"clauses without a golden vector: {missing}"


def test_manifest_lists_every_vector_file_once() -> None:
    on_disk = {str(p.relative_to(VECTOR_DIR)) for p in VECTOR_DIR.rglob("*.sse")}
    listed = [v.file for v in VECTORS]
    assert len(listed) == len(set(listed))
    assert set(listed) == on_disk


def test_labels_use_each_dialects_clauses() -> None:
    for v in INVALID:
        assert set(v.expected or ()) <= set(grammar(v.dialect).clauses), v.file


def test_lenient_mode_reports_must_clauses_only() -> None:
    for v in INVALID:
        lenient = validate(v.data, v.dialect, strict=False)
        strict = [x for x in validate(v.data, v.dialect) if x.level == "MUST"]
        assert lenient == strict, v.file


def test_violation_points_at_the_offending_event() -> None:
    data = (VECTOR_DIR / "anthropic/stop_reason_banana.sse").read_bytes()
    [violation] = validate(data, "anthropic")
    assert violation.clause == "SSE-023"
    # message_start #0, content_block_start #1, three deltas #2-#4, content_block_stop #5, message_delta #6
    assert violation.index == 6
    assert "banana" in violation.message and violation.excerpt.startswith("event: message_delta")
