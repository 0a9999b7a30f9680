"""The document schemathesis fuzzes: the public contract with the internal ``/metrics`` operation merged in.

``/metrics`` is deliberately absent from the public document (BRIEF §4), yet it must be fuzzed too, above all
for its key check. Merging (rather than fuzzing the two documents in two runs) gives one run, one report and
one seed. Each internal operation keeps its own security requirement (``InternalKey``), so schemathesis'
``ignored_auth`` check knows that a request without the key must be refused.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from contracts import load_yaml
from gateway_contracts.target import Target

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


ENV_DOCUMENT = "GATEWAY_CONTRACTS_FUZZ_DOCUMENT"
SURFACE_OPERATIONS = {
    "messages": ("createMessage",),
    "chat-completions": ("createChatCompletion",),
    "models-list": ("listModels",),
    "discovery": ("getAgentCard", "getLlmsTxt"),
    "openapi": ("getOpenApi",),
}
AINFERA: dict[str, Any] = load_yaml("ainfera.yaml")
AINFERA_OPERATIONS: tuple[str, ...] = tuple(AINFERA["operations"])
"""Operations only the seed's gateway serves, whatever surfaces a target declares."""
SEED_HEADERS = frozenset(
    {AINFERA["stream_mode_header"], AINFERA["agent_id_header"], AINFERA["audit_url_header"], "request-id"}
)
"""Response headers the document declares that are the seed's promises (its request id header included: another
gateway keeps its request id where its target file says)."""


def for_target(document: dict[str, Any], target: Target) -> dict[str, Any]:
    """The document as the target serves it: its surfaces only, its metrics path, its auth styles; without the
    seed's own operations, headers and links unless the target is checked against the ``ainfera`` profile."""
    doc = copy.deepcopy(document)
    ainfera = "ainfera" in target.profiles
    keep = {op for surface in target.surfaces for op in SURFACE_OPERATIONS.get(surface, ())}
    if ainfera:
        keep |= set(AINFERA_OPERATIONS)
    if target.metrics_enabled:
        keep.add("getMetrics")
    paths: dict[str, Any] = {}
    for path, item in doc.get("paths", {}).items():
        kept = {
            method: operation
            for method, operation in item.items()
            if not isinstance(operation, dict) or operation.get("operationId") in keep
        }
        if not any(isinstance(o, dict) and "operationId" in o for o in kept.values()):
            continue
        if not ainfera:
            _drop_seed_promises(kept, "backend-selection" in target.features)
        if any(isinstance(o, dict) and o.get("operationId") == "getMetrics" for o in kept.values()):
            path = target.metrics_path
        paths[path] = kept
    doc["paths"] = paths
    schemes = doc.setdefault("components", {}).setdefault("securitySchemes", {})
    # The client key is a fixed header of every call (fuzz/config.py says why), so the public operations declare
    # no scheme: schemathesis would otherwise send made-up or missing keys that an enforcing gateway refuses
    # before it reads the body under test.
    schemes.pop("ApiKey", None)
    schemes.pop("Bearer", None)
    doc["security"] = []
    if "InternalKey" in schemes and target.metrics_auth != "none":
        schemes["InternalKey"] = _scheme(target.metrics_auth)
    return doc


def _scheme(style: str) -> dict[str, Any]:
    """The OpenAPI security scheme of an auth style (``bearer``, ``header:NAME``, ``x-api-key``)."""
    if style == "bearer":
        return {"type": "http", "scheme": "bearer"}
    name = style.removeprefix("header:") if style.startswith("header:") else "x-api-key"
    return {"type": "apiKey", "in": "header", "name": name}


def _drop_seed_promises(item: dict[str, Any], pins_backends: bool) -> None:
    """Response headers and links of the seed's gateway (its call headers, the audit trail) are its promises,
    not the shape of a Messages answer; the backend pin is a feature a target may not offer."""
    for operation in item.values():
        if not isinstance(operation, dict):
            continue
        if not pins_backends:
            operation["parameters"] = [
                p for p in operation.get("parameters", []) if p != {"$ref": "#/components/parameters/Backend"}
            ]
        for response in operation.get("responses", {}).values():
            if isinstance(response, dict):
                response.pop("links", None)
                headers = response.get("headers")
                if isinstance(headers, dict):
                    for name in [h for h in headers if h.lower() in SEED_HEADERS]:
                        del headers[name]


def write_document(path: Path, target: Target) -> dict[str, Any]:
    document = for_target(merged_document(), target)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document


def written_document() -> dict[str, Any]:
    """The document of this run, as the fuzz command wrote it (the hooks run in schemathesis' process)."""
    path = os.environ.get(ENV_DOCUMENT)
    if path:
        loaded: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
        return loaded
    return merged_document()
