"""The document schemathesis fuzzes: the public contract with the internal ``/metrics`` operation merged in.

``/metrics`` is deliberately absent from the public document (BRIEF §4), yet it must be fuzzed too, above all
for its key check. Merging (rather than fuzzing the two documents in two runs) gives one run, one report and
one seed. Each internal operation keeps its own security requirement (``InternalKey``), so schemathesis'
``ignored_auth`` check knows that a request without the key must be refused.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from contracts import load_yaml

PUBLIC = "openapi.yaml"
INTERNAL = "openapi-internal.yaml"
_SCHEMA_REF = "#/components/schemas/"


def merged_document() -> dict[str, Any]:
    public = copy.deepcopy(load_yaml(PUBLIC))
    internal = copy.deepcopy(load_yaml(INTERNAL))
    renames = _merge_schemas(public.setdefault("components", {}), internal.get("components", {}))
    internal_security = internal.get("security", [])
    for path, item in internal.get("paths", {}).items():
        if path in public.get("paths", {}):
            raise ValueError(f"{path} is in both {PUBLIC} and {INTERNAL}")
        for operation in item.values():
            if isinstance(operation, dict):
                # The public document's global security (client keys) must not apply to internal operations.
                operation.setdefault("security", internal_security)
        public["paths"][path] = _rewrite_refs(item, renames)
    schemes = internal.get("components", {}).get("securitySchemes", {})
    public["components"].setdefault("securitySchemes", {}).update(schemes)
    return public


def _merge_schemas(public: dict[str, Any], internal: dict[str, Any]) -> dict[str, str]:
    """Add the internal schemas; one whose name the public document already uses for something else is renamed
    (``Internal<Name>``), so neither document's operations silently validate against the other's schema."""
    schemas = public.setdefault("schemas", {})
    renames: dict[str, str] = {}
    for name, schema in internal.get("schemas", {}).items():
        if name in schemas and schemas[name] != schema:
            renames[name] = f"Internal{name}"
        schemas[renames.get(name, name)] = schema
    for name in internal.get("schemas", {}):
        # Refs between internal schemas follow their renames too.
        new = renames.get(name, name)
        schemas[new] = _rewrite_refs(schemas[new], renames)
    return renames


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {key: _rewrite_refs(value, renames) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
            name = ref.removeprefix(_SCHEMA_REF)
            out["$ref"] = _SCHEMA_REF + renames.get(name, name)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(value, renames) for value in node]
    return node


def operation_ids(document: dict[str, Any]) -> dict[str, str]:
    """``{"POST /v1/messages": "createMessage", ...}``: schemathesis labels operations by method and path."""
    out: dict[str, str] = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                out[f"{method.upper()} {path}"] = operation["operationId"]
    return out


def write_document(path: Path) -> dict[str, Any]:
    document = merged_document()
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document
