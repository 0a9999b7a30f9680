"""The contract as data: the OpenAPI documents, and (as they land) the clauses, the SSE grammar, the capture
invariants, the metrics label rules and the log scrubbing rules.

The gateway and the suite load the same files through these helpers, so they can never disagree on a schema.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, cast

import yaml

CONTRACTS_DIR = Path(__file__).resolve().parent
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""``yaml.safe_load``'s loader, on libyaml when PyYAML has it: the same documents, parsed ~10x faster. Every
check, fuzz and gateway process reads the contract's YAML at start (a quarter of a second in pure Python)."""


def parse_yaml(source: Any) -> Any:
    """``yaml.safe_load`` of a string or an open file, with :data:`SAFE_LOADER`."""
    return yaml.load(source, Loader=SAFE_LOADER)  # a safe loader, C or Python


@functools.cache
def load_yaml(name: str) -> dict[str, Any]:
    """Load a contract file (cached: the files are read-only at run time)."""
    with (CONTRACTS_DIR / name).open(encoding="utf-8") as fh:
        return cast(dict[str, Any], parse_yaml(fh))


def openapi_document() -> dict[str, Any]:
    """The public OpenAPI 3.1 document (`/openapi.json` serves exactly this)."""
    return load_yaml("openapi.yaml")


@functools.cache
def openapi_json() -> bytes:
    return json.dumps(openapi_document(), indent=2, sort_keys=False).encode()


def component_schema(name: str) -> dict[str, Any]:
    """A JSON Schema for one component, self-contained: the whole ``components`` section travels along so that
    ``$ref: "#/components/schemas/..."`` resolves (OpenAPI 3.1 schemas are JSON Schema 2020-12)."""
    doc = openapi_document()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"#/components/schemas/{name}",
        "components": doc["components"],
    }


def inlined_component_schema(name: str) -> dict[str, Any]:
    """The same schema as ``component_schema`` with every ``$ref`` replaced by its target.

    jsonschema resolves a ``$ref`` on every visit; on the gateway's hot path that doubled the cost of validating
    a request. The contract's component schemas are not recursive, so inlining terminates and means the same.
    """
    schemas = openapi_document()["components"]["schemas"]

    def inline(node: Any, trail: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                target = ref.rsplit("/", 1)[-1]
                if target in trail:
                    raise ValueError(f"recursive schema {' -> '.join((*trail, target))}: cannot inline")
                rest = {k: inline(v, trail) for k, v in node.items() if k != "$ref"}
                return {**inline(schemas[target], (*trail, target)), **rest}
            return {k: inline(v, trail) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v, trail) for v in node]
        return node

    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **inline(schemas[name], (name,))}
