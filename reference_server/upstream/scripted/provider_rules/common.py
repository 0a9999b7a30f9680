"""What the rules of both providers are built from: the refusal they raise, the schema pieces (a contract
component, a tagged union), the compiled validators, and the reading of a validation error's path."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from contracts import inlined_component_schema

Json = dict[str, Any]


class ProviderRefusal(Exception):
    """A request the provider would refuse: its status, Anthropic's error type, a message that quotes nothing
    from the request, and OpenAI's ``param`` and ``code``."""

    def __init__(
        self, status: int, error_type: str, message: str, *, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.param = param
        self.code = code


def contract_component(name: str) -> Json:
    """A component of the contract's OpenAPI document, inlined, to build a provider's schema on."""
    schema = copy.deepcopy(inlined_component_schema(name))
    schema.pop("$schema", None)
    return schema


def tagged(tag: str, variants: Mapping[str, Json], *, required: bool = True) -> Json:
    """An object whose ``tag`` field picks its shape: ``if``/``then`` per value rather than ``oneOf``, so that
    an error is reported inside the one shape the object claims to have, not as "matches none of them"."""
    return {
        "type": "object",
        "required": [tag] if required else [],
        "properties": {tag: {"enum": list(variants)}},
        "allOf": [
            {"if": {"required": [tag], "properties": {tag: {"const": value}}}, "then": shape}
            for value, shape in variants.items()
        ],
    }


@dataclass(frozen=True)
class Rules:
    schema: Json
    fast: jsonschema_rs.Draft202012Validator
    full: Draft202012Validator
    names: frozenset[str]
    """Every field name the schema knows: the only path segments a message may name."""


def _field_names(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            yield from properties
        for value in node.values():
            yield from _field_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _field_names(value)


def compile_rules(schema: Json) -> Rules:
    """A provider's request schema, compiled twice: the fast validator answers "valid?", the reference one
    says what is wrong."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return Rules(
        schema,
        jsonschema_rs.Draft202012Validator(schema),
        Draft202012Validator(schema),
        frozenset(_field_names(schema)),
    )


def first_error(rules: Rules, body: Json) -> ValidationError | None:
    try:
        if rules.fast.is_valid(body):
            return None
    except Exception:  # a value the compiled validator cannot convert: the reference validator judges
        pass
    errors: list[ValidationError] = list(rules.full.iter_errors(body))
    if not errors:
        return None
    # The most specific error: the deepest, and a plain rule before a "matches none of the shapes".
    best: ValidationError = max(
        errors, key=lambda e: (len(e.absolute_path), e.validator not in ("oneOf", "anyOf"))
    )
    return best


def check_schema(
    rules: Rules, body: Json, refusal: Callable[[Rules, ValidationError], ProviderRefusal]
) -> None:
    """Raise ``refusal`` (the provider's wording) for the most specific schema error of ``body``, if any."""
    error = first_error(rules, body)
    if error is not None:
        raise refusal(rules, error)


def segments(rules: Rules, path: Iterable[Any]) -> list[str | int]:
    """A path with every key that is not one of the schema's field names (a key of the client's own, in
    ``metadata`` say) replaced by ``*``."""
    return [p if isinstance(p, int) or p in rules.names else "*" for p in path]


def missing(err: ValidationError) -> list[str]:
    instance = err.instance if isinstance(err.instance, dict) else {}
    required: Any = err.validator_value
    return [k for k in required if k not in instance]


def bad_request(message: str, param: str | None, code: str | None) -> ProviderRefusal:
    return ProviderRefusal(400, "invalid_request_error", message, param=param, code=code)
