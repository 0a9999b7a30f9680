"""The property tests' examples: drawn ahead by a process of their own, the same for the same seed, and drawn in
the test's process when that process fails; the generation bound keeps the contract's shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway_contracts.conformance.examples import (
    SPECS,
    Example,
    Pregenerated,
    body_is_invalid,
    likely,
    rejectable,
)
from gateway_contracts.conformance.generation import bounded
from gateway_contracts.target.config import resolve


def test_bound_goes_on_unbounded_arrays_only() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "items": {"type": "string"},  # a property named like the keyword is not an array
            "free": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            "tight": {"type": "array", "maxItems": 2},
            "long": {"type": "array", "minItems": 9},
            "either": {"oneOf": [{"type": "string"}, {"type": ["array", "null"]}]},
        },
    }
    out = bounded(schema, 4)
    props = out["properties"]
    assert props["items"] == {"type": "string"}
    assert props["free"]["maxItems"] == 4 and props["free"]["items"]["maxItems"] == 4
    assert props["tight"]["maxItems"] == 2
    assert props["long"]["maxItems"] == 9
    assert props["either"]["oneOf"][1]["maxItems"] == 4
    assert "maxItems" not in props["either"]["oneOf"][0]
    assert bounded(schema, None) == schema
    assert "maxItems" not in schema["properties"]["free"]  # the contract's own document is left alone


@pytest.mark.parametrize("body", [b"{not json", {"text": "\udbf1 lone surrogate", "n": [1.5, None, True]}])
def test_examples_travel_between_processes_unchanged(body: Any) -> None:
    example = Example(body, {"traceparent": "00-x"}, 3)
    assert Example.from_json(json.loads(json.dumps(example.to_json()))) == example


def test_same_seed_same_examples() -> None:
    first, again, other = (Pregenerated(["valid-chat"], seed, True) for seed in (7, 7, 8))
    try:
        drawn = first.examples("valid-chat")
        assert len(drawn) == 30
        assert drawn == again.examples("valid-chat")
        assert drawn != other.examples("valid-chat")
    finally:
        for p in (first, again, other):
            p.close()


def test_a_failed_process_means_drawing_here_not_a_verdict() -> None:
    pregenerated = Pregenerated(["valid-chat"], 7, True)
    assert pregenerated._proc is not None
    pregenerated._proc.kill()
    with pytest.warns(UserWarning, match="drawing them here"):
        drawn = pregenerated.examples("valid-chat")
    spec = SPECS["valid-chat"]
    assert len(drawn) == 30
    assert all(not body_is_invalid(spec.component, e.body) for e in drawn)


def test_negative_examples_are_all_rejectable() -> None:
    spec = SPECS["invalid-messages"]
    drawn = Pregenerated([], 3, True).examples("invalid-messages")
    assert drawn and all(rejectable(spec.component, e.body, e.headers, True) for e in drawn)
    assert any(isinstance(e.body, bytes) for e in drawn), "malformed JSON among the negative examples"


def test_examples_drawn_early_serve_only_the_run_they_fit() -> None:
    """``check`` starts drawing before the target starts; collection takes that process only when it draws what
    the run needs: the same seed, the same target (backend pinning), every property test collected."""
    early = Pregenerated(["valid-chat", "invalid-chat"], 0, True)
    try:
        assert early.covers(["valid-chat"], 0, True) and early.covers(["valid-chat", "invalid-chat"], 0, True)
        assert not early.covers(["valid-messages"], 0, True)
        assert not early.covers(["valid-chat"], 1, True)
        assert not early.covers(["valid-chat"], 0, False)
        assert len(early.examples("valid-chat")) == 30
        assert early.covers(["invalid-chat"], 0, True)  # drawn and collected: still the run's
    finally:
        early.close()
    closed = Pregenerated(["valid-chat"], 0, True)
    closed.close()
    assert not closed.covers(["valid-chat"], 0, True)


def test_the_examples_a_whole_run_will_likely_need_follow_the_surfaces() -> None:
    flags = {"target.base_url": "http://127.0.0.1:9", "models.default": "m"}
    both = resolve(None, {**flags, "surfaces": ["messages", "chat-completions"]}, default_file=None)
    messages = resolve(None, {**flags, "surfaces": ["messages"]}, default_file=None)
    assert likely(both) == list(SPECS)
    assert likely(messages) == ["valid-messages", "invalid-messages"]
