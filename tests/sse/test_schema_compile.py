"""The schema translation on its own: on any schema of the keywords it covers, the compiled predicate decides every
instance as jsonschema does; any other keyword is refused, never passed silently."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from gateway_contracts.sse.schema_compile import SchemaCompileError, compile_schemas, translate

KEYS = ["a", "b", "type"]
# The values where Python and JSON Schema part ways: bool is not an integer, 1.0 is, 1 == 1.0, "" is a string.
SCALARS: list[Any] = [None, True, False, 0, 1, -1, 1.0, 0.5, -2.5, 1e300, "", "a", "x", "type"]
TYPES = ["null", "boolean", "string", "object", "array", "number", "integer"]

scalars = st.sampled_from(SCALARS)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=8,
)
sizes = st.integers(0, 3)
bounds = st.sampled_from([-1, 0, 1, 0.5, 2])

LEAF_KEYWORDS = {
    "type": st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
    "const": scalars,
    "enum": st.lists(scalars, min_size=1, max_size=4),
    "minimum": bounds,
    "maximum": bounds,
    "exclusiveMinimum": bounds,
    "exclusiveMaximum": bounds,
    "minLength": sizes,
    "maxLength": sizes,
    "minItems": sizes,
    "maxItems": sizes,
    "required": st.lists(st.sampled_from(KEYS), max_size=2, unique=True),
}


def leaf_schemas() -> st.SearchStrategy[Any]:
    chosen = st.lists(st.sampled_from(sorted(LEAF_KEYWORDS)), max_size=3, unique=True)
    objects = chosen.flatmap(lambda ks: st.fixed_dictionaries({k: LEAF_KEYWORDS[k] for k in ks}))
    return st.booleans() | objects | st.just({"$ref": "#/$defs/d0"}) | st.just({"$ref": "#/$defs/d1"})


def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    subs = st.lists(inner, min_size=1, max_size=3)
    combinators = {
        "properties": st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
        "items": inner,
        "allOf": subs,
        "anyOf": subs,
        "oneOf": subs,
        "not": inner,
        "if": inner,
        "then": inner,
        "else": inner,
    }
    chosen = st.lists(st.sampled_from(sorted(combinators)), min_size=1, max_size=3, unique=True)
    return st.tuples(
        st.one_of(st.just({}), inner.filter(lambda s: isinstance(s, dict))),
        chosen.flatmap(lambda ks: st.fixed_dictionaries({k: combinators[k] for k in ks})),
    ).map(lambda pair: {**pair[0], **pair[1]})


schemas = st.recursive(leaf_schemas(), extend, max_leaves=6)
definitions = st.fixed_dictionaries(
    {
        "d0": st.fixed_dictionaries({}, optional=LEAF_KEYWORDS),
        "d1": st.fixed_dictionaries({}, optional=LEAF_KEYWORDS),
    }
)


def document(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    body = schema if isinstance(schema, dict) else {"allOf": [schema]}
    return {"$defs": defs, **body}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas, defs=definitions, instances=st.lists(json_values, min_size=1, max_size=8))
def test_compiled_predicate_decides_as_jsonschema(
    schema: Any, defs: dict[str, Any], instances: list[Any]
) -> None:
    doc = document(schema, defs)
    Draft202012Validator.check_schema(doc)
    check = compile_schemas({"event": doc}, "test")["event"]
    validator = Draft202012Validator(doc)
    for instance in instances:
        assert check(instance) == validator.is_valid(instance), (translate(doc, "test")[0], instance)


def test_the_edge_values_of_json_types() -> None:
    """What Python's types say differently from JSON Schema's, written out once."""
    check = compile_schemas({"e": {"type": "integer", "minimum": 0}}, "test")["e"]
    assert [check(v) for v in (0, 1.0, True, -1, 0.5, "1", None)] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    const = compile_schemas({"e": {"const": 1}}, "test")["e"]
    assert [const(v) for v in (1, 1.0, True, "1")] == [True, True, False, False]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {"type": "object", "patternProperties": {"^a": {}}},
            "schema keyword 'patternProperties' is not supported",
        ),
        ({"properties": {"a": {"format": "email"}}}, "schema keyword 'format' is not supported"),
        ({"$ref": "#/$defs/loop", "$defs": {"loop": {"items": {"$ref": "#/$defs/loop"}}}}, "is recursive"),
        ({"$ref": "https://example.com/s.json"}, "is not a #/$defs/ entry"),
        ({"const": {"a": 1}}, "is not supported (not a scalar)"),
        ({"type": "integr"}, "unknown type 'integr'"),
    ],
)
def test_what_the_translation_cannot_decide_is_refused(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaCompileError, match=re.escape(message)):
        compile_schemas({"e": schema}, "test")


def discriminated(required: bool) -> dict[str, Any]:
    """if/then members on one property's values: compiled as one if/elif chain when the property is present."""
    cases = [("a", {"required": ["b"]}), ("x", {"properties": {"b": {"type": "string"}}}), ("", False)]
    members = [{"if": {"properties": {"type": {"const": c}}}, "then": then} for c, then in cases]
    return {"type": "object", **({"required": ["type"]} if required else {}), "allOf": members}


@settings(max_examples=300, deadline=None)
@given(required=st.booleans(), instance=st.dictionaries(st.sampled_from(KEYS), json_values, max_size=3))
def test_discriminated_branches_decide_as_jsonschema(required: bool, instance: dict[str, Any]) -> None:
    doc = discriminated(required)
    source, _ = translate(doc, "test")
    assert ("elif" in source) == required  # the chain only where at most one branch can apply
    check = compile_schemas({"e": doc}, "test")["e"]
    assert check(instance) == Draft202012Validator(doc).is_valid(instance), (source, instance)
