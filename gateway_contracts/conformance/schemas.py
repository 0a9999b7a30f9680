"""Validating what a gateway answered against the contract's component schemas.

``jsonschema.validate`` checks the schema itself against the meta-schema and builds a validator on every call:
about 7 ms for a component with the whole ``components`` section beside it, more than the call it judges. Here
each component's validator is built once, over the inlined schema (the same schema, its ``$ref`` resolved once),
and a failure raises what ``jsonschema.validate`` raises: the best-matching error.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from contracts import inlined_component_schema


@functools.cache
def validator(component: str) -> jsonschema.Draft202012Validator:
    schema = inlined_component_schema(component)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate(instance: Any, component: str) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``instance`` is a valid ``component``."""
    error = best_match(validator(component).iter_errors(instance))
    if error is not None:
        raise error
