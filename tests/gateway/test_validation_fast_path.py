"""The compiled validator is only a fast path: whatever it says, the verdict on a body is the reference
validator's (``jsonschema``), so accepting a body it wrongly liked is the one way they could differ."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_server.errors import GatewayError
from reference_server.validation import _surely_valid, _validator, validate_body

BASE: dict[str, dict[str, Any]] = {
    "MessagesRequest": {
        "model": "ainfera-inference",
        "max_tokens": 64,
        "stream": True,
        "system": "be brief",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
            {"role": "user", "content": [{"type": "text", "text": "again"}]},
        ],
        "tools": [{"name": "get_weather", "description": "d", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "auto"},
        "temperature": 0.5,
    },
    "ChatCompletionRequest": {
        "model": "ainfera-inference",
        "max_tokens": 64,
        "stream": False,
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    },
}

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80)
    | st.sampled_from(["user", "assistant", "system", "tool", "text", "auto", "a\n", "ab_c\n", "\ud800"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def paths(node: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [trail]
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths(value, (*trail, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += paths(value, (*trail, index))
    return out


def replaced(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(body)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def verdict(component: str, body: Any) -> bool:
    try:
        validate_body(component, body)
    except GatewayError:
        return False
    return True


@pytest.mark.parametrize("component", sorted(BASE))
def test_the_common_shape_takes_the_fast_path(component: str) -> None:
    assert _surely_valid(component, BASE[component])
    assert verdict(component, BASE[component])


@pytest.mark.parametrize("component", sorted(BASE))
@settings(max_examples=300, deadline=None)
@given(data=st.data(), value=JSON_VALUES)
def test_the_verdict_is_the_reference_validators(component: str, data: st.DataObject, value: Any) -> None:
    base = BASE[component]
    path = data.draw(st.sampled_from(paths(base)))
    body = replaced(base, path, value)
    reference = isinstance(body, dict) and _validator(component).is_valid(body)
    if isinstance(body, dict) and _surely_valid(component, body):
        assert reference, f"fast path accepted a body the reference rejects: {body!r}"
    assert verdict(component, body) == reference


def test_a_trailing_newline_in_a_tool_name_is_judged_by_the_reference() -> None:
    # Python's `$` matches before a final newline, Rust's does not: the fast path says no, the reference yes.
    body = replaced(BASE["MessagesRequest"], ("tools", 0, "name"), "get_weather\n")
    assert not _surely_valid("MessagesRequest", body)
    assert verdict("MessagesRequest", body) == _validator("MessagesRequest").is_valid(body)
