"""JSON Schema → a minimal but complete valid instance: the input of a scripted tool call.

The engine runs on the event loop, and a tool's ``input_schema`` comes from the client: a schema asking for
more than ``MAX_TOOL_INPUT_CHARS`` of input, nesting deeper than ``MAX_SCHEMA_DEPTH`` or carrying a keyword of the
wrong type is refused (``SchemaRefused``, a 400) before anything that size is built.
"""

from __future__ import annotations

import json
import math
from typing import Any

from reference_server.upstream.base import UpstreamError

_FORMAT_EXAMPLES = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
}
_FULL_DEPTH = 6  # below this depth optional properties and items are left out, so recursive schemas terminate
MAX_TOOL_INPUT_CHARS = 256 * 1024
"""Budget of a generated tool input, in characters of its JSON. A schema asking for more (``minItems:
2000000``, ``minLength: 2e8``) is refused before anything that size is built: the engine runs on the event loop."""
MAX_SCHEMA_DEPTH = 32
"""Deepest nesting (``$ref`` hops included) the generator follows; a schema whose required properties recurse
without end is refused at this depth instead of exhausting the stack."""


class SchemaRefused(UpstreamError):
    """A tool ``input_schema`` the scripted upstream cannot generate an input for: malformed (a keyword of the
    wrong type), unsatisfiable within the budget, or recursing without end. A 400 ``invalid_request_error``,
    as a real upstream answers a schema it cannot use."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, "invalid_request_error", f"scripted upstream: tool input_schema {reason}")


class _Budget:
    def __init__(self, chars: int) -> None:
        self.left = chars

    def spend(self, chars: int) -> None:
        self.left -= chars
        if self.left < 0:
            raise SchemaRefused(f"asks for an input larger than {MAX_TOOL_INPUT_CHARS} characters")


def schema_instance(schema: Any) -> dict[str, Any]:
    """A tool input for ``input_schema``: an object with every declared property (only the required ones in
    deeply nested objects), honouring const/enum/anyOf/oneOf/allOf/local ``$ref``, string formats and
    length bounds, numeric bounds and ``multipleOf``, and array item counts. ``pattern`` is not honoured.

    Raises ``SchemaRefused`` for a schema it cannot serve within ``MAX_TOOL_INPUT_CHARS`` and
    ``MAX_SCHEMA_DEPTH``, or with a keyword of the wrong type."""
    budget = _Budget(MAX_TOOL_INPUT_CHARS)
    value = _instance(schema, schema, 0, budget)
    return value if isinstance(value, dict) else {}


def _count(schema: dict[str, Any], key: str, default: int = 0) -> int:
    """A count keyword (``minLength``, ``minItems``…): a non-negative integer (an integral float is one)."""
    value = schema.get(key, default)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SchemaRefused(f"has a '{key}' that is not a non-negative integer")
    return value


def _bound(schema: dict[str, Any], key: str) -> float | int | None:
    value = schema.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise SchemaRefused(f"has a '{key}' that is not a finite number")
    return value


def _instance(schema: Any, root: Any, depth: int, budget: _Budget) -> Any:
    if depth > MAX_SCHEMA_DEPTH:
        raise SchemaRefused(f"nests deeper than {MAX_SCHEMA_DEPTH} levels (a recursion without end?)")
    budget.spend(1)
    if not isinstance(schema, dict):
        return {} if depth == 0 else "example"  # `true` / missing schema: anything goes
    if isinstance(schema.get("$ref"), str):
        return _instance(_resolve(root, schema["$ref"]), root, depth + 1, budget)
    if "const" in schema:
        budget.spend(_size(schema["const"]))
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        budget.spend(_size(schema["enum"][0]))
        return schema["enum"][0]
    if isinstance(schema.get("allOf"), list):
        return _instance(_merge_all_of(schema, root), root, depth + 1, budget)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            branch = schema[key][0]
            merged = {k: v for k, v in schema.items() if k != key}
            if isinstance(branch, dict):
                merged.update(branch)
            return _instance(merged, root, depth + 1, budget)
    kind = _schema_type(schema)
    if kind == "object":
        return _object_instance(schema, root, depth, budget)
    if kind == "array":
        return _array_instance(schema, root, depth, budget)
    if kind == "string":
        return _string_instance(schema, budget)
    if kind in ("integer", "number"):
        return _number_instance(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "example"


def _size(value: Any) -> int:
    """The JSON size of a value the schema gives outright (``const``, ``enum``), which came in a request body
    of bounded size."""
    return len(json.dumps(value, default=str))


def _schema_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        return str(non_null[0]) if non_null else "null"
    if isinstance(kind, str):
        return kind
    # Untyped schemas: infer from the keywords present.
    if any(k in schema for k in ("properties", "required", "additionalProperties")):
        return "object"
    if any(k in schema for k in ("items", "prefixItems", "minItems")):
        return "array"
    if any(k in schema for k in ("minLength", "maxLength", "format", "pattern")):
        return "string"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return None


def _resolve(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return {}  # remote refs are out of scope for a tool schema
    node = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _merge_all_of(schema: dict[str, Any], root: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        if isinstance(part, dict) and isinstance(part.get("$ref"), str):
            part = _resolve(root, part["$ref"])
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                merged["properties"] = {**_dict(merged.get("properties")), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = [*_list(merged.get("required")), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _object_instance(schema: dict[str, Any], root: Any, depth: int, budget: _Budget) -> dict[str, Any]:
    properties = _dict(schema.get("properties"))
    required = [r for r in _list(schema.get("required")) if isinstance(r, str)]
    names = list(properties) if depth < _FULL_DEPTH else [n for n in properties if n in required]
    result: dict[str, Any] = {}
    for name in names:
        budget.spend(len(name) + 4)
        result[name] = _instance(properties[name], root, depth + 1, budget)
    extra = schema.get("additionalProperties")
    extra_schema = extra if isinstance(extra, dict) else {"type": "string"}
    for name in required:  # required but undeclared properties
        if name not in result:
            budget.spend(len(name) + 4)
            result[name] = _instance(extra_schema, root, depth + 1, budget)
    min_properties = _count(schema, "minProperties")
    budget.spend(max(0, min_properties - len(result)) * 8)  # refused before building, if it cannot fit
    while len(result) < min_properties:
        result[f"key{len(result)}"] = _instance(extra_schema, root, depth + 1, budget)
    return result


def _array_instance(schema: dict[str, Any], root: Any, depth: int, budget: _Budget) -> list[Any]:
    prefix = _list(schema.get("prefixItems"))
    items = schema.get("items")
    if isinstance(items, list):  # draft-04 tuple form
        prefix, items = items, schema.get("additionalItems")
    min_items = _count(schema, "minItems")
    count = max(min_items, len(prefix), 1 if depth < _FULL_DEPTH else 0)
    if "maxItems" in schema:
        count = min(count, _count(schema, "maxItems"))
    budget.spend(count * 2)  # refused before building, if it cannot fit
    result = [_instance(prefix[i], root, depth + 1, budget) for i in range(min(count, len(prefix)))]
    item_schema = items if isinstance(items, dict) else {"type": "string"}
    while len(result) < count:
        value = _instance(item_schema, root, depth + 1, budget)
        if schema.get("uniqueItems") and isinstance(value, str):
            value = f"{value}{len(result)}" if len(result) else value
        result.append(value)
    return result


def _string_instance(schema: dict[str, Any], budget: _Budget) -> str:
    text = _FORMAT_EXAMPLES.get(str(schema.get("format")), "example")
    min_length = _count(schema, "minLength")
    budget.spend(max(len(text), min_length))  # refused before building, if it cannot fit
    if len(text) < min_length:
        text += "x" * (min_length - len(text))
    if "maxLength" in schema:
        text = text[: _count(schema, "maxLength")]
    return text


def _number_instance(schema: dict[str, Any], *, integer: bool) -> int | float:
    """The value closest to zero inside the bounds (draft-04 boolean and draft-06+ numeric exclusives). Bounds
    must be finite numbers; a value the arithmetic cannot represent (bounds near the float range's edge) is
    refused rather than returned as infinity."""
    low, high = _bound(schema, "minimum"), _bound(schema, "maximum")
    low_open = high_open = False
    for key, is_low in (("exclusiveMinimum", True), ("exclusiveMaximum", False)):
        bound = schema.get(key)
        if isinstance(bound, bool):
            if is_low:
                low_open = bound
            else:
                high_open = bound
        elif bound is not None:
            number = _bound(schema, key)
            if is_low:
                low, low_open = number, True
            else:
                high, high_open = number, True
    value: float = 0
    try:
        if low is not None and (value < low or (low_open and value <= low)):
            value = low + (1 if low_open else 0)
            if high is not None and (value > high or (high_open and value >= high)):
                value = low / 2 + high / 2
        elif high is not None and (value > high or (high_open and value >= high)):
            value = high - (1 if high_open else 0)
        step = schema.get("multipleOf")
        if step is not None:
            step = _bound(schema, "multipleOf")
            if step is not None and step > 0:
                value = math.ceil(value / step) * step
        if not math.isfinite(value):
            raise OverflowError
        if integer:
            return int(math.ceil(value) if low is not None else math.floor(value))
        return int(value) if float(value).is_integer() else value
    except (OverflowError, ValueError, ZeroDivisionError):
        raise SchemaRefused("has numeric bounds the generator cannot represent") from None
