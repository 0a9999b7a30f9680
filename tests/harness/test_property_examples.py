"""The property tests' examples: drawn ahead by a process of their own, the same for the same seed, and drawn in
the test's process when that process fails; the generation bound keeps the contract's shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway_contracts.conformance.examples import SPECS, Example, Pregenerated, body_is_invalid, rejectable
from gateway_contracts.conformance.generation import bounded


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
