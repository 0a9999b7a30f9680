"""The requests the property tests send: schemathesis strategies over the contract's OpenAPI document, with the
document's arrays bounded for generation.

What a property test costs is almost all data generation, not the calls: hypothesis spends a few tens of
microseconds on each choice it makes, and a body is a few hundred choices, or tens of thousands when lists nest in
lists (messages of content blocks of citations, tools with their schemas). Unbounded, a few examples of each test
held 20-50 KB bodies and took 90% of its time. So every array the document leaves unbounded gets at most
``ARRAY_ITEMS`` items here, for generation only (the same shapes: every property, every branch, every keyword;
shorter lists). The bound is of the same kind as schemathesis' own, which already caps the keys it adds to an
open object at five and an arbitrary JSON value at five leaves. The contract's validation of the bodies is
unchanged: a negative example is still judged invalid (or not) by the contract's own schema.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from contracts import openapi_document

ARRAY_ITEMS: int | None = 4
"""At most this many items in a generated array that the contract leaves unbounded (a tighter ``maxItems`` of
the contract stays; ``minItems`` above it wins). ``None`` generates from the contract's document as it is."""


_SUBSCHEMA = ("items", "additionalProperties", "not", "contains", "propertyNames")
_SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs")


def bounded(schema: Any, items: int | None = ARRAY_ITEMS) -> Any:
    """``schema`` with ``maxItems`` on every array schema in it that has none (schema keywords only: a property
    that happens to be named ``items`` is not an array)."""
    if not isinstance(schema, dict) or items is None:
        return schema
    out = dict(schema)
    for key in _SUBSCHEMA:
        if key in out:
            out[key] = bounded(out[key], items)
    for key in _SUBSCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [bounded(s, items) for s in out[key]]
    for key in _SUBSCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: bounded(s, items) for name, s in out[key].items()}
    kind = out.get("type")
    if (kind == "array" or (isinstance(kind, list) and "array" in kind)) and "maxItems" not in out:
        out["maxItems"] = max(items, int(out.get("minItems", 0)))
    return out


@functools.cache
def _document() -> dict[str, Any]:
    doc = copy.deepcopy(openapi_document())
    schemas = doc["components"]["schemas"]
    doc["components"]["schemas"] = {name: bounded(s) for name, s in schemas.items()}
    for item in doc["paths"].values():
        for op in item.values():
            for media in (
                op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
            ).values():
                if "schema" in media:
                    media["schema"] = bounded(media["schema"])
    return doc


@functools.cache
def operation(path: str) -> Any:
    return schemathesis.openapi.from_dict(_document())[path]["POST"]


def cases(path: str, mode: GenerationMode) -> st.SearchStrategy[Any]:
    # Deferred: loading the schema into schemathesis costs about a second, paid only when a test draws from it
    # (a run of other clauses, `check --clause`, never does).
    return st.deferred(lambda: operation(path).as_strategy(generation_mode=mode))
