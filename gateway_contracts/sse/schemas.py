"""The per-event JSON Schemas of ``contracts/sse-grammar.yaml``, compiled once per process.

Each event's schema is checked as a 2020-12 schema and translated into a Python predicate
(``gateway_contracts.sse.schema_compile``) when the grammar loads; the predicate decides every event, and a compiled
jsonschema validator (built the first time it is needed) has the last word on each event the predicate rejects, and
says what is wrong with it. The schemas exist in the YAML only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as JsonSchemaError
from jsonschema.exceptions import best_match

from gateway_contracts.sse.schema_compile import Predicate, SchemaCompileError, compile_schemas

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class SchemaError(ValueError):
    """The ``schemas`` section is not usable: not a mapping, an invalid schema, a keyword the checks cannot decide."""


class EventSchemas(Mapping[str, Mapping[str, Any]]):
    """Event → its schema document (self-contained: it carries the shared ``$defs``), with ``passes`` (event →
    compiled predicate) for the hot path and ``problem`` for the rest."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise SchemaError(f"{where}: not a mapping")
        defs = raw.get("$defs", {})
        # Each event's schema becomes a document of its own, carrying the shared $defs so "#/$defs/…" resolves.
        self._documents: dict[str, dict[str, Any]] = {
            event: {"$schema": DRAFT, "$defs": defs, **schema}
            for event, schema in raw.items()
            if event != "$defs"
        }
        # Against the 2020-12 metaschema, all in one document: each event's own document repeats the $defs, and
        # the metaschema check is the slow part of loading the grammar.
        events = {event: schema for event, schema in raw.items() if event != "$defs"}
        try:
            Draft202012Validator.check_schema({"$schema": DRAFT, "$defs": defs, "properties": events})
        except JsonSchemaError as exc:
            path = [str(p) for p in exc.absolute_path][:2]
            at = f".{path[1]}" if path[:1] == ["properties"] and len(path) == 2 else ".$defs"
            raise SchemaError(f"{where}{at}: not a valid JSON Schema: {exc.message}") from None
        try:
            self.passes: Mapping[str, Predicate] = compile_schemas(self._documents, where)
        except SchemaCompileError as exc:
            raise SchemaError(str(exc)) from None
        self._validators: dict[str, Draft202012Validator] = {}

    def __getitem__(self, event: str) -> Mapping[str, Any]:
        return self._documents[event]

    def __iter__(self) -> Iterator[str]:
        return iter(self._documents)

    def __len__(self) -> int:
        return len(self._documents)

    def validator(self, event: str) -> Draft202012Validator:
        """The event's jsonschema validator, compiled the first time it is asked for."""
        validator = self._validators.get(event)
        if validator is None:
            validator = self._validators[event] = Draft202012Validator(self._documents[event])
        return validator

    def problem(self, event: str, obj: Any) -> str | None:
        """None when ``obj`` matches the event's schema, else a one-line reason."""
        if self.passes[event](obj):
            return None
        error = best_match(self.validator(event).iter_errors(obj))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{event} does not match its schema: {where + ': ' if where else ''}{error.message}"

    def schema_valid(self, event: str, obj: Any) -> bool:
        """jsonschema's own verdict, without the compiled predicate (what the agreement tests compare with)."""
        return bool(self.validator(event).is_valid(obj))
